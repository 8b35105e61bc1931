"""Run control on the remote host: the commands of training/PROTOCOL.md's control.py table.

usage: control.py init RUNDIR              (spec JSON on stdin)
       control.py set-state RUNDIR STATE   (message on stdin)
       control.py start RUNDIR
       control.py status RUNDIR
       control.py tail RUNDIR LOG_OFFSET METRICS_OFFSET
       control.py cancel RUNDIR
       control.py list RUNSDIR

Standard library only, Python 3.8+. Every command prints JSON on stdout and exits 0, or prints
{"error": "..."} and exits 1. User-typed values only ever arrive on stdin.
"""
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

CODE_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, CODE_DIR)

from pix2struct_remote import run_files as rf  # noqa: E402
from pix2struct_remote.process_group import DetachError, detach_into_session, group_alive, terminate_run  # noqa: E402

LAUNCHER_STATES = ("uploading", "failed")
TAIL_POLL_S = 0.25
HEARTBEAT_S = 5.0
TAIL_CHUNK = 256 * 1024
CANCEL_GRACE_S = 10.0


def emit(value: Any) -> None:
    """Writes one JSON line to stdout and flushes it (tail's consumer reads as it arrives)."""
    # UTF-8 whatever the host's locale says: the launcher decodes UTF-8.
    sys.stdout.buffer.write((json.dumps(value, ensure_ascii=False) + "\n").encode("utf-8"))
    sys.stdout.buffer.flush()


def read_stdin() -> str:
    """stdin as UTF-8 (the launcher's encoding), whatever the host's locale says."""
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        raise rf.RunError(f"stdin is not UTF-8: {e}") from None


def reconcile(run_dir: str) -> Dict[str, Any]:
    """The run's status, first turning a started, non-terminal run with no live process into `failed`."""
    status = rf.read_status(run_dir)
    pgid = status.get("pgid")
    if status.get("state") not in rf.TERMINAL_STATES and isinstance(pgid, int) and not group_alive(pgid):
        # None when the supervisor reached a terminal state between the two reads.
        updated = rf.update_status(run_dir, state="failed", message="supervisor died")
        status = updated if updated is not None else rf.read_status(run_dir)
    return status


def cmd_init(run_dir: str) -> Dict[str, Any]:
    rf.check_run_dir_name(run_dir)
    try:
        spec = json.loads(read_stdin())
    except ValueError as e:
        raise rf.RunError(f"the spec on stdin is not JSON: {e}") from None
    spec = rf.validate_spec(spec)
    os.makedirs(os.path.dirname(os.path.abspath(run_dir)), exist_ok=True)
    try:
        os.mkdir(run_dir)
    except FileExistsError:
        raise rf.RunError(f"run folder {run_dir} already exists") from None
    rf.write_json_atomic(os.path.join(run_dir, rf.SPEC_FILE), spec)
    status = rf.initial_status()
    rf.write_json_atomic(os.path.join(run_dir, rf.STATUS_FILE), status)
    rf.append_log(run_dir, "state: preparing")
    return status


def cmd_set_state(run_dir: str, state: str) -> Dict[str, Any]:
    if state not in LAUNCHER_STATES:
        raise rf.RunError(f"set-state accepts {' or '.join(LAUNCHER_STATES)}, not {state!r}")
    message = read_stdin().strip()
    current = rf.read_status(run_dir)
    if current.get("state") in rf.TERMINAL_STATES:
        raise rf.RunError(f"the run is already {current['state']}; a finished run cannot change state")
    if state == "uploading" and current.get("state") not in ("preparing", "uploading"):
        raise rf.RunError(f"cannot go back to uploading from {current.get('state')}")
    updated = rf.update_status(run_dir, state=state, message=message)
    if updated is None:
        raise rf.RunError("the run finished meanwhile; its state is unchanged")
    return updated


def _detach_supervisor(run_dir: str) -> int:
    """Starts the supervisor in its own session; returns its process group id."""
    run_dir = os.path.abspath(run_dir)

    def supervise() -> int:
        os.chdir(CODE_DIR)
        env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=CODE_DIR, PYTHONIOENCODING="utf-8")
        os.execve(sys.executable, [sys.executable, "-m", "pix2struct_remote.supervisor", run_dir], env)
        return 1  # execve does not return

    try:
        _, pgid = detach_into_session(os.path.join(run_dir, rf.LOG_FILE), supervise)
    except DetachError as err:
        raise rf.RunError(f"could not start the supervisor ({err})") from err
    return pgid


def cmd_start(run_dir: str) -> Dict[str, Any]:
    with rf.status_lock(run_dir):
        status = rf.read_status(run_dir)
        state = status.get("state")
        if state in rf.TERMINAL_STATES:
            raise rf.RunError(f"the run is already {state}")
        pgid = status.get("pgid")
        if isinstance(pgid, int) and group_alive(pgid):
            raise rf.RunError(f"the run's supervisor is already running (process group {pgid})")
        pgid = _detach_supervisor(run_dir)
        status["pgid"] = pgid
        status["updated_at"] = rf.utc_now()
        rf.write_json_atomic(os.path.join(run_dir, rf.STATUS_FILE), status)
    return {"pgid": pgid}


def cmd_status(run_dir: str) -> Dict[str, Any]:
    return reconcile(run_dir)


def cmd_cancel(run_dir: str) -> Dict[str, Any]:
    status = rf.read_status(run_dir)
    pgid = status.get("pgid")
    if status.get("state") not in rf.TERMINAL_STATES:
        # Cancelled first, so the supervisor, dying of SIGTERM, cannot record `failed` instead.
        rf.update_status(run_dir, state="cancelled", message="cancelled by the user")
    if isinstance(pgid, int) and not terminate_run(pgid, CANCEL_GRACE_S):
        raise rf.RunError(f"some processes of process group {pgid} survived SIGKILL")
    return rf.read_status(run_dir)


