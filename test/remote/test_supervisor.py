"""The supervisor end to end with the real training program: control.py init/start/tail/cancel
on a custom dataset uploaded into the run folder, the tiny fixture model, CPU."""
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest

import tiny_training as tt
from test_control import control, processes_of, tail_all, wait_for

RUN_ID = "20261124-211500-3fa9c2"


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tt.make_base_model(tmp_path_factory.mktemp("base") / "model")


def upload_custom_dataset(folder: Path) -> None:
    """A custom dataset as a user would upload it: pictures plus train.jsonl and eval.jsonl."""
    names = tt.draw_pictures(folder / "pictures")
    lines = [json.dumps({"image": f"pictures/{n}", "target": c}) for n, c in zip(names, tt.CAPTIONS)]
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "eval.jsonl").write_text("\n".join(lines[:2]) + "\n")


def make_venv_stand_in(root: Path) -> None:
    """.pix2struct/venv as an earlier run left it: an interpreter with the requirements and the
    marker of the requirements it was made from (so the supervisor reuses it without pip)."""
    bin_dir = root / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    wanted = hashlib.sha256((tt.REMOTE / "requirements.txt").read_bytes()).hexdigest()
    (root / "venv" / ".pix2struct-requirements.sha256").write_text(wanted + "\n")


def init(home: Path, spec: Dict[str, Any]) -> Path:
    run_dir = home / ".pix2struct" / "runs" / RUN_ID
    code, out = control("init", str(run_dir), stdin=json.dumps(spec))
    assert code == 0, out
    return run_dir


def test_a_custom_dataset_run_converts_trains_and_succeeds_in_the_reused_venv(base_model: Path, tmp_path: Path) -> None:
    make_venv_stand_in(tmp_path / ".pix2struct")
    spec = tt.spec_for(base_model, task="custom", dataset={"format": "custom", "path": "upload/dataset"},
                       steps=4, save_every=2, eval_every=2, name="tiny custom run")
    run_dir = init(tmp_path, spec)
    upload_custom_dataset(run_dir / "upload" / "dataset")
    code, out = control("start", str(run_dir))
    assert code == 0
    lines, code = tail_all(run_dir, timeout=150)
    status = lines[-1]["status"]
    assert status["state"] == "succeeded", (run_dir / "run.log").read_text()
    assert status["final_checkpoint"] == "checkpoints/final" and status["checkpoints"] == ["checkpoints/step-2"]
    # Every transition is in the log, in order (tail's status lines may skip a short phase).
    log = (run_dir / "run.log").read_text()
    marks = ["state: installing", "is up to date", "state: running (converting the dataset)",
             "training (1 process)", "saved checkpoints/step-2", "saved checkpoints/final", "state: succeeded"]
    positions = [log.index(mark) for mark in marks]
    assert positions == sorted(positions)
    info = json.loads((run_dir / "data" / "info.json").read_text())
    assert info["counts"] == {"train": 4, "eval": 2}
    metrics = [line["metric"] for line in lines if "metric" in line]
    evals = [m for m in metrics if m["split"] == "eval"]
    assert [m["step"] for m in evals] == [2, 4] and {"exact_match", "anls", "loss"} <= set(evals[0])
    assert (run_dir / "checkpoints" / "final" / "model.safetensors").is_file()
    assert processes_of(out["pgid"]) == []


def test_a_dataset_error_fails_the_run_with_the_converter_message(base_model: Path, tmp_path: Path) -> None:
    spec = tt.spec_for(base_model, task="custom", dataset={"format": "custom", "path": "upload/dataset"},
                       python=sys.executable)
    run_dir = init(tmp_path, spec)
    (run_dir / "upload" / "dataset").mkdir(parents=True)  # no train.jsonl
    control("start", str(run_dir))
    lines, _ = tail_all(run_dir, timeout=150)
    assert lines[-1]["status"]["state"] == "failed"
    assert "converting the dataset failed" in lines[-1]["status"]["message"]
    assert "train.jsonl is missing" in (run_dir / "run.log").read_text()
    assert not (run_dir / "data").exists()


def test_cancel_during_real_training_leaves_no_process_and_no_partial_checkpoint(base_model: Path, tmp_path: Path) -> None:
    spec = tt.spec_for(base_model, task="custom", dataset={"format": "custom", "path": "upload/dataset"},
                       python=sys.executable, steps=1000, save_every=1, eval_every=0)
    run_dir = init(tmp_path, spec)
    upload_custom_dataset(run_dir / "upload" / "dataset")
    code, out = control("start", str(run_dir))
    wait_for(lambda: (run_dir / "metrics.jsonl").exists(), timeout=50)
    started = time.monotonic()
    code, status = control("cancel", str(run_dir))
    assert time.monotonic() - started < 15  # SIGTERM is honoured; SIGKILL comes after 10 s
    assert code == 0 and status["state"] == "cancelled"
    assert processes_of(out["pgid"]) == []
    names = [p.name for p in (run_dir / "checkpoints").iterdir()] if (run_dir / "checkpoints").exists() else []
    for name in names:
        if not name.startswith("."):
            assert (run_dir / "checkpoints" / name / "training_state.pt").is_file(), name
    assert "final" not in names
