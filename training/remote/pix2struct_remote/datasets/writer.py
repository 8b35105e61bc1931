"""Writes the converted dataset: train.jsonl, eval.jsonl, images/ and info.json (training/PROTOCOL.md)."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence

from PIL import Image

from .common import DatasetError

SPLITS = ("train", "eval")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Log = Callable[[str], None]


def safe_name(name: str) -> str:
    """A file name made only of letters, digits, '.', '_' and '-' (never empty, never hidden)."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "image"
    return cleaned


class DatasetWriter:
    """Collects records and images in a scratch folder beside `out_dir`, then moves it into place.

    Building beside the target means a failed conversion leaves no half-written dataset where the
    trainer would look for one.
    """

    def __init__(self, out_dir: str | os.PathLike, task: str, metric: str, fmt: str,
                 log: Optional[Log] = None) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and (not self.out_dir.is_dir() or any(self.out_dir.iterdir())):
            raise DatasetError(f"output folder {self.out_dir} already exists and is not empty; "
                               "convert into a new or empty folder")
        self.task, self.metric, self.fmt = task, metric, fmt
        self.scratch = self.out_dir.with_name(self.out_dir.name + ".partial")
        if self.scratch.exists():
            shutil.rmtree(self.scratch)
        (self.scratch / "images").mkdir(parents=True)
        self._files = {split: open(self.scratch / f"{split}.jsonl", "w", encoding="utf-8") for split in SPLITS}
        self.counts: Dict[str, int] = {split: 0 for split in SPLITS}
        self._images: Dict[str, str] = {}  # source key -> images/<name>
        self._names: set = set()
        self._log = log
        self.source_splits: Dict[str, str] = {}

    # Images -----------------------------------------------------------------------------------

    def _reserve(self, name: str) -> str:
        rel = "images/" + safe_name(name)
        stem, dot, ext = rel.rpartition(".")
        if not dot:
            stem, ext = rel, ""
        n = 1
        while rel.lower() in self._names:  # lower: case-insensitive file systems
            n += 1
            rel = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        self._names.add(rel.lower())
        return rel

    def link_image(self, source: Path, name: Optional[str] = None) -> str:
        """The unchanged source picture in images/ (hard link, or a copy across file systems)."""
        key = "file:" + str(source.resolve())
        if key in self._images:
            return self._images[key]
        if not source.is_file():
            raise DatasetError(f"image {source} is missing")
        rel = self._reserve(name or source.name)
        try:
            os.link(source, self.scratch / rel)
        except OSError:
            shutil.copyfile(source, self.scratch / rel)
        self._images[key] = rel
        return rel

    def save_image(self, image: Image.Image, key: str, name: str) -> str:
        """A drawn picture saved losslessly as PNG (a JPEG would smear the 1-px box)."""
        if key in self._images:
            return self._images[key]
        if not name.lower().endswith(".png"):
            name += ".png"
        rel = self._reserve(name)
        image.save(self.scratch / rel, format="PNG", compress_level=3)
        self._images[key] = rel
        return rel

    def log(self, line: str) -> None:
        """A progress line for the run log, when the caller asked for them."""
        if self._log:
            self._log(line)

    # Records ----------------------------------------------------------------------------------

    def add(self, split: str, *, id: str, image: str, target: str, header: Optional[str] = None,
            references: Optional[Sequence[str]] = None, group: Optional[str] = None) -> None:
        """One record; `references` defaults to [target]."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if not isinstance(target, str):
            raise DatasetError(f"record {id}: target must be text, got {type(target).__name__}")
        refs = list(references) if references else [target]
        record = {"id": id, "image": image, "header": header, "target": target,
                  "references": refs, "group": group}
        self._files[split].write(json.dumps(record, ensure_ascii=False) + "\n")
        self.counts[split] += 1
        total = self.counts["train"] + self.counts["eval"]
        if total % 1000 == 0:
            self.log(f"converted {total} records")

    # Finish -----------------------------------------------------------------------------------

    def finish(self) -> dict:
        """Checks both splits have records, writes info.json and moves the folder into place."""
        for f in self._files.values():
            f.close()
        empty = [s for s in SPLITS if self.counts[s] == 0]
        if empty:
            self.abort()
            raise DatasetError(f"the {self.fmt} dataset gave no {' and no '.join(empty)} records; "
                               "check that the split files list images that exist")
        info = {"task": self.task, "metric": self.metric, "format": self.fmt,
                "counts": dict(self.counts), "source_splits": dict(self.source_splits)}
        with open(self.scratch / "info.json", "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2)
            f.write("\n")
        if self.out_dir.exists():
            self.out_dir.rmdir()  # empty, checked in __init__
        os.replace(self.scratch, self.out_dir)
        self.log(f"dataset ready: {self.counts['train']} train and {self.counts['eval']} eval records")
        return info

    def abort(self) -> None:
        """Drops the scratch folder after a failure."""
        for f in self._files.values():
            if not f.closed:
                f.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


def convert_with(writer: DatasetWriter, body: Callable[[DatasetWriter], None]) -> dict:
    """Runs a converter body, removing the scratch folder if it fails."""
    try:
        body(writer)
    except BaseException:
        writer.abort()
        raise
    return writer.finish()

