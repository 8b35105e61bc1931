"""TextCaps: TextCaps_0.1_{train,val}.json and train_images/."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_image, write_json


def captions_file(root: Path, split: str, pairs):
    write_json(root / f"TextCaps_0.1_{split}.json", {
        "dataset_type": split, "dataset_name": "textcaps", "dataset_version": "0.1",
        "data": [{"image_id": i, "caption_id": n, "caption_str": c, "image_path": f"train/{i}.jpg"}
                 for n, (i, c) in enumerate(pairs)],
    })


def make_textcaps(root: Path) -> None:
    for i, image_id in enumerate(["aa01", "bb02", "cc03"]):
        write_image(root / "train_images" / f"{image_id}.jpg", color=(0, 40 * i, 0))
    captions_file(root, "train", [("aa01", "a sign that says stop"), ("bb02", "a bottle of cola"),
                                  ("aa01", "a red stop sign")])
    captions_file(root, "val", [("cc03", "a book titled python"), ("cc03", "the cover of python")])


def test_captions_are_grouped_per_image_and_val_is_the_eval_split(tmp_path: Path):
    make_textcaps(tmp_path / "tc")
    info = convert("textcaps", tmp_path / "tc", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["metric"], info["counts"]) == ("cider", {"train": 2, "eval": 1})
    assert [(r["target"], r["references"], r["header"]) for r in train] == [
        ("a sign that says stop", ["a sign that says stop", "a red stop sign"], None),
        ("a bottle of cola", ["a bottle of cola"], None),
    ]
    assert evals[0]["references"] == ["a book titled python", "the cover of python"]
    assert (tmp_path / "out" / evals[0]["image"]).read_bytes() == (tmp_path / "tc" / "train_images" / "cc03.jpg").read_bytes()


def test_wrong_or_missing_files_are_reported(tmp_path: Path):
    root = tmp_path / "tc"
    make_textcaps(root)
    (root / "train_images" / "bb02.jpg").unlink()
    with pytest.raises(DatasetError, match=r"TextCaps image .*train_images/bb02\.jpg is missing \(listed in TextCaps_0\.1_train\.json\)"):
        convert("textcaps", root, tmp_path / "out")
    write_image(root / "train_images" / "bb02.jpg")
    captions_file(root, "val", [])
    (root / "TextCaps_0.1_val.json").write_text('{"dataset_type": "test", "data": []}')
    with pytest.raises(DatasetError, match=r"holds the 'test' split, expected 'val'"):
        convert("textcaps", root, tmp_path / "out")
    (root / "TextCaps_0.1_val.json").write_text('{"data": [')
    with pytest.raises(DatasetError, match=r"TextCaps_0\.1_val\.json is not valid JSON"):
        convert("textcaps", root, tmp_path / "out")
    (root / "TextCaps_0.1_val.json").unlink()
    with pytest.raises(DatasetError, match=r"TextCaps_0\.1_val\.json is missing"):
        convert("textcaps", root, tmp_path / "out")
