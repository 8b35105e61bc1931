"""OCR-VQA: dataset.json + images/<id>.jpg.

Like convert_ocrvqa.py: dataset.json maps each book cover id to its questions and answers and a
split (1 train, 2 val, 3 test); one record per question, the question as header.
"""
from __future__ import annotations

from pathlib import Path

from .common import DatasetError, read_json, require_keys
from .writer import DatasetWriter

SPLITS = {"train": 1, "eval": 2}
EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif")


def cover(images: Path, image_id: str, where: str) -> Path:
    for ext in EXTENSIONS:  # the original expects .jpg; the download script keeps the URL's extension
        path = images / f"{image_id}{ext}"
        if path.is_file():
            return path
    raise DatasetError(f"{where}: cover image {images / (image_id + '.jpg')} is missing")


def convert(root: Path, writer: DatasetWriter) -> None:
    path = root / "dataset.json"
    data = read_json(path)
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object of book id -> questions, answers, split")
    images = root / "images"
    if not images.is_dir():
        raise DatasetError(f"OCR-VQA cover images folder {images} is missing")
    writer.source_splits.update(train="split 1 (train)", eval="split 2 (val)")
    wanted = {v: k for k, v in SPLITS.items()}
    for image_id, entry in data.items():
        where = f"{path} entry {image_id!r}"
        require_keys(entry, ["questions", "answers", "split"], where)
        out_split = wanted.get(entry["split"])
        if out_split is None:
            continue
        if len(entry["questions"]) != len(entry["answers"]):
            raise DatasetError(f"{where}: {len(entry['questions'])} questions but {len(entry['answers'])} answers")
        if not entry["questions"]:
            continue
        image = writer.link_image(cover(images, image_id, where))
        for n, (question, answer) in enumerate(zip(entry["questions"], entry["answers"])):
            writer.add(out_split, id=f"{image_id}-{n}", image=image, header=question, target=str(answer))
