"""Screen2Words: screen_summaries.csv, split/*_screens.txt and RICO's combined/ screenshots."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_image, write_lines


def make_screen2words(root: Path) -> None:
    for i, screen in enumerate(["101", "102", "103", "104"]):
        write_image(root / "combined" / f"{screen}.jpg", size=(27, 48), color=(10 * i, 50, 90))
    # Written by hand like the release: one summary per line, unquoted; the third line's comma
    # belongs to the summary (the original splits each line at its first comma).
    (root / "screen_summaries.csv").write_text(
        "screenId,summary\n"
        "101,page of settings\n"
        "101,settings screen\n"
        "102,login page, with a button\n"
        '103,"quoted summary, with comma"\n'
        "104,a test screen\n",
        encoding="utf-8",
    )
    write_lines(root / "split" / "train_screens.txt", ["101", "102"])
    write_lines(root / "split" / "dev_screens.txt", ["103"])
    write_lines(root / "split" / "test_screens.txt", ["104"])


def test_train_and_dev_screens_become_records_with_all_summaries(tmp_path: Path):
    make_screen2words(tmp_path / "s2w")
    info = convert("screen2words", tmp_path / "s2w", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")

    assert (info["task"], info["metric"], info["counts"]) == ("screen2words", "cider", {"train": 2, "eval": 1})
    assert info["source_splits"] == {"train": "train", "eval": "dev"}
    assert [(r["id"], r["target"], r["references"], r["header"], r["group"]) for r in train] == [
        ("screen-101", "page of settings", ["page of settings", "settings screen"], None, None),
        ("screen-102", "login page, with a button", ["login page, with a button"], None, None),
    ]
    assert evals[0]["references"] == ["quoted summary, with comma"]
    # Screenshots are passed through unchanged (the original stores the JPEG bytes as they are).
    for record, screen in [(train[0], "101"), (train[1], "102"), (evals[0], "103")]:
        assert (tmp_path / "out" / record["image"]).read_bytes() == (tmp_path / "s2w" / "combined" / f"{screen}.jpg").read_bytes()
    assert "104" not in str(train + evals)  # the test split is left out


def test_missing_pieces_are_named(tmp_path: Path):
    root = tmp_path / "s2w"
    make_screen2words(root)
    (root / "combined" / "102.jpg").unlink()
    with pytest.raises(DatasetError, match=r"RICO screenshot .*combined/102\.jpg is missing \(screen 102\)"):
        convert("screen2words", root, tmp_path / "out")
    (root / "split" / "dev_screens.txt").unlink()
    write_image(root / "combined" / "102.jpg")
    with pytest.raises(DatasetError, match=r"split/dev_screens\.txt is missing"):
        convert("screen2words", root, tmp_path / "out")
    (root / "screen_summaries.csv").unlink()
    with pytest.raises(DatasetError, match=r"screen_summaries\.csv is missing"):
        convert("screen2words", root, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_rico_folder_is_required(tmp_path: Path):
    root = tmp_path / "s2w"
    make_screen2words(root)
    (root / "combined").rename(root / "elsewhere")
    with pytest.raises(DatasetError, match=r"RICO screenshots not found .*combined/ folder"):
        convert("screen2words", root, tmp_path / "out")
