"""RefExp (UIBert): {train,dev|val}.tfrecord of tf.train.Example + RICO screenshots.

Like convert_refexp.py: every expression becomes one record per candidate box, the box drawn
on the screenshot and the expression as header, target "true" for the referred element and
"false" otherwise; a record's `group` ties the candidates of one expression together. Training
keeps the referred element and 5 random other candidates (seeded, so reruns agree); evaluation
keeps every candidate. Expressions whose screenshot is missing are skipped, as the original did.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Dict, List

from PIL import Image

from ..inputs import InputError, draw_box, normalized_to_pixel_box, refexp_header
from .common import DatasetError
from .rico import rico_dir
from .tfrecord import FeatureValues, parse_example, read_records
from .writer import DatasetWriter

SPLITS = {"train": ("train",), "eval": ("val", "dev")}
NEGATIVES_PER_EXPRESSION = 5
_DIRS = ("", "ref_exp", "refexp")
_BOX_KEYS = ("xmin", "ymin", "xmax", "ymax")


def split_files(root: Path, names) -> List[Path]:
    """The split's TFRecord file (or its shards)."""
    for d in _DIRS:
        for name in names:
            found = sorted((root / d).glob(f"{name}.tfrecord*")) if (root / d).is_dir() else []
            if found:
                return found
    expected = ", ".join(str(root / d / f"{n}.tfrecord") for d in _DIRS for n in names)
    raise DatasetError(f"RefExp {names[0]} split not found: expected {expected}")


def _first(features: Dict[str, FeatureValues], key: str, where: str):
    values = features.get(key)
    if not values:
        raise DatasetError(f"{where}: feature {key!r} is missing")
    return values[0]


def convert(root: Path, writer: DatasetWriter) -> None:
    files_by_split = {out: split_files(root, names) for out, names in SPLITS.items()}
    rico = rico_dir(root)
    skipped = 0
    for out_split, files in files_by_split.items():
        split = files[0].name.split(".tfrecord")[0]
        writer.source_splits[out_split] = split
        index = 0
        for path in files:
            for payload in read_records(path):
                where = f"{path} record {index}"
                try:
                    features = parse_example(payload)
                except DatasetError as e:
                    raise DatasetError(f"{where}: {e}") from None
                if not _add_expression(writer, out_split, split, index, features, rico, where):
                    skipped += 1
                index += 1
    if skipped:
        writer.log(f"skipped {skipped} RefExp expressions whose screenshot is missing")


def _add_expression(writer: DatasetWriter, out_split: str, split: str, index: int,
                    features: Dict[str, FeatureValues], rico: Path, where: str) -> bool:
    label = int(_first(features, "image/ref_exp/label", where))
    count = int(_first(features, "image/object/num", where))
    expression = bytes(_first(features, "image/ref_exp/text", where)).decode("utf-8")
    image_id = bytes(_first(features, "image/id", where)).decode("utf-8")
    boxes = {k: features.get(f"image/object/bbox/{k}", []) for k in _BOX_KEYS}
    short = [k for k, v in boxes.items() if len(v) < count]
    if short:
        raise DatasetError(f"{where}: image/object/num says {count} candidates but "
                           f"image/object/bbox/{short[0]} has {len(boxes[short[0]])}")
    if not 0 <= label < count:
        raise DatasetError(f"{where}: image/ref_exp/label {label} is not one of the {count} candidates")
    path = rico / f"{image_id}.jpg"
    if not path.is_file():
        return False
    try:
        header = refexp_header(expression)
    except InputError as e:
        raise DatasetError(f"{where}: {e}") from None

    candidates = [c for c in range(count) if c != label]
    if out_split == "train":
        random.Random(f"{split}-{index}").shuffle(candidates)
        candidates = candidates[:NEGATIVES_PER_EXPRESSION]
    candidates = sorted(candidates + [label])

    with Image.open(path) as screenshot:
        screenshot.load()
        width, height = screenshot.size
        group = f"{split}-{index}"
        for c in candidates:
            try:
                box = normalized_to_pixel_box(*(float(boxes[k][c]) for k in _BOX_KEYS), width, height)
            except InputError as e:
                raise DatasetError(f"{where}: candidate {c}: {e}") from None
            name = f"{group}-{c}"
            image = writer.save_image(draw_box(screenshot, box), key=f"refexp:{name}", name=name)
            target = "true" if c == label else "false"
            writer.add(out_split, id=name, image=image, header=header, target=target, group=group)
    return True
