"""Writes tf.train.Example TFRecords for the RefExp tests without TensorFlow.

The Example messages are encoded by the real protobuf library (from a descriptor of
tensorflow/core/example/{example,feature}.proto built here), so the converter's hand-written
decoder is checked against an independent encoder. proto3 packs repeated numbers, proto2 does
not: both encodings occur in the wild and both are written by the tests.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Dict, Iterable, List, Union

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

Value = Union[List[bytes], List[float], List[int]]

_F = descriptor_pb2.FieldDescriptorProto


def _example_class(syntax: str):
    file = descriptor_pb2.FileDescriptorProto(name=f"example_{syntax}.proto", package=f"tf_{syntax}", syntax=syntax)

    def message(name, fields):
        m = file.message_type.add(name=name)
        for field in fields:
            m.field.add(**field)
        return m

    repeated = _F.LABEL_REPEATED
    optional = _F.LABEL_OPTIONAL
    message("BytesList", [dict(name="value", number=1, label=repeated, type=_F.TYPE_BYTES)])
    message("FloatList", [dict(name="value", number=1, label=repeated, type=_F.TYPE_FLOAT)])
    message("Int64List", [dict(name="value", number=1, label=repeated, type=_F.TYPE_INT64)])
    feature = message("Feature", [
        dict(name="bytes_list", number=1, label=optional, type=_F.TYPE_MESSAGE, type_name=f".tf_{syntax}.BytesList", oneof_index=0),
        dict(name="float_list", number=2, label=optional, type=_F.TYPE_MESSAGE, type_name=f".tf_{syntax}.FloatList", oneof_index=0),
        dict(name="int64_list", number=3, label=optional, type=_F.TYPE_MESSAGE, type_name=f".tf_{syntax}.Int64List", oneof_index=0),
    ])
    feature.oneof_decl.add(name="kind")
    features = message("Features", [dict(name="feature", number=1, label=repeated, type=_F.TYPE_MESSAGE,
                                         type_name=f".tf_{syntax}.Features.FeatureEntry")])
    entry = features.nested_type.add(name="FeatureEntry")
    entry.field.add(name="key", number=1, label=optional, type=_F.TYPE_STRING)
    entry.field.add(name="value", number=2, label=optional, type=_F.TYPE_MESSAGE, type_name=f".tf_{syntax}.Feature")
    entry.options.map_entry = True
    message("Example", [dict(name="features", number=1, label=optional, type=_F.TYPE_MESSAGE,
                             type_name=f".tf_{syntax}.Features")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"tf_{syntax}.Example"))


def encode_example(features: Dict[str, Value], packed: bool = True) -> bytes:
    """A serialized tf.train.Example; bytes values -> bytes_list, float -> float_list, int -> int64_list."""
    example = _example_class("proto3" if packed else "proto2")()
    for key, values in features.items():
        feature = example.features.feature[key]
        if all(isinstance(v, bytes) for v in values):
            feature.bytes_list.value.extend(values)
        elif all(isinstance(v, int) for v in values):
            feature.int64_list.value.extend(values)
        else:
            feature.float_list.value.extend(float(v) for v in values)
    return example.SerializeToString()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), bit by bit; check value crc32c(b"123456789") == 0xE3069283."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def write_tfrecord(path: Path, payloads: Iterable[bytes]) -> Path:
    """TFRecord framing: length, masked CRC of length, payload, masked CRC of payload."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        for payload in payloads:
            length = struct.pack("<Q", len(payload))
            f.write(length + struct.pack("<I", _masked(length)) + payload + struct.pack("<I", _masked(payload)))
    return path
