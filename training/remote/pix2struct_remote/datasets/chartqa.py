"""ChartQA: {train,val}/{split}_{human,augmented}.json + {split}/png/.

Like convert_chartqa.py (whose human and augmented halves pix2struct trains as one mixture):
one record per question, the question as header and the label as target.
"""
from __future__ import annotations

from pathlib import Path

from .common import DatasetError, read_json, require_keys
from .writer import DatasetWriter

SPLITS = {"train": "train", "eval": "val"}
VERSIONS = ("human", "augmented")


def _answer(value: object, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise DatasetError(f"{where}: 'label' must be text or a number, got {value!r}")


def convert(root: Path, writer: DatasetWriter) -> None:
    if not (root / "train").is_dir() and (root / "ChartQA Dataset").is_dir():
        root = root / "ChartQA Dataset"  # the release zip's top folder
    for out_split, split in SPLITS.items():
        files = [(v, root / split / f"{split}_{v}.json") for v in VERSIONS]
        present = [(v, p) for v, p in files if p.is_file()]
        if not present:
            raise DatasetError(f"ChartQA {split} split not found: expected {files[0][1]} and/or {files[1][1]}")
        writer.source_splits[out_split] = " + ".join(f"{split}_{v}" for v, _ in present)
        for version, path in present:
            data = read_json(path)
            if not isinstance(data, list):
                raise DatasetError(f"{path}: expected a JSON list of {{imgname, query, label}}")
            for i, example in enumerate(data):
                where = f"{path} entry {i}"
                require_keys(example, ["imgname", "query", "label"], where)
                picture = root / split / "png" / example["imgname"]
                if not picture.is_file():
                    raise DatasetError(f"{where}: chart {picture} is missing")
                image = writer.link_image(picture, f"{split}-{example['imgname']}")
                writer.add(out_split, id=f"{split}_{version}_{i}", image=image, header=str(example["query"]),
                           target=_answer(example["label"], where))
