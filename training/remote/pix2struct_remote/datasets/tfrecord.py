"""Reading TFRecord files of tf.train.Example without TensorFlow (RefExp ships as TFRecords).

A TFRecord file is a sequence of frames: uint64 length, uint32 masked CRC-32C of the length,
the payload, uint32 masked CRC-32C of the payload (all little-endian). The payload here is a
serialized tf.train.Example, decoded with a small protocol-buffer wire reader.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Dict, Iterator, List, Tuple, Union

from .common import DatasetError

FeatureValues = Union[List[bytes], List[float], List[int]]


def _crc32c_table() -> List[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path: Path) -> Iterator[bytes]:
    """Payloads of a TFRecord file. The length CRC is checked (it catches a file that is not a
    TFRecord at all); payload CRCs are not, as pure-Python CRC over gigabytes is too slow."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing") from None
    with f:
        index = 0
        while True:
            header = f.read(12)
            if not header:
                return
            if len(header) < 12:
                raise DatasetError(f"{path} is truncated in record {index}")
            length_bytes, length_crc = header[:8], struct.unpack("<I", header[8:])[0]
            if masked_crc(length_bytes) != length_crc:
                raise DatasetError(f"{path} is not a TFRecord file (bad length checksum in record {index})")
            (length,) = struct.unpack("<Q", length_bytes)
            payload = f.read(length)
            if len(payload) < length or len(f.read(4)) < 4:
                raise DatasetError(f"{path} is truncated in record {index}")
            yield payload
            index += 1


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[Tuple[int, int, Union[int, bytes]]]:
    """(field number, wire type, value) of one message; length-delimited values as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated field")
        yield number, wire, value


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _feature(buf: bytes) -> FeatureValues:
    # Feature: oneof bytes_list = 1, float_list = 2, int64_list = 3; each list has `value = 1`.
    for kind, _, inner in _fields(buf):
        values: list = []
        for number, wire, v in _fields(inner):  # type: ignore[arg-type]
            if number != 1:
                continue
            if kind == 1:
                values.append(bytes(v))  # type: ignore[arg-type]
            elif kind == 2:
                if wire == 2:  # packed
                    values.extend(struct.unpack(f"<{len(v) // 4}f", v))  # type: ignore[arg-type]
                else:
                    values.append(struct.unpack("<f", v)[0])  # type: ignore[arg-type]
            elif kind == 3:
                if wire == 2:
                    pos = 0
                    while pos < len(v):  # type: ignore[arg-type]
                        n, pos = _varint(v, pos)  # type: ignore[arg-type]
                        values.append(_signed64(n))
                else:
                    values.append(_signed64(v))  # type: ignore[arg-type]
        return values
    return []


def parse_example(payload: bytes) -> Dict[str, FeatureValues]:
    """feature name -> values of a serialized tf.train.Example (Example.features = 1,
    Features.feature = 1 as map entries of key = 1, value = 2)."""
    features: Dict[str, FeatureValues] = {}
    try:
        for number, _, features_msg in _fields(payload):
            if number != 1:
                continue
            for entry_number, _, entry in _fields(features_msg):  # type: ignore[arg-type]
                if entry_number != 1:
                    continue
                key, value = "", b""
                for n, _, v in _fields(entry):  # type: ignore[arg-type]
                    if n == 1:
                        key = bytes(v).decode("utf-8")  # type: ignore[arg-type]
                    elif n == 2:
                        value = v  # type: ignore[assignment]
                features[key] = _feature(value)  # type: ignore[arg-type]
    except (ValueError, struct.error, UnicodeDecodeError) as e:
        raise DatasetError(f"record is not a valid tf.train.Example: {e}") from None
    return features
