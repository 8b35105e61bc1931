"""DocVQA ({split}/{split}_v1.0.json + documents/) and InfographicVQA (infographicVQA_{split}_v1.0.json)."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_image, write_json


def qa_file(path: Path, name: str, split: str, questions, image_key="image"):
    write_json(path, {"dataset_name": name, "dataset_version": "1.0", "dataset_split": split, "data": [
        {"questionId": qid, "question": q, image_key: img, **({"answers": a} if a is not None else {})}
        for qid, q, img, a in questions]})


def make_docvqa(root: Path) -> None:
    write_image(root / "train" / "documents" / "d1.png", color=(250, 250, 250))
    write_image(root / "train" / "documents" / "d2.png", color=(240, 240, 240))
    write_image(root / "val" / "documents" / "d1.png", color=(230, 230, 230))
    qa_file(root / "train" / "train_v1.0.json", "docvqa", "train", [
        (11, "What is the date?", "documents/d1.png", ["1 May 1990", "May 1, 1990"]),
        (12, "Who signed it?", "documents/d2.png", ["J. Smith"]),
    ])
    qa_file(root / "val" / "val_v1.0.json", "docvqa", "val", [(21, "What is the total?", "documents/d1.png", ["$5"])])
    qa_file(root / "test" / "test_v1.0.json", "docvqa", "test", [(31, "held back", "documents/d1.png", None)])


def test_docvqa_questions_with_all_answers(tmp_path: Path):
    make_docvqa(tmp_path / "dv")
    info = convert("docvqa", tmp_path / "dv", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["metric"], info["counts"]) == ("anls", {"train": 2, "eval": 1})
    assert [(r["id"], r["header"], r["target"], r["references"]) for r in train + evals] == [
        ("train-11", "What is the date?", "1 May 1990", ["1 May 1990", "May 1, 1990"]),
        ("train-12", "Who signed it?", "J. Smith", ["J. Smith"]),
        ("val-21", "What is the total?", "$5", ["$5"]),
    ]
    # train/documents/d1.png and val/documents/d1.png are different pictures with one name.
    assert (tmp_path / "out" / evals[0]["image"]).read_bytes() == (tmp_path / "dv" / "val" / "documents" / "d1.png").read_bytes()
    assert evals[0]["image"] != train[0]["image"]


def test_docvqa_problems_are_reported(tmp_path: Path):
    root = tmp_path / "dv"
    make_docvqa(root)
    qa_file(root / "val" / "val_v1.0.json", "docvqa", "val", [(21, "q", "documents/d1.png", None)])
    with pytest.raises(DatasetError, match=r"val_v1\.0\.json data\[0\]: 'answers' must be a non-empty list .*test split has no answers"):
        convert("docvqa", root, tmp_path / "out")
    qa_file(root / "val" / "val_v1.0.json", "docvqa", "test", [])
    with pytest.raises(DatasetError, match=r"val_v1\.0\.json holds the 'test' split, expected 'val'"):
        convert("docvqa", root, tmp_path / "out")
    qa_file(root / "val" / "val_v1.0.json", "docvqa", "val", [(21, "q", "documents/gone.png", ["a"])])
    with pytest.raises(DatasetError, match=r"data\[0\]: document image documents/gone\.png not found in .*/val"):
        convert("docvqa", root, tmp_path / "out")
    (root / "val" / "val_v1.0.json").unlink()
    with pytest.raises(DatasetError, match=r"DocVQA val questions not found: expected .*val/val_v1\.0\.json"):
        convert("docvqa", root, tmp_path / "out")


def make_infographicvqa(root: Path) -> None:
    write_image(root / "infographicsvqa_images" / "38001.jpeg", color=(20, 120, 220))
    write_image(root / "infographicsvqa_images" / "38002.jpeg", color=(220, 120, 20))
    qa_file(root / "infographicsVQA_train_v1.0.json", "infographicVQA", "train",
            [(65001, "How many countries?", "38001.jpeg", ["12", "twelve"])], image_key="image_local_name")
    qa_file(root / "infographicVQA_val_v1.0_withQT.json", "infographicVQA", "val",
            [(66001, "Which colour is used most?", "38002.jpeg", ["orange"])], image_key="image_local_name")


def test_infographicvqa_release_layout(tmp_path: Path):
    make_infographicvqa(tmp_path / "iv")
    info = convert("infographicvqa", tmp_path / "iv", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["task"], info["metric"], info["counts"]) == ("infographicvqa", "anls", {"train": 1, "eval": 1})
    assert (train[0]["header"], train[0]["references"]) == ("How many countries?", ["12", "twelve"])
    assert (tmp_path / "out" / evals[0]["image"]).read_bytes() == (tmp_path / "iv" / "infographicsvqa_images" / "38002.jpeg").read_bytes()


def test_infographicvqa_problems_are_reported(tmp_path: Path):
    root = tmp_path / "iv"
    make_infographicvqa(root)
    qa_file(root / "infographicVQA_val_v1.0_withQT.json", "docvqa", "val", [])
    with pytest.raises(DatasetError, match=r"is a 'docvqa' file, expected 'infographicVQA'"):
        convert("infographicvqa", root, tmp_path / "out")
    (root / "infographicVQA_val_v1.0_withQT.json").unlink()
    with pytest.raises(DatasetError, match=r"InfographicVQA val questions not found: expected .*infographicVQA_val_v1\.0\.json"):
        convert("infographicvqa", root, tmp_path / "out")


def test_docvqa_later_release_layout(tmp_path: Path):
    root = tmp_path / "sp"
    write_image(root / "spdocvqa_images" / "d1.png", color=(1, 2, 3))
    qa_file(root / "spdocvqa_qas" / "train_v1.0_withQT.json", "docvqa", "train", [(1, "q1", "documents/d1.png", ["a"])])
    qa_file(root / "spdocvqa_qas" / "val_v1.0_withQT.json", "docvqa", "val", [(2, "q2", "documents/d1.png", ["b"])])
    info = convert("docvqa", root, tmp_path / "out")
    train, _, _ = read_output(tmp_path / "out")
    assert info["counts"] == {"train": 1, "eval": 1}
    assert (tmp_path / "out" / train[0]["image"]).read_bytes() == (root / "spdocvqa_images" / "d1.png").read_bytes()
