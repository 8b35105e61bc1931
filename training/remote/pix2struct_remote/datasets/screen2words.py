"""Screen2Words: screen_summaries.csv + split/{train,dev}_screens.txt + RICO screenshots.

Like convert_screen2words.py: one record per screen with all its summaries as references;
the dev split is the evaluation split. The screenshot is used unchanged.
"""
from __future__ import annotations

import csv
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List

from .common import DatasetError, find_dir, read_lines
from .rico import rico_dir, screenshot
from .writer import DatasetWriter

SPLITS = {"train": "train", "eval": "dev"}


def read_summaries(path: Path) -> Dict[str, List[str]]:
    """screen id -> summaries, in file order."""
    summaries: Dict[str, List[str]] = OrderedDict()
    try:
        f = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing (Screen2Words' screen_summaries.csv: screenId,summary)") from None
    with f:
        for n, row in enumerate(csv.reader(f), start=1):
            if not row or not "".join(row).strip():
                continue
            if n == 1 and row[0].strip() == "screenId":
                continue
            if len(row) < 2:
                raise DatasetError(f"{path} line {n}: expected screenId,summary, got {','.join(row)!r}")
            # The original splits each line at its first comma, so unquoted commas belong to the summary.
            screen_id, summary = row[0].strip(), ",".join(row[1:]).strip()
            summaries.setdefault(screen_id, []).append(summary)
    if not summaries:
        raise DatasetError(f"{path} has no summaries")
    return summaries


def convert(root: Path, writer: DatasetWriter) -> None:
    summaries = read_summaries(root / "screen_summaries.csv")
    split_dir = find_dir(root, ["split", ""], "Screen2Words split")
    rico = rico_dir(root)
    for out_split, name in SPLITS.items():
        writer.source_splits[out_split] = name
        for screen_id in read_lines(split_dir / f"{name}_screens.txt"):
            refs = summaries.get(screen_id)
            if not refs:
                continue  # the original's join drops split ids without summaries
            image = writer.link_image(screenshot(rico, screen_id), f"{screen_id}.jpg")
            writer.add(out_split, id=f"screen-{screen_id}", image=image, target=refs[0], references=refs)
