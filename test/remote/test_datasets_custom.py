"""The custom format: a folder of pictures plus train.jsonl and optionally eval.jsonl."""
import hashlib
import json
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_image, write_lines


def jsonl(*objs):
    return [json.dumps(o) for o in objs]


def test_train_and_eval_files_become_records_with_headers_and_copied_pictures(tmp_path: Path):
    src = tmp_path / "mine"
    write_image(src / "pics" / "a.png", color=(255, 0, 0))
    write_image(src / "b.jpg", color=(0, 255, 0))
    write_lines(src / "train.jsonl", jsonl(
        {"image": "pics/a.png", "target": "red", "header": "what colour?"},
        {"image": "b.jpg", "target": "green", "references": ["green", "lime"]},
    ))
    write_lines(src / "eval.jsonl", jsonl({"image": "b.jpg", "target": "green"}))

    info = convert("custom", src, tmp_path / "out")
    train, evals, saved_info = read_output(tmp_path / "out")

    assert info == saved_info
    assert info["task"] == "custom" and info["metric"] == "exact_match"
    assert info["counts"] == {"train": 2, "eval": 1}
    assert [(r["target"], r["header"], r["references"], r["group"]) for r in train] == [
        ("red", "what colour?", ["red"], None),
        ("green", None, ["green", "lime"], None),
    ]
    assert evals[0]["target"] == "green" and evals[0]["header"] is None
    # The pictures are the user's files, byte for byte, under images/.
    assert (tmp_path / "out" / train[0]["image"]).read_bytes() == (src / "pics" / "a.png").read_bytes()
    assert evals[0]["image"] == train[1]["image"]
    assert all(r["image"].startswith("images/") for r in train + evals)
    assert len({r["id"] for r in train + evals}) == 3


def test_custom_data_can_be_scored_with_another_tasks_metric(tmp_path: Path):
    src = tmp_path / "mine"
    write_image(src / "a.png")
    write_image(src / "b.png")
    write_lines(src / "train.jsonl", jsonl({"image": "a.png", "target": "x"}))
    write_lines(src / "eval.jsonl", jsonl({"image": "b.png", "target": "y"}))
    info = convert("custom", src, tmp_path / "out", task="docvqa")
    assert (info["task"], info["metric"]) == ("docvqa", "anls")


def test_without_eval_file_a_stable_tenth_of_the_pictures_is_held_out(tmp_path: Path):
    src = tmp_path / "mine"
    names = [f"p{i}.png" for i in range(40)]
    lines = []
    for name in names:
        write_image(src / name, size=(8, 8))
        lines += [{"image": name, "target": f"{name} one"}, {"image": name, "target": f"{name} two"}]
    write_lines(src / "train.jsonl", jsonl(*lines))

    convert("custom", src, tmp_path / "out1")
    convert("custom", src, tmp_path / "out2")
    train, evals, info = read_output(tmp_path / "out1")
    assert read_output(tmp_path / "out2")[:2] == (train, evals)

    # The rule stated in the format's docs: SHA-1 of the picture's path, mod 100, below 10.
    expected_eval = {n for n in names if int(hashlib.sha1(n.encode()).hexdigest(), 16) % 100 < 10}
    assert expected_eval, "the sample should hold out at least one picture by the rule itself"
    eval_pictures = {r["target"].split()[0] for r in evals}
    train_pictures = {r["target"].split()[0] for r in train}
    assert eval_pictures == expected_eval
    assert not eval_pictures & train_pictures  # both questions of a picture stay together
    assert info["counts"] == {"train": len(train), "eval": len(evals)} and len(evals) == 2 * len(expected_eval)


def test_tiny_datasets_still_get_an_eval_picture(tmp_path: Path):
    src = tmp_path / "mine"
    for name in ("a.png", "b.png"):
        write_image(src / name)
    write_lines(src / "train.jsonl", jsonl({"image": "a.png", "target": "a"}, {"image": "b.png", "target": "b"}))
    info = convert("custom", src, tmp_path / "out")
    assert info["counts"] == {"train": 1, "eval": 1}


@pytest.mark.parametrize("line, message", [
    ('{"image": "missing.png", "target": "x"}', r"train\.jsonl line 2: image 'missing\.png' not found"),
    ('{"image": "a.png", "target": "x"', r"train\.jsonl line 2 is not valid JSON"),
    ('{"image": "a.png"}', r"train\.jsonl line 2: missing \"target\""),
    ('{"image": "a.png", "target": ""}', r"train\.jsonl line 2: 'target' must be a non-empty string"),
    ('{"target": "x"}', r"train\.jsonl line 2: missing \"image\""),
    ('{"image": "../outside.png", "target": "x"}', r"line 2: image '\.\./outside\.png' points outside"),
    ('{"image": "/etc/hostname", "target": "x"}', r"line 2: image '/etc/hostname' points outside"),
    ('{"image": "notes.txt", "target": "x"}', r"line 2: image 'notes\.txt' is not a readable picture"),
    ('["a.png", "x"]', r"line 2: expected a JSON object"),
])
def test_broken_lines_are_reported_with_file_and_line_and_nothing_is_written(tmp_path, line, message):
    src = tmp_path / "mine"
    write_image(src / "a.png")
    write_image(tmp_path / "outside.png")
    (src / "notes.txt").write_text("not a picture")
    write_lines(src / "train.jsonl", [json.dumps({"image": "a.png", "target": "ok"}), line])
    write_lines(src / "eval.jsonl", [json.dumps({"image": "a.png", "target": "ok"})])
    with pytest.raises(DatasetError, match=message):
        convert("custom", src, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()


def test_folder_problems_are_explained(tmp_path: Path):
    src = tmp_path / "mine"
    src.mkdir()
    with pytest.raises(DatasetError, match=r"train\.jsonl is missing: a custom dataset is a folder of pictures"):
        convert("custom", src, tmp_path / "out")
    with pytest.raises(DatasetError, match=r"does not exist"):
        convert("custom", tmp_path / "nowhere", tmp_path / "out")
    write_image(src / "a.png")
    write_lines(src / "train.jsonl", jsonl({"image": "a.png", "target": "x"}))
    with pytest.raises(DatasetError, match=r"single picture: add more pictures or an eval\.jsonl"):
        convert("custom", src, tmp_path / "out")
    with pytest.raises(DatasetError, match=r"unknown dataset format 'pascal'"):
        convert("pascal", src, tmp_path / "out")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    with pytest.raises(DatasetError, match=r"already exists and is not empty"):
        convert("custom", src, tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "precious"


def test_non_utf8_files_and_duplicate_spellings_of_a_picture(tmp_path: Path):
    src = tmp_path / "mine"
    write_image(src / "a.png")
    write_image(src / "b.png")
    write_lines(src / "train.jsonl", jsonl({"image": "a.png", "target": "x"}, {"image": "./a.png", "target": "y"}))
    write_lines(src / "eval.jsonl", jsonl({"image": "b.png", "target": "z"}))
    convert("custom", src, tmp_path / "out")
    train, _, _ = read_output(tmp_path / "out")
    assert train[0]["image"] == train[1]["image"]  # one picture, one file
    (src / "eval.jsonl").write_bytes(b'{"image": "b.png", "target": "caf\xe9"}\n')
    with pytest.raises(DatasetError, match=r"eval\.jsonl is not UTF-8 text"):
        convert("custom", src, tmp_path / "out2")