def cmd_list(runs_dir: str) -> List[Dict[str, Any]]:
    out = []
    try:
        names = sorted(os.listdir(runs_dir))
    except FileNotFoundError:
        return []
    for name in names:
        run_dir = os.path.join(runs_dir, name)
        if not rf.RUN_ID_PATTERN.match(name) or not os.path.isfile(os.path.join(run_dir, rf.STATUS_FILE)):
            continue
        try:
            spec = rf.read_spec(run_dir)
            status = reconcile(run_dir)
        except (OSError, ValueError, rf.RunError):
            continue
        out.append({"id": name, "name": spec.get("name"), "task": spec.get("task"),
                    "state": status.get("state"), "updated_at": status.get("updated_at")})
    return out


def _read_lines(path: str, offset: int, final: bool) -> Tuple[bytes, int]:
    """Complete lines of `path` from `offset` (up to TAIL_CHUNK bytes); the remainder too when `final`."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(TAIL_CHUNK)
    except FileNotFoundError:
        return b"", offset
    if final and len(data) < TAIL_CHUNK:
        return data, offset + len(data)
    end = data.rfind(b"\n")
    if end >= 0:
        data = data[: end + 1]
    elif len(data) == TAIL_CHUNK:
        # One line longer than a chunk (a progress bar redrawn with \r): send it in pieces, cut
        # between UTF-8 characters, rather than stall behind it.
        cut = len(data)
        while cut > 0 and data[cut - 1] & 0xC0 == 0x80:
            cut -= 1
        if cut > 0 and data[cut - 1] >= 0xC0:
            cut -= 1
        data = data[:cut] if cut > 0 else data
    else:
        return b"", offset
    return data, offset + len(data)


def _check_offset(path: str, offset: int, what: str) -> None:
    size = os.path.getsize(path) if os.path.exists(path) else 0
    if offset > size:
        raise rf.RunError(f"{what} offset {offset} is past the end of the file ({size} bytes)")


def _drain(run_dir: str, log_offset: int, metrics_offset: int, final: bool) -> Tuple[int, int, bool]:
    """Sends what is new in run.log and metrics.jsonl; returns the new offsets and whether anything was sent."""
    sent = False
    log_path = os.path.join(run_dir, rf.LOG_FILE)
    while True:
        data, log_offset = _read_lines(log_path, log_offset, final)
        if not data:
            break
        emit({"log": data.decode("utf-8", errors="replace"), "log_offset": log_offset})
        sent = True
    metrics_path = os.path.join(run_dir, rf.METRICS_FILE)
    while True:
        data, end = _read_lines(metrics_path, metrics_offset, False)
        if not data:
            break
        for line in data.splitlines(keepends=True):
            metrics_offset += len(line)
            try:
                metric = json.loads(line)
            except ValueError:
                continue  # a corrupt line is skipped, never resent
            emit({"metric": metric, "metrics_offset": metrics_offset})
            sent = True
    return log_offset, metrics_offset, sent


def cmd_tail(run_dir: str, log_offset_arg: str, metrics_offset_arg: str) -> Optional[Dict[str, Any]]:
    try:
        log_offset, metrics_offset = int(log_offset_arg), int(metrics_offset_arg)
    except ValueError:
        raise rf.RunError("offsets must be integers") from None
    if log_offset < 0 or metrics_offset < 0:
        raise rf.RunError("offsets must not be negative")
    rf.read_status(run_dir)
    _check_offset(os.path.join(run_dir, rf.LOG_FILE), log_offset, "log")
    _check_offset(os.path.join(run_dir, rf.METRICS_FILE), metrics_offset, "metrics")
    last_status: Optional[Dict[str, Any]] = None
    last_beat = time.monotonic()
    while True:
        # Status first: whatever was written before a terminal status is drained before it is sent.
        status = reconcile(run_dir)
        terminal = status.get("state") in rf.TERMINAL_STATES
        log_offset, metrics_offset, sent = _drain(run_dir, log_offset, metrics_offset, terminal)
        if status != last_status:
            emit({"status": status})
            last_status = status
            sent = True
        if terminal:
            return None
        now = time.monotonic()
        if sent:
            last_beat = now
        elif now - last_beat >= HEARTBEAT_S:
            emit({"heartbeat": rf.utc_now()})
            last_beat = now
        time.sleep(TAIL_POLL_S)


COMMANDS = {
    "init": (cmd_init, 1), "set-state": (cmd_set_state, 2), "start": (cmd_start, 1),
    "status": (cmd_status, 1), "tail": (cmd_tail, 3), "cancel": (cmd_cancel, 1), "list": (cmd_list, 1),
}


def main(argv: List[str]) -> int:
    if len(argv) < 1 or argv[0] not in COMMANDS:
        emit({"error": f"usage: control.py {{{','.join(COMMANDS)}}} RUNDIR [ARGS]"})
        return 2
    fn, nargs = COMMANDS[argv[0]]
    if len(argv) - 1 != nargs:
        emit({"error": f"{argv[0]} takes {nargs} argument(s), got {len(argv) - 1}"})
        return 2
    try:
        result = fn(*argv[1:])
        if argv[0] != "tail":
            emit(result)
        return 0
    except rf.RunError as e:
        emit({"error": str(e)})
        return 1
    except BrokenPipeError:
        # The connection dropped (tail); the launcher reconnects with the offsets it has.
        # Point stdout at /dev/null so that the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        emit({"error": f"{type(e).__name__}: {e}"})
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
