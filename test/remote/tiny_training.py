"""Builds what the fine-tuning tests train on: the fixture's tiny random Pix2Struct (model-a) with
a small T5-style tokenizer (test/python/make_tokenizer.py's recipe), and a few 64x64 pictures."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
REMOTE = REPO / "training" / "remote"
FIXTURE = REPO.parent / "shared" / "fixtures" / "pix2struct-tiny"
MODEL_A = FIXTURE / "model-a"
MAKE_TOKENIZER = REPO / "test" / "python" / "make_tokenizer.py"

CAPTIONS = ["a red square", "a blue circle", "a green bar", "a black line"]
COLOURS = ["red", "blue", "green", "black"]


def make_base_model(folder: Path) -> Path:
    """model-a plus a trained tokenizer.json: a base model a run can start from."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors"):
        shutil.copy(MODEL_A / name, folder / name)
    sentences = "\n".join(CAPTIONS + ["true false what colour is the shape"])
    subprocess.run([sys.executable, str(MAKE_TOKENIZER), str(folder)], input=sentences.encode(), check=True,
                   capture_output=True)
    return folder


def draw_pictures(folder: Path) -> List[str]:
    """Four 64x64 pictures, one shape each; returns their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, colour in enumerate(COLOURS):
        im = Image.new("RGB", (64, 64), "white")
        ImageDraw.Draw(im).rectangle([8 + 4 * i, 8, 40, 40 + 4 * i], fill=colour)
        name = f"shape-{i}.png"
        im.save(folder / name)
        names.append(name)
    return names


def write_converted_dataset(data_dir: Path, headers: Optional[List[Optional[str]]] = None) -> List[Dict[str, Any]]:
    """data/train.jsonl (all four pictures) and data/eval.jsonl (two) in the converted layout."""
    names = draw_pictures(data_dir / "images")
    headers = headers or [None] * len(names)
    records = [{"id": f"shape-{i}", "image": f"images/{n}", "header": headers[i], "target": CAPTIONS[i],
                "references": [CAPTIONS[i]], "group": None} for i, n in enumerate(names)]
    (data_dir / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (data_dir / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:2]))
    return records


def spec_for(base_model: Path, **overrides: Any) -> Dict[str, Any]:
    spec = {"name": "tiny", "task": "screen2words", "backend": "gpu",
            "dataset": {"format": "screen2words", "path": "upload/dataset"}, "base_model": str(base_model),
            "python": None, "steps": 10, "batch_size": 4, "grad_accum": 1, "learning_rate": 0.01,
            "optimizer": "adafactor", "warmup_steps": 2, "max_patches": 64, "max_target_length": 16,
            "eval_every": 5, "save_every": 5, "bf16": "auto", "num_processes": None, "seed": 0, "tpu": None}
    spec.update(overrides)
    return spec


def make_run_dir(run_dir: Path, spec: Dict[str, Any]) -> Path:
    """A run folder as `control.py init` leaves it (spec.json, status.json)."""
    sys.path.insert(0, str(REMOTE))
    from pix2struct_remote import run_files as rf

    run_dir.mkdir(parents=True)
    rf.write_json_atomic(str(run_dir / "spec.json"), rf.validate_spec(spec))
    rf.write_json_atomic(str(run_dir / "status.json"), rf.initial_status())
    return run_dir


def finetune_argv(run_dir: Path) -> List[str]:
    return [sys.executable, "-m", "pix2struct_remote.finetune", str(run_dir)]


def child_env() -> Dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REMOTE), PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false",
                HF_HUB_OFFLINE="1")


def run_finetune(run_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(finetune_argv(run_dir), cwd=REMOTE, env=child_env(), capture_output=True, text=True,
                          timeout=timeout)


def read_metrics(run_dir: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
