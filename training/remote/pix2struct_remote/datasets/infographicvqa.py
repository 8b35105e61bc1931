"""InfographicVQA: infographicVQA_{train,val}_v1.0.json + the infographics.

The release names vary (infographicVQA_/infographicsVQA_, an optional _withQT suffix) and so
does the image folder; both are looked for in the usual places. Records as for DocVQA.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

from .common import DatasetError
from .docvqa import add_questions
from .writer import DatasetWriter

SPLITS = {"train": "train", "eval": "val"}
IMAGE_DIRS = ("{split}", "images", "infographicsvqa_images", "infographicVQA_images",
              "infographicVQA_{split}_v1.0_images", "")


def questions_file(root: Path, split: str) -> Path:
    pattern = re.compile(rf"infographics?vqa_{split}_v1\.0(_withqt)?\.json", re.IGNORECASE)
    for folder in (root, root / split):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if pattern.fullmatch(path.name):
                    return path
    docvqa_style = root / split / f"{split}_v1.0.json"
    if docvqa_style.is_file():
        return docvqa_style
    raise DatasetError(f"InfographicVQA {split} questions not found: expected {root}/infographicVQA_{split}_v1.0.json "
                       f"(or infographicsVQA_..., _withQT) or {docvqa_style}")


def image_dirs(root: Path, split: str) -> List[Path]:
    return [root / d.format(split=split) for d in IMAGE_DIRS if (root / d.format(split=split)).is_dir()]


def convert(root: Path, writer: DatasetWriter) -> None:
    for out_split, split in SPLITS.items():
        writer.source_splits[out_split] = split
        add_questions(writer, out_split, questions_file(root, split), split, image_dirs(root, split),
                      ("infographicVQA", "infographicsVQA", "infographicvqa"))
