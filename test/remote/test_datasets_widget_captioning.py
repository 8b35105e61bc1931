"""Widget Captioning: widget_captions.csv, split/*.txt and RICO screenshots with view hierarchies."""
from pathlib import Path

import pytest

from pix2struct_remote.datasets import DatasetError, convert
from samples import BLUE, changed_pixels, outline_pixels, read_output, write_csv, write_image, write_json, write_lines


def hierarchy(bounds_by_path):
    """A RICO view hierarchy: the root with two children, the second with one child."""
    return {"activity": {"root": {"bounds": [0, 0, 1440, 2560], "children": [
        {"bounds": bounds_by_path["0"], "children": []},
        {"bounds": bounds_by_path["1"], "children": [{"bounds": bounds_by_path["1.0"]}]},
    ]}}}


def make_widgets(root: Path) -> None:
    # 144 x 256 screenshots: a RICO canvas unit is 256 / 2560 = 0.1 px in both directions.
    for n, screen in enumerate(["11", "22", "33"]):
        write_image(root / "combined" / f"{screen}.jpg", size=(144, 256), color=(230, 200 + 10 * n, 180))
        write_json(root / "combined" / f"{screen}.json",
                   hierarchy({"0": [0, 0, 1440, 300], "1": [100, 200, 905, 1015], "1.0": [10, 2000, 1439, 2559]}))
    write_csv(root / "widget_captions.csv", ["screenId", "nodeId", "captions"], [
        ["11", "0.1", "open menu|show the menu"],
        ["11", "0.1.0", "go back"],
        ["22", "0.0", "title bar"],
        ["33", "0.0", "unused test caption"],
    ])
    write_lines(root / "split" / "train.txt", ["11"])
    write_lines(root / "split" / "dev.txt", ["22"])
    write_lines(root / "split" / "test.txt", ["33"])


def test_each_widget_gets_its_box_drawn_on_the_screenshot(tmp_path: Path):
    make_widgets(tmp_path / "wc")
    info = convert("widget_captioning", tmp_path / "wc", tmp_path / "out")
    train, evals, _ = read_output(tmp_path / "out")
    assert (info["metric"], info["counts"], info["source_splits"]) == ("cider", {"train": 2, "eval": 1},
                                                                        {"train": "train", "eval": "dev"})
    assert [(r["id"], r["target"], r["references"], r["header"]) for r in train] == [
        ("11_0.1", "open menu", ["open menu", "show the menu"], None),
        ("11_0.1.0", "go back", ["go back"], None),
    ]
    assert evals[0]["id"] == "22_0.0" and "unused" not in str(train + evals)

    source = tmp_path / "wc" / "combined" / "11.jpg"
    # Node 0.1: [100, 200, 905, 1015] x 0.1 = [10, 20, 90.5, 101.5], truncated: outline 10..90 x 20..101.
    changed = changed_pixels(source, tmp_path / "out" / train[0]["image"])
    assert set(changed) == outline_pixels(10, 20, 90, 101) and set(changed.values()) == {BLUE}
    # Node 0.1.0: [10, 2000, 1439, 2559] -> [1, 200, 143.9, 255.9] -> outline 1..143 x 200..255.
    changed = changed_pixels(source, tmp_path / "out" / train[1]["image"])
    assert set(changed) == outline_pixels(1, 200, 143, 255) and set(changed.values()) == {BLUE}


def test_broken_widget_sources_are_reported(tmp_path: Path):
    root = tmp_path / "wc"
    make_widgets(root)
    write_csv(root / "widget_captions.csv", ["screenId", "nodeId", "captions"], [["11", "0.5", "nothing"]])
    with pytest.raises(DatasetError, match=r"widget_captions\.csv line 2 .*11\.json\): node '0\.5' not found"):
        convert("widget_captioning", root, tmp_path / "out")
    write_csv(root / "widget_captions.csv", ["screenId", "nodeId", "captions"], [["22", "0.0", "x"]])
    (root / "combined" / "22.json").unlink()
    with pytest.raises(DatasetError, match=r"RICO view hierarchy .*combined/22\.json is missing"):
        convert("widget_captioning", root, tmp_path / "out")
    write_csv(root / "widget_captions.csv", ["screen", "node", "captions"], [])
    with pytest.raises(DatasetError, match=r"widget_captions\.csv must start with a header line naming the columns screenId, nodeId, captions"):
        convert("widget_captioning", root, tmp_path / "out")
    make_widgets(root)
    (root / "split" / "dev.txt").unlink()
    with pytest.raises(DatasetError, match=r"Widget Captioning dev split not found: expected .*split/dev\.txt"):
        convert("widget_captioning", root, tmp_path / "out")
