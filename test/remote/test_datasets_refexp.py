"""RefExp: UIBert's TFRecords of tf.train.Example plus RICO screenshots."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import BLUE, changed_pixels, outline_pixels, read_output, write_image
from tfrecord_writer import crc32c, encode_example, write_tfrecord


def expression(image_id, text, label, boxes, packed=True):
    """A RefExp example; boxes are (xmin, ymin, xmax, ymax) fractions of the screenshot."""
    return encode_example({
        "image/id": [image_id.encode()],
        "image/ref_exp/text": [text.encode()],
        "image/ref_exp/label": [label],
        "image/object/num": [float(len(boxes))],
        "image/object/bbox/xmin": [b[0] for b in boxes],
        "image/object/bbox/ymin": [b[1] for b in boxes],
        "image/object/bbox/xmax": [b[2] for b in boxes],
        "image/object/bbox/ymax": [b[3] for b in boxes],
    }, packed=packed)


EIGHT = [(0.01 * i, 0.02 * i, 0.01 * i + 0.2, 0.02 * i + 0.1) for i in range(8)]
EVAL_BOXES = [(0.1, 0.1, 0.5, 0.3), (0.125, 0.625, 0.875, 0.9375), (0.0, 0.0, 1.0, 1.0)]


def make_refexp(root: Path) -> None:
    write_image(root / "combined" / "500.jpg", size=(100, 200), color=(240, 240, 220))
    write_image(root / "combined" / "600.jpg", size=(100, 200), color=(220, 240, 240))
    write_tfrecord(root / "ref_exp" / "train.tfrecord", [
        expression("500", "the third icon", 2, EIGHT),
        expression("404", "screenshot that is missing", 0, EIGHT[:2]),
    ])
    write_tfrecord(root / "ref_exp" / "dev.tfrecord", [expression("600", "search field", 1, EVAL_BOXES, packed=False)])


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C catalogue's check value


def test_every_eval_candidate_is_a_record_with_its_box_and_the_expression_as_header(tmp_path: Path):
    make_refexp(tmp_path / "re")
    info = convert("refexp", tmp_path / "re", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["metric"], info["source_splits"]) == ("group_accuracy", {"train": "train", "eval": "dev"})

    assert [(r["id"], r["target"], r["group"], r["header"]) for r in evals] == [
        ("dev-0-0", "false", "dev-0", "search field"),
        ("dev-0-1", "true", "dev-0", "search field"),
        ("dev-0-2", "false", "dev-0", "search field"),
    ]
    source = tmp_path / "re" / "combined" / "600.jpg"
    # On 100 x 200: (0.1, 0.1, 0.5, 0.3) -> x 10..50, y 20..60;
    # (0.125, 0.625, 0.875, 0.9375) -> x round(12.5)=12 .. round(87.5)=88, y 125..round(187.5)=188;
    # (0, 0, 1, 1) -> x 0..100, y 0..200, so only the top and left edges fall inside the picture.
    expected = [outline_pixels(10, 20, 50, 60), outline_pixels(12, 125, 88, 188),
                {(x, 0) for x in range(100)} | {(0, y) for y in range(200)}]
    for record, pixels in zip(evals, expected):
        changed = changed_pixels(source, tmp_path / "out" / record["image"])
        assert set(changed) == pixels and set(changed.values()) == {BLUE}


def test_training_keeps_the_target_and_five_sampled_others_the_same_way_every_time(tmp_path: Path):
    make_refexp(tmp_path / "re")
    convert("refexp", tmp_path / "re", tmp_path / "out1")
    convert("refexp", tmp_path / "re", tmp_path / "out2")
    train, _, info = read_output(tmp_path / "out1")
    assert train == read_output(tmp_path / "out2")[0]
    # The expression whose screenshot 404.jpg is missing is skipped, as the original skipped it.
    assert info["counts"]["train"] == 6 and {r["group"] for r in train} == {"train-0"}
    assert [r["id"] for r in train if r["target"] == "true"] == ["train-0-2"]
    assert len({r["id"] for r in train}) == 6


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:-3], r"train\.tfrecord is truncated in record 1"),
    (lambda data: b"\x00" * 12 + data, r"train\.tfrecord is not a TFRecord file"),
])
def test_damaged_record_files_are_reported(tmp_path: Path, damage, message):
    make_refexp(tmp_path / "re")
    path = tmp_path / "re" / "ref_exp" / "train.tfrecord"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(DatasetError, match=message):
        convert("refexp", tmp_path / "re", tmp_path / "out")


def test_inconsistent_examples_and_missing_splits_are_reported(tmp_path: Path):
    root = tmp_path / "re"
    make_refexp(root)
    write_tfrecord(root / "ref_exp" / "dev.tfrecord", [expression("600", "x", 7, EVAL_BOXES)])
    with pytest.raises(DatasetError, match=r"dev\.tfrecord record 0: image/ref_exp/label 7 is not one of the 3 candidates"):
        convert("refexp", root, tmp_path / "out")
    (root / "ref_exp" / "dev.tfrecord").unlink()
    with pytest.raises(DatasetError, match=r"RefExp val split not found: expected .*ref_exp/val\.tfrecord"):
        convert("refexp", root, tmp_path / "out")


def test_skipped_expressions_are_logged(tmp_path: Path):
    make_refexp(tmp_path / "re")
    lines = []
    convert("refexp", tmp_path / "re", tmp_path / "out", log=lines.append)
    assert "skipped 1 RefExp expressions whose screenshot is missing" in lines
    assert lines[-1] == "dataset ready: 6 train and 3 eval records"
