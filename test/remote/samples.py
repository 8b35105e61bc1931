"""Small datasets in the original release layouts, written by the tests with Pillow.

Each picture is a flat colour with a distinct marker so a test can tell which source file a
converted image came from.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

from PIL import Image

Color = Tuple[int, int, int]


def write_image(path: Path, size: Tuple[int, int] = (40, 30), color: Color = (200, 200, 200),
                fmt: str | None = None) -> Path:
    """A flat-colour picture; JPEG files are saved at the highest quality."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, color)
    fmt = fmt or ("JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG")
    image.save(path, format=fmt, **({"quality": 100} if fmt == "JPEG" else {}))
    return path


def write_json(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_jsonl(path: Path) -> List[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_output(out: Path) -> Tuple[List[dict], List[dict], dict]:
    """train records, eval records and info.json of a converted dataset."""
    info = json.loads((out / "info.json").read_text(encoding="utf-8"))
    return read_jsonl(out / "train.jsonl"), read_jsonl(out / "eval.jsonl"), info


def pixel(out: Path, record: dict, xy: Tuple[int, int]) -> Color:
    with Image.open(out / record["image"]) as im:
        return im.convert("RGB").getpixel(xy)


BLUE = (0, 0, 255)


def outline_pixels(x0: int, y0: int, x1: int, y1: int) -> set:
    """The pixels of a 1-px rectangle outline with inclusive corners (x0, y0)-(x1, y1)."""
    return ({(x, y) for x in range(x0, x1 + 1) for y in (y0, y1)}
            | {(x, y) for y in range(y0, y1 + 1) for x in (x0, x1)})


def changed_pixels(before: Path, after: Path) -> dict:
    """{(x, y): new colour} for every pixel that differs between two pictures of one size."""
    with Image.open(before) as a, Image.open(after) as b:
        a, b = a.convert("RGB"), b.convert("RGB")
        assert a.size == b.size
        w = a.width
        return {(i % w, i // w): pb for i, (pa, pb) in enumerate(zip(a.getdata(), b.getdata())) if pa != pb}
