"""Where the TPU pipeline reports: run.log lines, status.json changes, metrics.jsonl records (run_files)."""
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional

from .. import run_files as rf

utc_now = rf.utc_now


@dataclass
class RunIO:
    """The pipeline's three outputs, replaceable in tests."""

    log: Callable[[str], None]
    status: Callable[..., Any]
    metric: Callable[[Dict[str, Any]], None]


def files_io(run_dir: str, log: Optional[Callable[[str], None]] = None) -> RunIO:
    """Writers into run_dir; `log` (the supervisor's) replaces the plain run.log appender."""
    return RunIO(log or (lambda line: rf.append_log(run_dir, line)),
                 lambda **changes: rf.update_status(run_dir, **changes),
                 lambda record: rf.append_metric(run_dir, record))
