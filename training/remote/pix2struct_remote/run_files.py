"""The run folder's files (training/PROTOCOL.md): spec.json, status.json, run.log, metrics.jsonl.

Standard library only: control.py and the supervisor run under the host's system python3,
before any virtual environment exists. Every writer of status.json (control.py, the supervisor,
finetune) goes through `update_status`, which serialises read-modify-write with an flock and
replaces the file atomically, so a reader never sees half a file and no writer loses another's
fields.
"""
import datetime
import fcntl
import json
import os
import re
import tempfile
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional

STATES = ("preparing", "uploading", "installing", "running", "succeeded", "failed", "cancelled")
TERMINAL_STATES = ("succeeded", "failed", "cancelled")
TASKS = (
    "textcaps", "chartqa", "screen2words", "widget_captioning", "refexp",
    "docvqa", "infographicvqa", "ocrvqa", "ai2d", "custom",
)
# The one run-id pattern of the Python side (the launcher's is training/launcher/run-id.ts; a shared
# list in test/remote/fixtures/run-ids.json holds both to the same verdicts). \Z, not $: Python's $
# also matches before a trailing newline, so "abc\n" would pass where the launcher refuses it.
RUN_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")

SPEC_FILE = "spec.json"
STATUS_FILE = "status.json"
LOCK_FILE = ".status.lock"
LOG_FILE = "run.log"
METRICS_FILE = "metrics.jsonl"
CHECKPOINTS_DIR = "checkpoints"
DATA_DIR = "data"

# Spec fields the launcher may leave out, with the paper's fine-tuning recipe as defaults.
SPEC_DEFAULTS: Dict[str, Any] = {
    "backend": "gpu", "python": None, "batch_size": 8, "grad_accum": 1, "learning_rate": 0.01,
    "optimizer": "adafactor", "warmup_steps": 0, "max_patches": 2048, "max_target_length": 128,
    "eval_every": 0, "save_every": 0, "bf16": "auto", "num_processes": None, "seed": 0, "tpu": None,
}


class RunError(Exception):
    """A request about a run that cannot be honoured; its message is shown to the user."""


def utc_now() -> str:
    """The current time as the protocol writes it: ISO 8601 UTC with a Z, whole seconds."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_run_dir_name(run_dir: str) -> None:
    """Refuses a run folder whose last component is not a launcher-made run id."""
    name = os.path.basename(os.path.normpath(run_dir))
    if not RUN_ID_PATTERN.match(name):
        raise RunError(f"run folder name {name!r} is not a run id (expected {RUN_ID_PATTERN.pattern})")


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise RunError(f"invalid run spec: {message}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_spec(spec: Any) -> Dict[str, Any]:
    """Checks a RunSpec read from the launcher and returns it with optional fields filled in."""
    _require(isinstance(spec, dict), "expected a JSON object")
    out = dict(SPEC_DEFAULTS)
    out.update(spec)
    _require(isinstance(out.get("name"), str), "name must be a string")
    _require(out.get("task") in TASKS, f"task must be one of {', '.join(TASKS)}")
    _require(out["backend"] in ("gpu", "tpu"), "backend must be gpu or tpu")
    dataset = out.get("dataset")
    _require(isinstance(dataset, dict), "dataset must be an object with format and path")
    _require(dataset.get("format") in TASKS, f"dataset.format must be one of {', '.join(TASKS)}")
    _require(isinstance(dataset.get("path"), str) and dataset["path"] != "", "dataset.path must be a non-empty string")
    _require(isinstance(out.get("base_model"), str) and out["base_model"] != "", "base_model must be a non-empty string")
    _require(out["python"] is None or (isinstance(out["python"], str) and out["python"] != ""), "python must be null or a path")
    for key in ("steps", "batch_size", "grad_accum", "max_patches", "max_target_length"):
        _require(_is_int(out.get(key)) and out[key] >= 1, f"{key} must be a positive integer")
    for key in ("warmup_steps", "eval_every", "save_every", "seed"):
        _require(_is_int(out.get(key)) and out[key] >= 0, f"{key} must be a non-negative integer")
    _require(isinstance(out["learning_rate"], (int, float)) and not isinstance(out["learning_rate"], bool)
             and out["learning_rate"] > 0, "learning_rate must be a positive number")
    _require(out["optimizer"] in ("adafactor", "adamw"), "optimizer must be adafactor or adamw")
    _require(out["bf16"] in ("auto", "on", "off"), "bf16 must be auto, on or off")
    _require(out["num_processes"] is None or (_is_int(out["num_processes"]) and out["num_processes"] >= 1),
             "num_processes must be null or a positive integer")
    return out


def read_json(path: str) -> Any:
    """Reads one JSON file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json_atomic(path: str, value: Any) -> None:
    """Writes JSON to a temporary file in the same folder, fsyncs it and renames it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_spec(run_dir: str) -> Dict[str, Any]:
    """The run's spec.json."""
    return read_json(os.path.join(run_dir, SPEC_FILE))


