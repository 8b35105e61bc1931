"""OCR-VQA: dataset.json (split 1 train, 2 val, 3 test) + images/."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_image, write_json


def make_ocrvqa(root: Path) -> None:
    write_image(root / "images" / "0001.jpg", color=(90, 10, 10))
    write_image(root / "images" / "0002.png", color=(10, 90, 10))
    write_image(root / "images" / "0003.jpg", color=(10, 10, 90))
    write_json(root / "dataset.json", {
        "0001": {"imageURL": "http://x/0001.jpg", "questions": ["Who wrote this book?", "Is this a novel?"],
                 "answers": ["Jane Austen", "Yes"], "title": "Emma", "split": 1},
        "0002": {"questions": ["What is the title of this book?"], "answers": ["Dune"], "split": 2},
        "0003": {"questions": ["held back"], "answers": ["x"], "split": 3},
    })


def test_questions_per_cover_and_split(tmp_path: Path):
    make_ocrvqa(tmp_path / "ov")
    info = convert("ocrvqa", tmp_path / "ov", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["metric"], info["counts"]) == ("exact_match", {"train": 2, "eval": 1})
    assert [(r["id"], r["header"], r["target"]) for r in train + evals] == [
        ("0001-0", "Who wrote this book?", "Jane Austen"),
        ("0001-1", "Is this a novel?", "Yes"),
        ("0002-0", "What is the title of this book?", "Dune"),
    ]
    assert (tmp_path / "out" / evals[0]["image"]).read_bytes() == (tmp_path / "ov" / "images" / "0002.png").read_bytes()


def test_ocrvqa_problems_are_reported(tmp_path: Path):
    root = tmp_path / "ov"
    make_ocrvqa(root)
    (root / "images" / "0002.png").unlink()
    with pytest.raises(DatasetError, match=r"dataset\.json entry '0002': cover image .*images/0002\.jpg is missing"):
        convert("ocrvqa", root, tmp_path / "out")
    write_json(root / "dataset.json", {"0001": {"questions": ["a", "b"], "answers": ["c"], "split": 1}})
    with pytest.raises(DatasetError, match=r"entry '0001': 2 questions but 1 answers"):
        convert("ocrvqa", root, tmp_path / "out")
    (root / "dataset.json").unlink()
    with pytest.raises(DatasetError, match=r"dataset\.json is missing"):
        convert("ocrvqa", root, tmp_path / "out")
