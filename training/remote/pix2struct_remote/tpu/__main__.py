"""One phase of a TPU run, driven by the launcher over `gcloud compute tpus tpu-vm ssh`.

    python3 -m pix2struct_remote.tpu run   PHASE RUNDIR [--dry-run]   in the foreground
    python3 -m pix2struct_remote.tpu start PHASE RUNDIR [--dry-run]   detached (own session), returns at once
    python3 -m pix2struct_remote.tpu wait  PHASE RUNDIR [--timeout S] until the phase ends or S seconds pass
    python3 -m pix2struct_remote.tpu cancel PHASE RUNDIR               stops a started phase and all it runs

A started phase survives the ssh connection (t5x.train runs for hours); the launcher calls `wait`
again after a drop. Phase outcomes live in RUNDIR/tpu-phases.json. Every action prints one JSON
object as its last line ({"error": …} with a non-zero exit on failure), like control.py.
"""
import argparse
import json
import os
import sys
import time
from typing import Any, Dict

from .. import run_files as rf
from ..process_group import DetachError, detach_into_session
from .pipeline import PHASES, Context, run_phases
from .run_io import files_io

PHASES_FILE = "tpu-phases.json"


def _read_phases(run_dir: str) -> Dict[str, Any]:
    try:
        with open(os.path.join(run_dir, PHASES_FILE), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _set_phase(run_dir: str, phase: str, **record: Any) -> None:
    phases = _read_phases(run_dir)
    phases[phase] = {**phases.get(phase, {}), **record}
    tmp = os.path.join(run_dir, f".{PHASES_FILE}.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(phases, f)
    os.replace(tmp, os.path.join(run_dir, PHASES_FILE))


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _run(args: argparse.Namespace, spec: Dict[str, Any]) -> int:
    """Runs the phase here and records its outcome."""
    run_dir = os.path.abspath(args.run_dir)
    ctx = Context(run_dir=run_dir, spec=spec, io=files_io(run_dir), dry_run=args.dry_run, home=os.path.expanduser("~"))
    phases = list(PHASES) if args.phase == "all" else [args.phase]
    ok = run_phases(ctx, phases)
    message = "" if ok else _status_message(run_dir)
    _set_phase(run_dir, args.phase, state="ok" if ok else "failed", message=message)
    return 0 if ok else 1


def _status_message(run_dir: str) -> str:
    try:
        with open(os.path.join(run_dir, "status.json"), encoding="utf-8") as f:
            return str(json.load(f).get("message") or "failed")
    except (OSError, ValueError):
        return "failed"


def _start(args: argparse.Namespace, spec: Dict[str, Any]) -> Dict[str, Any]:
    """Starts the phase in its own session, so closing the ssh connection does not end it."""
    run_dir = os.path.abspath(args.run_dir)
    current = _read_phases(run_dir).get(args.phase, {})
    if current.get("state") == "running" and _alive(current.get("pid")):
        return {"started": False, "pid": current["pid"]}
    _set_phase(run_dir, args.phase, state="running", message="", pid=None, started=time.time())

    def run_phase() -> int:
        try:
            return _run(args, spec)
        except BaseException as err:  # the outcome must be recorded whatever happens
            _set_phase(run_dir, args.phase, state="failed", message=f"{type(err).__name__}: {err}")
            return 1

    try:
        pid, _ = detach_into_session(os.path.join(run_dir, "run.log"), run_phase,
                                     on_started=lambda pid: _set_phase(run_dir, args.phase, pid=pid))
    except DetachError as err:
        _set_phase(run_dir, args.phase, state="failed", message=f"could not start the phase ({err})")
        raise RuntimeError(f"could not start the phase ({err})") from err
    return {"started": True, "pid": pid}


def _wait(args: argparse.Namespace) -> Dict[str, Any]:
    """The phase's outcome once it has one, or {"state": "running"} after --timeout seconds."""
    run_dir = os.path.abspath(args.run_dir)
    deadline = time.monotonic() + args.timeout
    while True:
        record = _read_phases(run_dir).get(args.phase)
        if record is None:
            return {"state": "not-started"}
        if record.get("state") in ("ok", "failed"):
            return {"state": record["state"], "message": record.get("message", "")}
        pid = record.get("pid")
        if pid is not None and not _alive(pid):
            # Re-read: the phase may have finished between the two reads.
            record = _read_phases(run_dir).get(args.phase, {})
            if record.get("state") == "running":
                _set_phase(run_dir, args.phase, state="failed", message="the phase's process died")
                return {"state": "failed", "message": "the phase's process died"}
            continue
        if time.monotonic() >= deadline:
            return {"state": "running"}
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))


def _cancel(args: argparse.Namespace) -> Dict[str, Any]:
    """SIGTERM, then SIGKILL, to the phase's session (t5x, Beam, pip and their children); the run is cancelled."""
    from ..process_group import terminate_run

    run_dir = os.path.abspath(args.run_dir)
    record = _read_phases(run_dir).get(args.phase, {})
    pid = record.get("pid")
    stopped = True
    if record.get("state") == "running" and isinstance(pid, int):
        # `start` made the phase the leader of its own session: its pid is the group to stop.
        stopped = terminate_run(pid, 10.0)
        _set_phase(run_dir, args.phase, state="failed", message="cancelled")
    if os.path.exists(os.path.join(run_dir, "status.json")):
        files_io(run_dir).status(state="cancelled", message="cancelled by the user")
    return {"cancelled": True, "stopped": stopped}


def main() -> int:
    """Parses the fixed words the launcher sends; the spec comes from the run folder."""
    parser = argparse.ArgumentParser(prog="pix2struct_remote.tpu")
    parser.add_argument("action", choices=("run", "start", "wait", "cancel"))
    parser.add_argument("phase", choices=(*PHASES, "all"))
    parser.add_argument("run_dir")
    parser.add_argument("--dry-run", action="store_true", help="record every command line instead of running it")
    parser.add_argument("--timeout", type=int, default=60, help="wait: longest wait in seconds")
    args = parser.parse_args()
    if args.action == "wait":
        print(json.dumps(_wait(args)))
        return 0
    if args.action == "cancel":
        result = _cancel(args)
        print(json.dumps(result))
        return 0 if result["stopped"] else 1
    try:
        with open(os.path.join(args.run_dir, "spec.json"), encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as err:
        print(json.dumps({"error": f"cannot read the run's spec.json: {err}"}))
        return 2
    status_path = os.path.join(args.run_dir, "status.json")
    if not os.path.exists(status_path):
        # Workers other than 0 of a slice get spec.json only (control.py init runs on worker 0).
        rf.write_json_atomic(status_path, rf.initial_status())
    if args.action == "start":
        try:
            print(json.dumps(_start(args, spec)))
        except RuntimeError as err:
            print(json.dumps({"error": str(err)}))
            return 1
        return 0
    code = _run(args, spec)
    print(json.dumps({"ok": True} if code == 0 else {"error": _status_message(os.path.abspath(args.run_dir))}))
    return code


if __name__ == "__main__":
    sys.exit(main())
