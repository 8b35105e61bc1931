"""Converters from each dataset's original release layout to the run's data/ folder.

`convert(fmt, source_dir, out_dir)` writes out_dir/train.jsonl, eval.jsonl, images/ and
info.json as training/PROTOCOL.md describes, and returns the info.json content. Every problem
with the source raises DatasetError naming the file and what the format expects.
"""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Callable, List, Optional

from ..metrics import METRICS_BY_TASK, primary_metric
from .common import DatasetError, source_root
from .writer import DatasetWriter, convert_with

# format -> module in this package with `convert(root, writer)`.
_MODULES = {
    "textcaps": "textcaps",
    "chartqa": "chartqa",
    "screen2words": "screen2words",
    "widget_captioning": "widget_captioning",
    "refexp": "refexp",
    "docvqa": "docvqa",
    "infographicvqa": "infographicvqa",
    "ocrvqa": "ocrvqa",
    "ai2d": "ai2d",
    "custom": "custom",
}
FORMATS = tuple(_MODULES)

__all__ = ["FORMATS", "DatasetError", "convert", "read_split"]


def convert(fmt: str, source_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
            task: Optional[str] = None, log: Optional[Callable[[str], None]] = None) -> dict:
    """Converts the dataset in `source_dir` (original layout of `fmt`) into `out_dir`.

    `task` only matters for custom data, whose records can be scored with any task's metric
    (default: the custom metrics). `log` receives progress lines. Returns info.json's content.
    """
    if fmt not in _MODULES:
        raise DatasetError(f"unknown dataset format {fmt!r}; expected one of {', '.join(FORMATS)}")
    task = task or fmt
    if task not in METRICS_BY_TASK:
        raise DatasetError(f"unknown task {task!r}; expected one of {', '.join(METRICS_BY_TASK)}")
    if fmt != "custom" and task != fmt:
        raise DatasetError(f"a {fmt} dataset trains the {fmt} task, not {task}")
    root = source_root(source_dir)
    module = importlib.import_module(f"{__name__}.{_MODULES[fmt]}")
    writer = DatasetWriter(out_dir, task=task, metric=primary_metric(task), fmt=fmt, log=log)
    return convert_with(writer, lambda w: module.convert(root, w))


def read_split(data_dir: str | os.PathLike, split: str) -> List[dict]:
    """The records of a converted dataset's train or eval split, in file order."""
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    path = Path(data_dir) / f"{split}.jsonl"
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing: convert the dataset first") from None
