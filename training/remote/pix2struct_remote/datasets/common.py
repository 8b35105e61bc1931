"""Shared pieces of the converters: the error type and careful readers for the source files."""
from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator, List, Sequence


class DatasetError(Exception):
    """A dataset cannot be converted; the message says which file and what the format expects."""


def source_root(source_dir: str | os.PathLike) -> Path:
    """The dataset folder, which must exist."""
    root = Path(source_dir)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist or is not a folder")
    return root


def first_existing(root: Path, candidates: Sequence[str], what: str) -> Path:
    """The first of `candidates` (relative to root) that exists; the error lists them all."""
    for rel in candidates:
        path = root / rel
        if path.exists():
            return path
    listed = ", ".join(str(root / rel) for rel in candidates)
    raise DatasetError(f"{what} not found: expected {listed}")


def find_dir(root: Path, candidates: Sequence[str], what: str) -> Path:
    """The first existing folder among `candidates`."""
    for rel in candidates:
        path = root / rel if rel else root
        if path.is_dir():
            return path
    listed = ", ".join(str(root / rel) for rel in candidates)
    raise DatasetError(f"{what} folder not found: expected one of {listed}")


def read_json(path: Path) -> Any:
    """Parsed JSON, with the file named in every failure."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing") from None
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path} is not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}") from None
    except UnicodeDecodeError as e:
        raise DatasetError(f"{path} is not UTF-8 text: {e}") from None


def read_lines(path: Path) -> List[str]:
    """Non-blank stripped lines of a text file."""
    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing") from None


def read_csv_rows(path: Path, required: Sequence[str]) -> Iterator[dict]:
    """Rows of a CSV with a header line that must name every column in `required`."""
    try:
        f = open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise DatasetError(f"{path} is missing") from None
    with f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(
                f"{path} must start with a header line naming the columns {', '.join(required)}; "
                f"missing {', '.join(missing)} (found {', '.join(reader.fieldnames or []) or 'nothing'})"
            )
        yield from reader


def require_keys(obj: Any, keys: Iterable[str], where: str) -> None:
    """Every key in `keys` is present in the JSON object `obj`."""
    if not isinstance(obj, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DatasetError(f"{where}: missing {', '.join(repr(k) for k in missing)}")


def stable_hash(key: str) -> int:
    """SHA-1 of the key as an integer: the original converters' split hash, the same on every host."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16)


def find_file(dirs: Sequence[Path], name: str, what: str) -> Path:
    """`name` (a relative path) in the first of `dirs` that has it, else its bare file name there."""
    for candidate in [d / name for d in dirs] + [d / Path(name).name for d in dirs]:
        if candidate.is_file():
            return candidate
    raise DatasetError(f"{what} {name} not found in {', '.join(str(d) for d in dirs)}")


def hash_holdout(keys: Iterable[str], percent: int) -> set:
    """The keys held out for evaluation: SHA-1 mod 100 below `percent`, as the original
    SplitAndWriteTFRecords chose, but never none or all of them (when there are two or more)."""
    keys = sorted(set(keys))
    held = {k for k in keys if stable_hash(k) % 100 < percent}
    if keys and not held:
        held = {max(keys, key=stable_hash)}
    if len(keys) > 1 and len(held) == len(keys):
        held.discard(min(keys, key=stable_hash))
    return held
