"""Optimizer, learning-rate schedule and checkpoints (model files plus the state to resume from).

A checkpoint folder is what model-runtime opens (config.json, model.safetensors,
generation_config.json, preprocessor_config.json, tokenizer files) plus training_state.pt, which
holds what a restarted run needs to continue exactly: optimizer and scheduler state, the step,
the data position and the random generators. It is written under a temporary name and renamed
when complete, so a crash or SIGTERM never leaves half a checkpoint under a step-N name.
"""
import math
import os
import random
import re
import shutil
from typing import Any, Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch
from transformers.optimization import Adafactor

TRAINING_STATE = "training_state.pt"
KEEP_STEP_CHECKPOINTS = 3


def make_optimizer(name: str, params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The paper's Adafactor (fixed learning rate, no parameter scaling) or AdamW."""
    if name == "adafactor":
        return Adafactor(params, lr=lr, scale_parameter=False, relative_step=False, warmup_init=False)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    raise ValueError(f"unknown optimizer {name!r}")


def warmup_cosine(warmup_steps: int, total_steps: int):
    """Learning-rate factor: linear from 0 to 1 over the warm-up, then cosine down to 0 at the last step."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        span = max(total_steps - warmup_steps, 1)
        progress = min((step - warmup_steps) / span, 1.0)
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def rng_state() -> Dict[str, Any]:
    """Every random generator training draws from."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restores what rng_state saved."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def step_checkpoints(checkpoints_dir: str) -> List[Tuple[int, str]]:
    """Complete resumable checkpoints (step, folder), oldest first."""
    try:
        names = os.listdir(checkpoints_dir)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        m = re.match(r"^step-(\d+)$", name)
        folder = os.path.join(checkpoints_dir, name)
        if m and os.path.isfile(os.path.join(folder, TRAINING_STATE)):
            found.append((int(m.group(1)), folder))
    return sorted(found)


def save_model_folder(folder: str, model: Any, processor: Any) -> None:
    """Writes the files model-runtime loads: weights as safetensors, configs, processor and tokenizer."""
    model.save_pretrained(folder, safe_serialization=True)
    processor.save_pretrained(folder)


def save_checkpoint(checkpoints_dir: str, name: str, model: Any, processor: Any,
                    training_state: Optional[Dict[str, Any]]) -> str:
    """Writes checkpoints/<name> atomically (temporary folder, then rename); returns its path."""
    os.makedirs(checkpoints_dir, exist_ok=True)
    final = os.path.join(checkpoints_dir, name)
    tmp = os.path.join(checkpoints_dir, f".partial-{name}")
    shutil.rmtree(tmp, ignore_errors=True)
    save_model_folder(tmp, model, processor)
    if training_state is not None:
        torch.save(training_state, os.path.join(tmp, TRAINING_STATE))
    if os.path.exists(final):
        old = os.path.join(checkpoints_dir, f".old-{name}")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final)
    return final


def prune_step_checkpoints(checkpoints_dir: str, keep: int = KEEP_STEP_CHECKPOINTS) -> List[str]:
    """Deletes all but the newest `keep` step checkpoints (disk fills quickly at 1 GB each); returns them."""
    removed = []
    for _, folder in step_checkpoints(checkpoints_dir)[:-keep]:
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def remove_partial(checkpoints_dir: str) -> None:
    """Clears what an interrupted save left behind."""
    try:
        names = os.listdir(checkpoints_dir)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith(".partial-") or name.startswith(".old-"):
            shutil.rmtree(os.path.join(checkpoints_dir, name), ignore_errors=True)
