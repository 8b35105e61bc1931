"""The converter and metric entry points agree with the launcher's task list and PROTOCOL.md."""
import re
from pathlib import Path

import pytest

from pix2struct_remote.datasets import FORMATS, DatasetError, convert
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
