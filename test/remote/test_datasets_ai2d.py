"""AI2D: questions/*.json, images/, annotations/ and the benchmark's test ids."""
import hashlib
from pathlib import Path

import pytest
from PIL import Image

from pix2struct_remote.datasets import DatasetError, convert
from samples import read_output, write_json, write_lines

DIAGRAMS = [str(i) for i in range(12)]
TEST = ["3", "7"]
RED = (255, 0, 0)


def make_ai2d(root: Path) -> None:
    for name in DIAGRAMS:
        image = Image.new("RGB", (120, 90), (255, 255, 255))
        image.paste(RED, (20, 20, 70, 50))  # the printed label "sun", x 20..69, y 20..49
        (root / "images").mkdir(parents=True, exist_ok=True)
        image.save(root / "images" / f"{name}.png")
        write_json(root / "annotations" / f"{name}.png.json", {"text": {
            "T1": {"id": "T1", "rectangle": [[20, 20], [69, 49]], "replacementText": "A", "value": "sun"}}})
        write_json(root / "questions" / f"{name}.png.json", {"imageName": f"{name}.png", "questions": {
            "Which label shows the sun?": {"abcLabel": True, "answerTexts": ["A", "B", "C", "D"],
                                           "correctAnswer": 0, "questionId": f"{name}.png-0"},
            "What gives light?": {"abcLabel": False, "answerTexts": ["moon", "sun"],
                                  "correctAnswer": 1, "questionId": f"{name}.png-1"},
        }})
    write_lines(root / "ai2d_test_ids.csv", TEST)


def sha1_mod_100(name: str) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest(), 16) % 100


def test_questions_get_lettered_options_and_label_questions_see_placeholders(tmp_path: Path):
    make_ai2d(tmp_path / "ai2d")
    info = convert("ai2d", tmp_path / "ai2d", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert info["metric"] == "exact_match"

    # Test diagrams stay out; 1% of the rest by SHA-1 is the evaluation split, and with so few
    # diagrams that none falls under 1%, the one with the largest hash stands in for it.
    kept = [f"{n}.png" for n in DIAGRAMS if n not in TEST]
    expected_eval = {n for n in kept if sha1_mod_100(n) < 1} or {max(kept, key=lambda n: int(hashlib.sha1(n.encode()).hexdigest(), 16))}
    assert {r["id"].split("-")[0] for r in evals} == expected_eval
    assert {r["id"].split("-")[0] for r in train} == set(kept) - expected_eval
    assert info["counts"] == {"train": 2 * (len(kept) - len(expected_eval)), "eval": 2 * len(expected_eval)}

    by_id = {r["id"]: r for r in train + evals}
    label_q, plain_q = by_id["0.png-0"], by_id["0.png-1"]
    assert (label_q["header"], label_q["target"]) == ("Which label shows the sun? (a) A (b) B (c) C (d) D", "A")
    assert (plain_q["header"], plain_q["target"]) == ("What gives light? (a) moon (b) sun", "sun")
    # The plain question sees the diagram as published; the label question sees "sun" replaced by "A".
    assert (tmp_path / "out" / plain_q["image"]).read_bytes() == (tmp_path / "ai2d" / "images" / "0.png").read_bytes()
    with Image.open(tmp_path / "out" / label_q["image"]) as im:
        inside = [im.getpixel((x, y)) for x in range(20, 70) for y in range(20, 50)]
        assert RED not in inside and any(p[0] < 128 and p[0] == p[1] == p[2] for p in inside)
        assert im.getpixel((100, 80)) == (255, 255, 255)


def test_without_annotations_label_questions_use_the_plain_diagram(tmp_path: Path):
    root = tmp_path / "ai2d"
    make_ai2d(root)
    (root / "annotations" / "0.png.json").unlink()
    convert("ai2d", root, tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    record = next(r for r in train + evals if r["id"] == "0.png-0")
    assert (tmp_path / "out" / record["image"]).read_bytes() == (root / "images" / "0.png").read_bytes()


def test_ai2d_problems_are_reported(tmp_path: Path):
    root = tmp_path / "ai2d"
    make_ai2d(root)
    write_json(root / "questions" / "0.png.json", {"imageName": "0.png", "questions": {
        "q?": {"answerTexts": ["x"], "correctAnswer": 3}}})
    with pytest.raises(DatasetError, match=r"0\.png\.json question 'q\?': correctAnswer 3 is not an index into answerTexts"):
        convert("ai2d", root, tmp_path / "out")
    (root / "questions" / "0.png.json").unlink()
    (root / "images" / "1.png").unlink()
    with pytest.raises(DatasetError, match=r"1\.png\.json: diagram .*images/1\.png is missing"):
        convert("ai2d", root, tmp_path / "out")
    (root / "ai2d_test_ids.csv").unlink()
    with pytest.raises(DatasetError, match=r"AI2D test ids not found: put the benchmark's ai2d_test_ids\.csv"):
        convert("ai2d", root, tmp_path / "out")
