"""Custom datasets: a folder of pictures plus train.jsonl (and optionally eval.jsonl).

Each line: {"image": "relative/path.png", "target": "expected output", "header": "optional
question"} and optionally "references": ["other", "acceptable outputs"]. Without eval.jsonl,
about 10% of the pictures (chosen by a hash of their path, so the choice is the same on every
run and questions about one picture never straddle the split) are held out for evaluation.
"""
from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Dict, List, Optional

from PIL import Image, UnidentifiedImageError

from .common import DatasetError, hash_holdout
from .writer import DatasetWriter

EVAL_PERCENT = 10


def _text(value: object, field: str, where: str, optional: bool = False) -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not optional and not value.strip()):
        raise DatasetError(f"{where}: {field!r} must be a non-empty string, got {json.dumps(value)}")
    return value


def read_records(root: Path, name: str) -> List[dict]:
    """Validated lines of root/name; every error names the file and line."""
    path = root / name
    records = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.readlines()
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetError(f"{where} is not valid JSON: {e.msg} (column {e.colno})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{where}: expected a JSON object like "
                               '{"image": "a.png", "target": "text"}')
        if "target" not in obj:
            raise DatasetError(f"{where}: missing \"target\" (the text the model should output)")
        if "image" not in obj:
            raise DatasetError(f"{where}: missing \"image\" (a picture's path relative to {root})")
        image_rel = _text(obj["image"], "image", where)
        target = _text(obj["target"], "target", where)
        header = _text(obj.get("header"), "header", where, optional=True)
        refs = obj.get("references")
        if refs is not None:
            if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
                raise DatasetError(f"{where}: \"references\" must be a non-empty list of strings")
        # Lexical check, so a dataset may keep its pictures behind symbolic links.
        key = posixpath.normpath(image_rel.replace("\\", "/"))
        if key.startswith("/") or key == ".." or key.startswith("../"):
            raise DatasetError(f"{where}: image {image_rel!r} points outside the dataset folder {root}")
        image_path = root / key
        if not image_path.is_file():
            raise DatasetError(f"{where}: image {image_rel!r} not found (looked for {image_path})")
        try:
            with Image.open(image_path) as im:
                im.size  # reads the header only
        except (UnidentifiedImageError, OSError) as e:
            raise DatasetError(f"{where}: image {image_rel!r} is not a readable picture ({e})") from None
        records.append({"line": n, "image": image_path, "image_rel": key, "target": target,
                        "header": header, "references": refs})
    if not records:
        raise DatasetError(f"{path} has no records")
    return records


def hold_out(records: List[dict]) -> Dict[str, List[dict]]:
    """Deterministic train/eval split by picture."""
    if len({r["image_rel"] for r in records}) < 2:
        raise DatasetError("cannot hold out an evaluation slice from a single picture: "
                           "add more pictures or an eval.jsonl")
    held = hash_holdout((r["image_rel"] for r in records), EVAL_PERCENT)
    return {"train": [r for r in records if r["image_rel"] not in held],
            "eval": [r for r in records if r["image_rel"] in held]}


def convert(root: Path, writer: DatasetWriter) -> None:
    if not (root / "train.jsonl").is_file():
        raise DatasetError(f"{root / 'train.jsonl'} is missing: a custom dataset is a folder of pictures "
                           'plus train.jsonl with lines like {"image": "a.png", "target": "text"}')
    train = read_records(root, "train.jsonl")
    if (root / "eval.jsonl").is_file():
        splits = {"train": train, "eval": read_records(root, "eval.jsonl")}
        writer.source_splits.update(train="train.jsonl", eval="eval.jsonl")
    else:
        splits = hold_out(train)
        writer.source_splits.update(train="train.jsonl", eval=f"train.jsonl (held-out {EVAL_PERCENT}% of pictures)")
    for split, records in splits.items():
        source = "eval" if split == "eval" and "eval.jsonl" in writer.source_splits["eval"] else "train"
        for r in records:
            image = writer.link_image(r["image"], r["image_rel"].replace("/", "_"))
            writer.add(split, id=f"{source}-{r['line']}", image=image, target=r["target"],
                       header=r["header"], references=r["references"])
