"""AI2D: questions/<image>.json, images/, annotations/ and ai2d_test_ids.csv.

Like convert_ai2d.py: one record per question, the header the question followed by its lettered
options, the target the correct option's text. Questions about lettered labels (abcLabel) see
the diagram with every text label replaced by its placeholder letter (from annotations/, when
present). The test ids are left out; 1% of the other diagrams (by SHA-1 of the image name) are
the evaluation split, as the original's validation split.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from PIL import Image

from ..inputs import InputError, ai2d_header, ai2d_letters_image
from .common import DatasetError, hash_holdout, read_json, read_lines, require_keys
from .writer import DatasetWriter

EVAL_PERCENT = 1
TEST_IDS = ("ai2d_test_ids.csv", "test_ids.csv", "ai2d_test_ids.txt")


def test_ids(root: Path) -> set:
    for name in TEST_IDS:
        if (root / name).is_file():
            return {f"{line.split(',')[0].strip()}.png" for line in read_lines(root / name)}
    raise DatasetError(f"AI2D test ids not found: put the benchmark's ai2d_test_ids.csv (one diagram id per "
                       f"line) at {root / TEST_IDS[0]} so that test diagrams stay out of training")


def read_labels(path: Path) -> List[Tuple[str, list]]:
    annotation = read_json(path)
    labels = []
    for key, text in (annotation.get("text") or {}).items():
        require_keys(text, ["rectangle", "replacementText"], f"{path} text {key!r}")
        labels.append((str(text["replacementText"]), text["rectangle"]))
    return labels


def convert(root: Path, writer: DatasetWriter) -> None:
    questions_dir = root / "questions"
    if not questions_dir.is_dir():
        raise DatasetError(f"AI2D questions folder {questions_dir} is missing (questions/<image>.png.json)")
    files = sorted(questions_dir.glob("*.json"))
    if not files:
        raise DatasetError(f"{questions_dir} has no question files")
    tests = test_ids(root)
    parsed: List[Tuple[Path, dict]] = []
    for path in files:
        data = read_json(path)
        require_keys(data, ["imageName", "questions"], str(path))
        if data["imageName"] not in tests:
            parsed.append((path, data))
    held = hash_holdout((d["imageName"] for _, d in parsed), EVAL_PERCENT)
    writer.source_splits.update(train=f"not test, SHA-1 % 100 >= {EVAL_PERCENT}",
                                eval=f"not test, SHA-1 % 100 < {EVAL_PERCENT}")
    for path, data in parsed:
        out_split = "eval" if data["imageName"] in held else "train"
        _add_diagram(writer, root, out_split, path, data)


def _add_diagram(writer: DatasetWriter, root: Path, out_split: str, path: Path, data: dict) -> None:
    name = data["imageName"]
    picture = root / "images" / name
    if not picture.is_file():
        raise DatasetError(f"{path}: diagram {picture} is missing")
    plain = None
    letters = None
    annotation = root / "annotations" / f"{name}.json"
    for n, (question, q) in enumerate(data["questions"].items()):
        where = f"{path} question {question!r}"
        require_keys(q, ["answerTexts", "correctAnswer"], where)
        options = [str(o) for o in q["answerTexts"]]
        correct = q["correctAnswer"]
        if not isinstance(correct, int) or not 0 <= correct < len(options):
            raise DatasetError(f"{where}: correctAnswer {correct!r} is not an index into answerTexts")
        try:
            header = ai2d_header(question, options)
        except InputError as e:
            raise DatasetError(f"{where}: {e}") from None
        if q.get("abcLabel") and annotation.is_file():
            if letters is None:
                with Image.open(picture) as im:
                    letters = writer.save_image(ai2d_letters_image(im, read_labels(annotation)),
                                                key=f"ai2d-letters:{name}", name=f"{Path(name).stem}-letters")
            image = letters
        else:
            plain = plain or writer.link_image(picture)
            image = plain
        writer.add(out_split, id=str(q.get("questionId") or f"{name}-{n}"), image=image, header=header,
                   target=options[correct])
