"""DocVQA: {train,val}/{split}_v1.0.json + {split}/documents/ (or the later spdocvqa_qas/ + spdocvqa_images/).

Like convert_docvqa.py: one record per question, the question as header, every answer a
reference (the first is the training target). The test split has no answers and is left out.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .common import DatasetError, find_file, first_existing, read_json, require_keys
from .writer import DatasetWriter

SPLITS = {"train": "train", "eval": "val"}


def add_questions(writer: DatasetWriter, out_split: str, path: Path, split: str, image_dirs: Sequence[Path],
                  dataset_names: Sequence[str]) -> None:
    """The questions of one DocVQA-style JSON file (DocVQA and InfographicVQA share it)."""
    data = read_json(path)
    require_keys(data, ["data"], str(path))
    name = data.get("dataset_name")
    if name is not None and name not in dataset_names:
        raise DatasetError(f"{path} is a {name!r} file, expected {' or '.join(map(repr, dataset_names))}")
    if data.get("dataset_split", split) != split:
        raise DatasetError(f"{path} holds the {data['dataset_split']!r} split, expected {split!r}")
    for i, q in enumerate(data["data"]):
        where = f"{path} data[{i}]"
        require_keys(q, ["questionId", "question"], where)
        image_name = q.get("image") or q.get("image_local_name")
        if not image_name:
            raise DatasetError(f"{where}: no 'image' or 'image_local_name'")
        answers = q.get("answers")
        if not answers or not all(isinstance(a, str) for a in answers):
            raise DatasetError(f"{where}: 'answers' must be a non-empty list of strings "
                               "(the test split has no answers and cannot be used)")
        picture = find_file(image_dirs, image_name, f"{where}: document image")
        image = writer.link_image(picture, f"{split}-{Path(image_name).name}")
        writer.add(out_split, id=f"{split}-{q['questionId']}", image=image, header=q["question"],
                   target=answers[0], references=answers)


def convert(root: Path, writer: DatasetWriter) -> None:
    for out_split, split in SPLITS.items():
        writer.source_splits[out_split] = split
        path = first_existing(root, [f"{split}/{split}_v1.0.json", f"{split}/{split}_v1.0_withQT.json",
                                     f"spdocvqa_qas/{split}_v1.0_withQT.json", f"{split}_v1.0.json"],
                              f"DocVQA {split} questions")
        dirs = [d for d in (root / split, root / "spdocvqa_images", root / "images") if d.is_dir()]
        add_questions(writer, out_split, path, split, dirs or [root / split], ("docvqa",))
