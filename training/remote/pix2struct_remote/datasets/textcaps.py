"""TextCaps: TextCaps_0.1_{train,val}.json + train_images/<image id>.jpg.

Like convert_textcaps.py: captions are grouped per image (every caption of an image is a
reference), and val images live in train_images/ as in the release.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Dict, List

from .common import DatasetError, find_dir, read_json, require_keys
from .writer import DatasetWriter

SPLITS = {"train": "train", "eval": "val"}


def captions_by_image(path: Path, split: str) -> Dict[str, List[str]]:
    data = read_json(path)
    require_keys(data, ["data"], str(path))
    if data.get("dataset_type", split) != split:
        raise DatasetError(f"{path} holds the {data['dataset_type']!r} split, expected {split!r}")
    grouped: Dict[str, List[str]] = OrderedDict()
    for i, example in enumerate(data["data"]):
        require_keys(example, ["image_id"], f"{path} data[{i}]")
        caption = example.get("caption_str")
        if caption is None:
            continue  # test entries carry no caption
        grouped.setdefault(str(example["image_id"]), []).append(caption)
    return grouped


def convert(root: Path, writer: DatasetWriter) -> None:
    # The caption files first: a wrong folder is best explained by the file that names the dataset.
    by_split = {out: (name, captions_by_image(root / f"TextCaps_0.1_{name}.json", name)) for out, name in SPLITS.items()}
    images = find_dir(root, ["train_images", "images"], "TextCaps train_images")
    for out_split, (name, grouped) in by_split.items():
        writer.source_splits[out_split] = name
        for image_id, captions in grouped.items():
            path = images / f"{image_id}.jpg"
            if not path.is_file():
                raise DatasetError(f"TextCaps image {path} is missing (listed in TextCaps_0.1_{name}.json)")
            image = writer.link_image(path, f"{image_id}.jpg")
            writer.add(out_split, id=f"textcaps-{image_id}", image=image, target=captions[0], references=captions)