def read_status(run_dir: str) -> Dict[str, Any]:
    """The run's status.json; a missing run is a RunError."""
    path = os.path.join(run_dir, STATUS_FILE)
    try:
        return read_json(path)
    except FileNotFoundError:
        raise RunError(f"no run at {run_dir} (status.json is missing)") from None


def initial_status() -> Dict[str, Any]:
    """status.json as `init` writes it."""
    return {
        "state": "preparing", "phase": None, "message": "", "updated_at": utc_now(), "pgid": None,
        "exit_code": None, "step": None, "total_steps": None, "checkpoints": [], "final_checkpoint": None,
    }


@contextmanager
def status_lock(run_dir: str) -> Iterator[None]:
    """Holds the run's status lock (an flock on a sidecar file, released if the holder dies)."""
    fd = os.open(os.path.join(run_dir, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def update_status(run_dir: str, **changes: Any) -> Optional[Dict[str, Any]]:
    """Applies `changes` to status.json and returns the new status.

    A terminal status is never changed: the call returns None instead (a supervisor that learns
    of its child's death after a cancel must not turn `cancelled` into `failed`). A state change
    is also written to run.log as a line.
    """
    state = changes.get("state")
    if state is not None and state not in STATES:
        raise RunError(f"unknown state {state!r}")
    with status_lock(run_dir):
        status = read_status(run_dir)
        if status.get("state") in TERMINAL_STATES:
            return None
        previous = status.get("state")
        status.update(changes)
        status["updated_at"] = utc_now()
        # The log line goes first: `tail` exits once it sees a terminal status and the log drained,
        # so a line written after the status could be missed by the reader.
        if state is not None and state != previous:
            message = changes.get("message")
            append_log(run_dir, f"state: {state}" + (f" ({message})" if message else ""))
        write_json_atomic(os.path.join(run_dir, STATUS_FILE), status)
    return status


def append_log(run_dir: str, line: str) -> None:
    """Appends one timestamped line to run.log (O_APPEND, so concurrent writers interleave whole lines)."""
    data = f"[{utc_now()}] {line.rstrip()}\n".encode("utf-8", errors="replace")
    fd = os.open(os.path.join(run_dir, LOG_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def append_metric(run_dir: str, record: Dict[str, Any]) -> None:
    """Appends one line to metrics.jsonl in a single write."""
    data = (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    fd = os.open(os.path.join(run_dir, METRICS_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def list_checkpoints(run_dir: str) -> List[str]:
    """Complete step checkpoints, oldest first, as run-relative paths (checkpoints/step-N)."""
    root = os.path.join(run_dir, CHECKPOINTS_DIR)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    steps = sorted(int(n[5:]) for n in names if re.match(r"^step-\d+$", n))
    return [f"{CHECKPOINTS_DIR}/step-{s}" for s in steps]
