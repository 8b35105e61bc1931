"""The converter and metric entry points agree with the launcher's task list and PROTOCOL.md."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pix2struct_remote.datasets import FORMATS, DatasetError, convert, read_split
from samples import write_image, write_lines
from pix2struct_remote.metrics import METRICS_BY_TASK, primary_metric

REPO = Path(__file__).resolve().parents[2]


def launcher_tasks():
    source = (REPO / "training" / "launcher" / "types.ts").read_text(encoding="utf-8")
    block = re.search(r"TRAINING_TASKS = \[(.*?)\] as const", source, re.S).group(1)
    return re.findall(r"'([a-z_0-9]+)'", block)


def protocol_metric_names():
    text = (REPO / "training" / "PROTOCOL.md").read_text(encoding="utf-8")
    listing = re.search(r"the task's metric names:(.*?)\(and `loss`\)", text, re.S).group(1)
    return set(re.findall(r"`([a-z_0-9]+)`", listing))


def test_every_launcher_task_is_a_format_with_a_metric():
    assert set(FORMATS) == set(launcher_tasks())
    for task in FORMATS:
        assert primary_metric(task) in protocol_metric_names()
    assert {m for names in METRICS_BY_TASK.values() for m in names} <= protocol_metric_names()


def test_an_original_format_only_trains_its_own_task(tmp_path: Path):
    with pytest.raises(DatasetError, match=r"a textcaps dataset trains the textcaps task, not docvqa"):
        convert("textcaps", tmp_path, tmp_path / "out", task="docvqa")
    with pytest.raises(DatasetError, match=r"unknown task 'mnist'"):
        convert("custom", tmp_path, tmp_path / "out", task="mnist")


def test_command_line_converts_and_reports_errors_as_json(tmp_path: Path):
    src = tmp_path / "mine"
    write_image(src / "a.png")
    write_image(src / "b.png")
    write_lines(src / "train.jsonl", ['{"image": "a.png", "target": "x"}'])
    write_lines(src / "eval.jsonl", ['{"image": "b.png", "target": "y"}'])
    env = {**os.environ, "PYTHONPATH": str(REPO / "training" / "remote")}
    ok = subprocess.run([sys.executable, "-m", "pix2struct_remote.datasets", "custom", str(src), str(tmp_path / "out")],
                        capture_output=True, text=True, env=env, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["counts"] == {"train": 1, "eval": 1}
    assert [r["target"] for r in read_split(tmp_path / "out", "eval")] == ["y"]
    bad = subprocess.run([sys.executable, "-m", "pix2struct_remote.datasets", "textcaps", str(src), str(tmp_path / "out2")],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 1 and "TextCaps_0.1_train.json is missing" in json.loads(bad.stdout)["error"]
