"""Runs the TPU plan on a Cloud TPU VM worker and keeps the run folder current (training/PROTOCOL.md).

Two ways in:
- the supervisor (control.py start) of a single-host run calls `run_tpu_pipeline(run_dir, spec, log)`,
  which runs every phase in order;
- the launcher of a multi-host slice runs one phase at a time on the workers that need it
  (`python3 -m pix2struct_remote.tpu PHASE RUNDIR`, install and train with gcloud's --worker=all).

`dry_run` records each command line (runs/<id>/tpu-dry-run.jsonl and run.log) instead of
executing it: t5x, Beam and the cloud cannot run in tests, and a stand-in that pretended success
would prove nothing. Commands run with subprocess and no shell.
"""
import json
import os
import subprocess
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from . import plan
from .metrics_parse import parse_metric_line
from .run_io import RunIO, files_io, utc_now

PHASES = ("install", "preprocess", "train", "convert")
DRY_RUN_RECORD = "tpu-dry-run.jsonl"
# Status for each phase: (state, phase) as PROTOCOL.md names them.
PHASE_STATUS = {
    "install": ("installing", None),
    "preprocess": ("running", "converting"),
    "train": ("running", "training"),
    "convert": ("running", "saving"),
}


class PipelineError(RuntimeError):
    """A step failed; the message names the step and its exit code."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Context:
    """What every phase needs."""

    run_dir: str
    spec: Dict[str, Any]
    io: RunIO
    dry_run: bool
    home: str
    python: Optional[str] = None


def _record(ctx: Context, step: plan.Step) -> None:
    line = json.dumps(step.to_json(), ensure_ascii=False)
    with open(os.path.join(ctx.run_dir, DRY_RUN_RECORD), "a", encoding="utf-8") as f:
        f.write(line + "\n")
    ctx.io.log(f"dry run, not executed: {step.name}: {json.dumps(list(step.argv), ensure_ascii=False)}")


def run_step(ctx: Context, step: plan.Step, on_line: Optional[Callable[[str], None]] = None) -> str:
    """Runs (or records) one step, logging its output line by line; returns the output."""
    if step.skip_if_exists and os.path.exists(step.skip_if_exists):
        ctx.io.log(f"skipped {step.name}: {step.skip_if_exists} exists")
        return ""
    if ctx.dry_run:
        _record(ctx, step)
        return ""
    ctx.io.log(f"$ {step.name}: {json.dumps(list(step.argv), ensure_ascii=False)}")
    env = {**os.environ, **step.env, "PYTHONUNBUFFERED": "1"}
    try:
        child = subprocess.Popen(list(step.argv), cwd=step.cwd, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except FileNotFoundError as err:
        raise PipelineError(f"{step.name}: {step.argv[0]} is not installed on this TPU VM ({err})", 127) from None
    output: List[str] = []
    assert child.stdout is not None
    for raw in child.stdout:
        text = raw.decode("utf-8", errors="replace").rstrip("\n")
        output.append(text)
        ctx.io.log(text)
        if on_line:
            on_line(text)
    code = child.wait()
    if code != 0:
        raise PipelineError(f"{step.name} failed with exit code {code}", code)
    return "\n".join(output)


def _train_line(ctx: Context) -> Callable[[str], None]:
    def on_line(text: str) -> None:
        record = parse_metric_line(text, utc_now())
        if record:
            ctx.io.metric(record)
            ctx.io.status(step=record["step"], message=f"step {record['step']}")
    return on_line


def fix_converted_config(final_dir: str, is_vqa: bool) -> None:
    """Writes the task's is_vqa into the converted config files.

    transformers' converter parses --is_vqa but does not pass it on (its config is always
    is_vqa=false and its processor always true), so the flag is applied here.
    """
    for name, keys in (("config.json", ("is_vqa",)), ("preprocessor_config.json", ("is_vqa",))):
        path = os.path.join(final_dir, name)
        if not os.path.exists(path):
            raise PipelineError(f"the converter wrote no {name} in {final_dir}")
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        for key in keys:
            config[key] = is_vqa
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    if not any(os.path.exists(os.path.join(final_dir, w)) for w in ("model.safetensors", "pytorch_model.bin")):
        raise PipelineError(f"the converter wrote no weights in {final_dir}")


def _steps(ctx: Context) -> List[plan.Step]:
    return plan.build_plan(ctx.spec, ctx.run_dir, ctx.home, ctx.python)


def run_phase(ctx: Context, phase: str) -> None:
    """Runs one phase's steps; the last phase (convert) ends the run as succeeded."""
    if phase not in PHASES:
        raise PipelineError(f"unknown TPU phase {phase!r} (expected one of {', '.join(PHASES)})")
    state, status_phase = PHASE_STATUS[phase]
    ctx.io.status(state=state, phase=status_phase, message=f"TPU {phase}" + (" (dry run)" if ctx.dry_run else ""))
    steps = _steps(ctx)
    if phase == "preprocess":
        for step in steps:
            if step.phase in ("stage", "preprocess"):
                run_step(ctx, step)
        return
    if phase == "convert":
        _convert(ctx, steps)
        return
    for step in steps:
        if step.phase == phase:
            run_step(ctx, step, _train_line(ctx) if phase == "train" else None)


def _convert(ctx: Context, steps: List[plan.Step]) -> None:
    options = plan.tpu_options(ctx.spec)
    listing_step = next(s for s in steps if s.name == "list t5x checkpoints")
    listing = run_step(ctx, listing_step)
    run_id = os.path.basename(os.path.normpath(ctx.run_dir))
    checkpoint = (f"{plan.model_dir(options, run_id)}/checkpoint_DRY_RUN" if ctx.dry_run
                  else plan.pick_checkpoint(listing))
    paths = plan.Paths(home=ctx.home, run_dir=ctx.run_dir)
    python = ctx.python or ctx.spec.get("python") or "python3"
    run_step(ctx, plan.convert_step(ctx.spec, options, paths, python, checkpoint))
    if not ctx.dry_run:
        fix_converted_config(paths.final_checkpoint, ctx.spec["task"] in plan.VQA_TASKS)
    run_step(ctx, plan.copy_to_bucket_step(options, paths, run_id))
    if ctx.dry_run:
        ctx.io.status(state="succeeded", phase=None, message="dry run: every command recorded, nothing executed")
        return
    ctx.io.status(state="succeeded", phase=None, message=f"converted {checkpoint}",
                  final_checkpoint="checkpoints/final")


def _fail(ctx: Context, err: Exception) -> None:
    code = err.exit_code if isinstance(err, PipelineError) else 1
    ctx.io.log(f"error: {err}")
    ctx.io.status(state="failed", message=str(err), exit_code=code)


def run_phases(ctx: Context, phases: List[str]) -> bool:
    """Runs phases in order; a failure marks the run failed and returns False."""
    try:
        for phase in phases:
            run_phase(ctx, phase)
    except (PipelineError, plan.PlanError, OSError) as err:
        _fail(ctx, err)
        return False
    return True


def run_tpu_pipeline(run_dir: str, spec: Dict[str, Any], log: Callable[[str], None], dry_run: bool = False) -> int:
    """The supervisor's entry for backend "tpu": every phase on this (single-host) VM; returns an exit code."""
    run_dir = os.path.abspath(run_dir)
    io = files_io(run_dir, log)
    ctx = Context(run_dir=run_dir, spec=spec, io=io, dry_run=dry_run, home=os.path.expanduser("~"))
    return 0 if run_phases(ctx, list(PHASES)) else 1
