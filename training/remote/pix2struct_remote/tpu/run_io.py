"""The run folder writers the TPU pipeline needs: log lines, status changes, metric records.

They are pix2struct_remote.run_files (the supervisor's, with its status lock) where that module is
present; the small stand-ins below keep the same file formats for a code copy without it.
"""
import datetime
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict

try:  # the remote-run side of the protocol
    from .. import run_files as _run_files  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on which branches the code copy holds
    _run_files = None


def utc_now() -> str:
    """ISO 8601 UTC with a Z, whole seconds (PROTOCOL.md)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RunIO:
    """Where the pipeline reports."""

    log: Callable[[str], None]
    status: Callable[..., Any]
    metric: Callable[[Dict[str, Any]], None]


def _append(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode("utf-8", errors="replace"))
    finally:
        os.close(fd)


def _update_status(run_dir: str, **changes: Any) -> None:
    path = os.path.join(run_dir, "status.json")
    try:
        with open(path, encoding="utf-8") as f:
            status = json.load(f)
    except FileNotFoundError:
        status = {"state": "preparing", "checkpoints": []}
    if status.get("state") in ("succeeded", "failed", "cancelled"):
        return
    status.update(changes)
    status["updated_at"] = utc_now()
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(status, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def files_io(run_dir: str, log: Callable[[str], None] = None) -> RunIO:  # type: ignore[assignment]
    """Writers into run_dir; `log` (the supervisor's) replaces the plain run.log appender."""
    if _run_files is not None:
        line_log = log or (lambda line: _run_files.append_log(run_dir, line))
        return RunIO(line_log, lambda **c: _run_files.update_status(run_dir, **c),
                     lambda record: _run_files.append_metric(run_dir, record))
    line_log = log or (lambda line: _append(os.path.join(run_dir, "run.log"), f"[{utc_now()}] {line.rstrip()}\n"))
    return RunIO(line_log, lambda **c: _update_status(run_dir, **c),
                 lambda record: _append(os.path.join(run_dir, "metrics.jsonl"), json.dumps(record) + "\n"))
