"""finetune.py on CPU: the fixture's tiny Pix2Struct trained for a few steps on four pictures."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file
from transformers import Pix2StructForConditionalGeneration, Pix2StructProcessor

import tiny_training as tt

sys.path.insert(0, str(tt.REMOTE))
from pix2struct_remote.metrics import METRICS_BY_TASK  # noqa: E402
from pix2struct_remote.train_inputs import Batcher, InputError  # noqa: E402

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MODEL_FILES = ("config.json", "model.safetensors", "generation_config.json", "preprocessor_config.json",
               "tokenizer.json", "tokenizer_config.json")


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tt.make_base_model(tmp_path_factory.mktemp("base") / "model")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, base_model: Path) -> Dict[str, Any]:
    """One uninterrupted 10-step run (checkpoint and eval at step 5, final at 10)."""
    run_dir = tt.make_run_dir(tmp_path_factory.mktemp("runs") / "r1", tt.spec_for(base_model))
    tt.write_converted_dataset(run_dir / "data")
    started = time.monotonic()
    proc = tt.run_finetune(run_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"run_dir": run_dir, "stdout": proc.stdout, "seconds": time.monotonic() - started,
            "spec": json.loads((run_dir / "spec.json").read_text())}


def test_training_loss_goes_down_on_a_small_overfit_set(trained: Dict[str, Any]) -> None:
    train = [m for m in tt.read_metrics(trained["run_dir"]) if m["split"] == "train"]
    losses = [m["loss"] for m in train]
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses


def test_metrics_lines_follow_the_protocol(trained: Dict[str, Any]) -> None:
    spec = trained["spec"]
    metrics = tt.read_metrics(trained["run_dir"])
    train = [m for m in metrics if m["split"] == "train"]
    evals = [m for m in metrics if m["split"] == "eval"]
    assert [m["step"] for m in train] == list(range(1, spec["steps"] + 1))
    assert [m["step"] for m in evals] == list(range(spec["eval_every"], spec["steps"] + 1, spec["eval_every"]))
    for m in metrics:
        assert TIME.match(m["time"]) and all(np.isfinite(v) for k, v in m.items() if k not in ("split", "time"))
    for m in train:
        assert set(m) == {"step", "time", "split", "loss", "learning_rate"}
    for m in evals:
        assert set(m) == {"step", "time", "split", "loss", *METRICS_BY_TASK[spec["task"]]}
    # Linear warm-up to the spec's rate, then decay.
    rates = [m["learning_rate"] for m in train]
    warm = spec["warmup_steps"]
    assert rates[:warm] == sorted(rates[:warm]) and rates[warm - 1] == pytest.approx(spec["learning_rate"])
    assert rates[warm:] == sorted(rates[warm:], reverse=True) and rates[-1] < spec["learning_rate"] / 10


def test_status_records_progress_and_checkpoints(trained: Dict[str, Any]) -> None:
    status = json.loads((trained["run_dir"] / "status.json").read_text())
    assert status["step"] == 10 and status["total_steps"] == 10
    assert status["checkpoints"] == ["checkpoints/step-5"]
    assert status["state"] == "preparing"  # the supervisor, not finetune, owns the state


def test_checkpoints_load_with_transformers_and_differ_from_the_base(trained: Dict[str, Any], base_model: Path) -> None:
    run_dir = trained["run_dir"]
    base = load_file(str(base_model / "model.safetensors"))
    for folder in (run_dir / "checkpoints" / "step-5", run_dir / "checkpoints" / "final"):
        for name in MODEL_FILES:
            assert (folder / name).is_file(), f"{folder.name} lacks {name}"
        model = Pix2StructForConditionalGeneration.from_pretrained(folder)
        processor = Pix2StructProcessor.from_pretrained(folder)
        assert processor.image_processor.max_patches == trained["spec"]["max_patches"]
        weights = load_file(str(folder / "model.safetensors"))
        assert set(weights) == set(base)
        changed = [k for k in base if not torch.equal(base[k], weights[k])]
        assert len(changed) > len(base) // 2
        # The checkpoint generates from a picture through its own processor.
        inputs = processor(images=Image.open(run_dir / "data" / "images" / "shape-0.png"), return_tensors="pt",
                           max_patches=trained["spec"]["max_patches"])
        ids = model.generate(**inputs, max_new_tokens=5)
        assert ids.shape[0] == 1
    assert not (run_dir / "checkpoints" / "final" / "training_state.pt").exists()
    assert not [p for p in (run_dir / "checkpoints").iterdir() if p.name.startswith(".")]


def test_a_resumed_run_continues_from_its_checkpoint_and_ends_where_an_uninterrupted_one_does(
        trained: Dict[str, Any], tmp_path: Path) -> None:
    original = trained["run_dir"]
    run_dir = tmp_path / "r1"
    shutil.copytree(original, run_dir)
    # As if the host had died after step 7: checkpoint 5 exists, final does not.
    shutil.rmtree(run_dir / "checkpoints" / "final")
    metrics = tt.read_metrics(original)
    kept = [m for m in metrics if m["step"] <= 7]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in kept))
    proc = tt.run_finetune(run_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resuming at step 5 from checkpoints/step-5" in proc.stdout
    resumed = tt.read_metrics(run_dir)[len(kept):]
    assert [m["step"] for m in resumed if m["split"] == "train"] == [6, 7, 8, 9, 10]
    # Same model, optimizer, schedule, data order and dropout masks: the same losses and weights.
    expected = {m["step"]: m for m in metrics if m["split"] == "train"}
    for m in resumed:
        if m["split"] == "train":
            assert m["loss"] == expected[m["step"]]["loss"]
            assert m["learning_rate"] == expected[m["step"]]["learning_rate"]
    a = load_file(str(original / "checkpoints" / "final" / "model.safetensors"))
    b = load_file(str(run_dir / "checkpoints" / "final" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_sigterm_stops_training_promptly_and_saves_nothing_partial(base_model: Path, tmp_path: Path) -> None:
    run_dir = tt.make_run_dir(tmp_path / "r2", tt.spec_for(base_model, steps=1000, save_every=3, eval_every=0))
    tt.write_converted_dataset(run_dir / "data")
    proc = subprocess.Popen(tt.finetune_argv(run_dir), cwd=tt.REMOTE, env=tt.child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 50
    while not (run_dir / "checkpoints" / "step-3").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    out, _ = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 10
    assert proc.returncode == 143, out
    assert "stopped by SIGTERM" in out
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert "final" not in names and all(re.match(r"^step-\d+$", n) for n in names), names
    for name in names:
        assert (run_dir / "checkpoints" / name / "training_state.pt").is_file()


def test_a_header_is_drawn_like_the_reference_vqa_rendering(base_model: Path) -> None:
    """The training picture for a question equals the fixture's reference VQA rendering."""
    index = json.loads((tt.FIXTURE / "index.json").read_text())
    header = index["generator"]["header_text"]
    batcher = Batcher(Pix2StructProcessor.from_pretrained(base_model), 64, 16, vqa=True)
    drawn = batcher.picture({"image": str(tt.FIXTURE / "images" / "chart_640x480.png"), "header": header})
    reference = np.asarray(Image.open(tt.FIXTURE / "images" / "vqa_rendered_chart.png").convert("RGB"))
    assert drawn.shape == reference.shape
    assert np.abs(drawn.astype(int) - reference.astype(int)).max() <= 1


def test_a_missing_picture_is_an_error_naming_the_file(base_model: Path, tmp_path: Path) -> None:
    batcher = Batcher(Pix2StructProcessor.from_pretrained(base_model), 64, 16, vqa=False)
    with pytest.raises(InputError, match="nope.png"):
        batcher([{"image": str(tmp_path / "nope.png"), "header": None, "target": "x"}])
