"""ChartQA: {split}/{split}_human.json, {split}_augmented.json and {split}/png/."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_image, write_json


def make_chartqa(root: Path) -> None:
    for split in ("train", "val", "test"):
        write_image(root / split / "png" / "c1.png", color=(10, 20, 30))
        write_image(root / split / "png" / "c2.png", color=(30, 20, 10))
    write_json(root / "train" / "train_human.json", [{"imgname": "c1.png", "query": "What is the peak?", "label": "42"}])
    write_json(root / "train" / "train_augmented.json", [
        {"imgname": "c2.png", "query": "Which year is lowest?", "label": "2001"},
        {"imgname": "c1.png", "query": "How many bars?", "label": 5},
    ])
    write_json(root / "val" / "val_human.json", [{"imgname": "c2.png", "query": "Is it rising?", "label": "Yes"}])
    write_json(root / "test" / "test_human.json", [{"imgname": "c1.png", "query": "held back", "label": "0"}])


def test_human_and_augmented_questions_become_records_with_the_question_as_header(tmp_path: Path):
    make_chartqa(tmp_path / "cq")
    info = convert("chartqa", tmp_path / "cq", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["metric"], info["counts"]) == ("relaxed_accuracy", {"train": 3, "eval": 1})
    assert info["source_splits"] == {"train": "train_human + train_augmented", "eval": "val_human"}
    assert [(r["id"], r["header"], r["target"], r["references"]) for r in train] == [
        ("train_human_0", "What is the peak?", "42", ["42"]),
        ("train_augmented_0", "Which year is lowest?", "2001", ["2001"]),
        ("train_augmented_1", "How many bars?", "5", ["5"]),
    ]
    assert train[0]["image"] == train[2]["image"]  # one copy of a chart asked about twice
    assert (tmp_path / "out" / train[0]["image"]).read_bytes() == (tmp_path / "cq" / "train" / "png" / "c1.png").read_bytes()
    assert evals[0]["header"] == "Is it rising?" and "held back" not in str(train + evals)


def test_chartqa_problems_are_reported(tmp_path: Path):
    root = tmp_path / "cq"
    make_chartqa(root)
    (root / "train" / "png" / "c2.png").unlink()
    with pytest.raises(DatasetError, match=r"train_augmented\.json entry 0: chart .*train/png/c2\.png is missing"):
        convert("chartqa", root, tmp_path / "out")
    write_json(root / "train" / "train_augmented.json", [{"imgname": "c1.png", "label": "1"}])
    with pytest.raises(DatasetError, match=r"train_augmented\.json entry 0: missing 'query'"):
        convert("chartqa", root, tmp_path / "out")
    (root / "val" / "val_human.json").unlink()
    (root / "train" / "train_augmented.json").unlink()
    with pytest.raises(DatasetError, match=r"ChartQA val split not found: expected .*val/val_human\.json and/or .*val_augmented\.json"):
        convert("chartqa", root, tmp_path / "out")
