"""Widget Captioning: widget_captions.csv + split files + RICO combined/<id>.jpg and <id>.json.

Like convert_widget_captioning.py: one record per (screen, node), the node's bounds taken from
the RICO view hierarchy (a 1440 x 2560 canvas, scaled by the screenshot's height / 2560) and
drawn as a 1-pixel blue box; the "|"-separated captions are the references.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

from PIL import Image

from ..inputs import InputError, draw_box, rico_bounds_to_pixel_box
from .common import DatasetError, read_csv_rows, read_json, read_lines
from .rico import rico_dir, screenshot
from .writer import DatasetWriter

# The release has split/{train,dev,test}.txt; the original converter read {train,val,test}.txt.
SPLITS = {"train": ("train",), "eval": ("dev", "val")}
_SPLIT_DIRS = ("split", "")


def split_ids(root: Path, names) -> Tuple[str, set]:
    for d in _SPLIT_DIRS:
        for name in names:
            path = root / d / f"{name}.txt"
            if path.is_file():
                return name, set(read_lines(path))
    expected = ", ".join(str(root / d / f"{n}.txt") for d in _SPLIT_DIRS for n in names)
    raise DatasetError(f"Widget Captioning {names[0]} split not found: expected {expected}")


def node_bounds(hierarchy: dict, node_id: str, where: str) -> List[float]:
    """Bounds of the node at `node_id` ("<root>.<child index>.<child index>...")."""
    try:
        node = hierarchy["activity"]["root"]
        for part in node_id.split(".")[1:]:
            node = node["children"][int(part)]
        return node["bounds"]
    except (KeyError, IndexError, TypeError, ValueError):
        raise DatasetError(f"{where}: node {node_id!r} not found in the view hierarchy") from None


def convert(root: Path, writer: DatasetWriter) -> None:
    csv_path = root / "widget_captions.csv"
    if not csv_path.is_file():
        raise DatasetError(f"{csv_path} is missing (Widget Captioning's screenId,nodeId,captions table)")
    rico = rico_dir(root)

    @lru_cache(maxsize=4)
    def hierarchy(screen_id: str) -> dict:
        path = rico / f"{screen_id}.json"
        if not path.is_file():
            raise DatasetError(f"RICO view hierarchy {path} is missing (screen {screen_id})")
        return read_json(path)

    @lru_cache(maxsize=4)
    def picture(screen_id: str) -> Image.Image:
        with Image.open(screenshot(rico, screen_id)) as im:
            return im.convert("RGB")

    for out_split, names in SPLITS.items():
        name, ids = split_ids(root, names)
        writer.source_splits[out_split] = name
        for n, row in enumerate(read_csv_rows(csv_path, ["screenId", "nodeId", "captions"]), start=2):
            screen_id, node_id = row["screenId"].strip(), row["nodeId"].strip()
            if screen_id not in ids:
                continue
            where = f"{csv_path} line {n}"
            captions = [c.strip() for c in (row["captions"] or "").split("|") if c.strip()]
            if not captions:
                raise DatasetError(f"{where}: no captions")
            bounds = node_bounds(hierarchy(screen_id), node_id, f"{where} ({rico / (screen_id + '.json')})")
            image = picture(screen_id)
            try:
                box = rico_bounds_to_pixel_box(bounds, image.height)
            except InputError as e:
                raise DatasetError(f"{where}: {e}") from None
            record_id = f"{screen_id}_{node_id}"
            drawn = writer.save_image(draw_box(image, box), key=f"widget:{record_id}", name=record_id)
            writer.add(out_split, id=record_id, image=drawn, target=captions[0], references=captions)
