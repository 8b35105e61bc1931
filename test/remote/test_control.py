"""control.py as the launcher drives it: real processes, a real detached supervisor, and
fake-train-python standing in for torch (the training program has its own tests)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTROL = REPO / "training" / "remote" / "control.py"
FAKE_PYTHON = Path(__file__).resolve().parent / "fake-train-python"
TERMINAL = ("succeeded", "failed", "cancelled")


def control(*args: str, stdin: str = "", cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None) -> Tuple[int, Any]:
    """Runs one control.py command; returns (exit code, parsed stdout)."""
    proc = subprocess.run([sys.executable, str(CONTROL), *args], input=stdin.encode(), capture_output=True,
                          cwd=cwd, env=env, timeout=60)
    return proc.returncode, json.loads(proc.stdout)


def make_spec(tmp_path: Path, **overrides: Any) -> Dict[str, Any]:
    (tmp_path / "dataset").mkdir(exist_ok=True)
    spec = {"name": "run", "task": "screen2words", "backend": "gpu",
            "dataset": {"format": "screen2words", "path": str(tmp_path / "dataset")},
            "base_model": "google/pix2struct-base", "python": str(FAKE_PYTHON),
            "steps": 4, "save_every": 2}
    spec.update(overrides)
    return spec


def init_run(tmp_path: Path, run_id: str = "20261124-211500-3fa9c2", **overrides: Any) -> Path:
    run_dir = tmp_path / ".pix2struct" / "runs" / run_id
    code, out = control("init", str(run_dir), stdin=json.dumps(make_spec(tmp_path, **overrides)))
    assert code == 0, out
    return run_dir


def tail_all(run_dir: Path, log_offset: int = 0, metrics_offset: int = 0, env: Optional[Dict[str, str]] = None,
             stop_after_lines: Optional[int] = None, timeout: float = 50) -> Tuple[List[Dict[str, Any]], int]:
    """Runs tail until it exits (or kills it after `stop_after_lines` lines, as a dropped connection)."""
    proc = subprocess.Popen([sys.executable, str(CONTROL), "tail", str(run_dir), str(log_offset), str(metrics_offset)],
                            stdout=subprocess.PIPE, env=env)
    lines = []
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for raw in proc.stdout:
        lines.append(json.loads(raw))
        if stop_after_lines is not None and len(lines) >= stop_after_lines:
            proc.kill()
            break
        assert time.monotonic() < deadline, "tail did not finish"
    code = proc.wait(timeout=30)
    return lines, code


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def processes_of(pgid: int) -> List[int]:
    """Every live process whose process group or session is `pgid`, read from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{name}/stat").read_text(errors="replace")
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2:].split()
        if fields[0] != "Z" and (int(fields[2]) == pgid or int(fields[3]) == pgid):
            found.append(int(name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def test_init_writes_spec_and_preparing_status_and_refuses_a_second_init(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path)
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["name"] == "run" and spec["optimizer"] == "adafactor"  # defaults filled in
    code, status = control("status", str(run_dir))
    assert code == 0 and status["state"] == "preparing" and status["checkpoints"] == []
    code, out = control("init", str(run_dir), stdin=json.dumps(make_spec(tmp_path)))
    assert code != 0 and "already exists" in out["error"]


@pytest.mark.parametrize("spec_text, message", [
    ("not json", "not JSON"),
    (json.dumps({"name": "x"}), "task"),
    (json.dumps({"name": "x", "task": "screen2words", "dataset": {"format": "screen2words", "path": "d"},
                 "base_model": "m", "steps": 0}), "steps"),
])
def test_init_rejects_a_bad_spec_and_creates_nothing(tmp_path: Path, spec_text: str, message: str) -> None:
    run_dir = tmp_path / "runs" / "r1"
    code, out = control("init", str(run_dir), stdin=spec_text)
    assert code != 0 and message in out["error"]
    assert not run_dir.exists()


def test_init_refuses_a_folder_that_is_not_a_run_id(tmp_path: Path) -> None:
    code, out = control("init", str(tmp_path / "Not A Run"), stdin=json.dumps(make_spec(tmp_path)))
    assert code != 0 and "run id" in out["error"]


def test_unknown_command_and_missing_run_are_json_errors(tmp_path: Path) -> None:
    code, out = control("explode", str(tmp_path))
    assert code != 0 and "usage" in out["error"]
    code, out = control("status", str(tmp_path / "nope"))
    assert code != 0 and "no run" in out["error"]


def test_set_state_uploading_then_failed_then_nothing_leaves_the_terminal_state(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path)
    code, status = control("set-state", str(run_dir), "uploading", stdin="sending 3 files\n")
    assert code == 0 and status["state"] == "uploading" and status["message"] == "sending 3 files"
    code, out = control("set-state", str(run_dir), "running")
    assert code != 0 and "set-state accepts" in out["error"]
    code, status = control("set-state", str(run_dir), "failed", stdin="upload failed: disk full")
    assert code == 0 and status["state"] == "failed"
    code, out = control("set-state", str(run_dir), "uploading")
    assert code != 0 and "already failed" in out["error"]
    code, out = control("start", str(run_dir))
    assert code != 0
    assert "state: uploading (sending 3 files)" in (run_dir / "run.log").read_text()


def test_a_run_goes_through_every_state_and_tail_shows_it_in_order(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path)
    code, out = control("start", str(run_dir))
    assert code == 0 and isinstance(out["pgid"], int)
    lines, code = tail_all(run_dir)
    assert code == 0
    states = [(line["status"]["state"], line["status"]["phase"]) for line in lines if "status" in line]
    assert states[-1][0] == "succeeded"
    assert all(s[0] not in TERMINAL for s in states[:-1])
    # The log records each transition in order.
    log = "".join(line["log"] for line in lines if "log" in line)
    positions = [log.index(f"state: {s}") for s in ("preparing", "installing", "running", "succeeded")]
    assert positions == sorted(positions)
    assert log.encode() == (run_dir / "run.log").read_bytes()
    metrics = [line["metric"] for line in lines if "metric" in line]
    assert [m["step"] for m in metrics] == list(range(1, 5))
    final = json.loads((run_dir / "status.json").read_text())
    assert final["final_checkpoint"] == "checkpoints/final"
    assert final["checkpoints"] == ["checkpoints/step-2", "checkpoints/step-4"]
    assert final["pgid"] == out["pgid"] and processes_of(out["pgid"]) == []
    # The terminal status is the last line: everything before it was drained first.
    assert "status" in lines[-1]


def test_tail_reconnect_with_the_last_offsets_loses_and_repeats_nothing(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path, steps=8)
    env = dict(os.environ, FAKE_STEP_SECONDS="0.4")
    code, _ = control("start", str(run_dir), env=env)
    assert code == 0
    log_parts: List[str] = []
    metrics: List[Dict[str, Any]] = []
    log_offset = metrics_offset = 0
    done = False
    for attempt in range(40):
        # Drop the connection after a few lines, then reconnect from the last offsets seen.
        lines, _ = tail_all(run_dir, log_offset, metrics_offset, stop_after_lines=3)
        for line in lines:
            if "log" in line:
                log_parts.append(line["log"])
                log_offset = line["log_offset"]
                assert not line["log"] or line["log"].endswith("\n")
            if "metric" in line:
                metrics.append(line["metric"])
                metrics_offset = line["metrics_offset"]
            if "status" in line and line["status"]["state"] in TERMINAL:
                done = True
        if done:
            break
    assert done
    assert "".join(log_parts).encode() == (run_dir / "run.log").read_bytes()
    assert log_offset == (run_dir / "run.log").stat().st_size
    assert metrics == [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert metrics_offset == (run_dir / "metrics.jsonl").stat().st_size


def test_tail_of_an_idle_run_sends_heartbeats_and_rejects_offsets_past_the_end(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path)
    started = time.monotonic()
    lines, _ = tail_all(run_dir, stop_after_lines=3)  # log, status, then a heartbeat about 5 s later
    assert "state: preparing" in lines[0]["log"]
    assert lines[1]["status"]["state"] == "preparing"
    assert "heartbeat" in lines[2] and lines[2]["heartbeat"].endswith("Z")
    assert 4 <= time.monotonic() - started < 15
    size = (run_dir / "run.log").stat().st_size
    code, out = control("tail", str(run_dir), str(size + 10), "0")
    assert code != 0 and "past the end" in out["error"]


def test_cancel_stops_every_process_of_the_run_and_is_idempotent(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path, steps=500)
    code, out = control("start", str(run_dir), env=dict(os.environ, FAKE_STEP_SECONDS="0.5"))
    pgid = out["pgid"]
    wait_for(lambda: (run_dir / "fake-helper.pid").exists() and (run_dir / "metrics.jsonl").exists())
    helper = int((run_dir / "fake-helper.pid").read_text())
    assert processes_of(pgid) and alive(helper)
    code, status = control("cancel", str(run_dir))
    assert code == 0 and status["state"] == "cancelled"
    assert processes_of(pgid) == []
    assert not alive(helper), "a process the run started in its own session survived the cancel"
    code, status = control("cancel", str(run_dir))
    assert code == 0 and status["state"] == "cancelled"
    code, status = control("status", str(run_dir))
    assert status["state"] == "cancelled"  # not turned into "failed" by the dying supervisor
    lines, code = tail_all(run_dir)
    assert code == 0 and lines[-1]["status"]["state"] == "cancelled"


def test_a_training_process_killed_by_a_signal_is_resumed(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path, steps=6, save_every=2)
    control("start", str(run_dir), env=dict(os.environ, FAKE_STEP_SECONDS="0.1", FAKE_KILL_AT_STEP="5"))
    lines, code = tail_all(run_dir)
    assert code == 0 and lines[-1]["status"]["state"] == "succeeded"
    assert "training was killed by signal 9; resuming from the newest checkpoint (retry 1 of 2)" in \
        (run_dir / "run.log").read_text()
    steps = [line["metric"]["step"] for line in lines if "metric" in line]
    assert steps == [1, 2, 3, 4, 5, 6]  # 5 was lost with the process (no metric written), then redone


def test_cancel_before_start_just_marks_the_run_cancelled(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path)
    code, status = control("cancel", str(run_dir))
    assert code == 0 and status["state"] == "cancelled"


def test_status_marks_a_run_whose_processes_died_as_failed(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path, steps=500)
    code, out = control("start", str(run_dir), env=dict(os.environ, FAKE_STEP_SECONDS="0.5"))
    pgid = out["pgid"]
    wait_for(lambda: (run_dir / "fake-helper.pid").exists())
    helper = int((run_dir / "fake-helper.pid").read_text())
    os.killpg(pgid, signal.SIGKILL)  # as the OOM killer or a reboot would
    os.kill(helper, signal.SIGKILL)
    wait_for(lambda: processes_of(pgid) == [])
    code, status = control("status", str(run_dir))
    assert code == 0 and status["state"] == "failed" and status["message"] == "supervisor died"


def test_a_failing_phase_fails_the_run_with_a_message(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path, dataset={"format": "screen2words", "path": "upload/missing"})
    control("start", str(run_dir))
    lines, _ = tail_all(run_dir)
    status = lines[-1]["status"]
    assert status["state"] == "failed" and "converting the dataset failed" in status["message"]
    assert "does not exist on this host" in (run_dir / "run.log").read_text()


def test_a_python_without_the_requirements_fails_in_installing(tmp_path: Path) -> None:
    run_dir = init_run(tmp_path, python=str(tmp_path / "no-such-python"))
    control("start", str(run_dir))
    lines, _ = tail_all(run_dir)
    status = lines[-1]["status"]
    assert status["state"] == "failed" and "no-such-python" in status["message"]
    assert "requirements.txt" in status["message"]


def test_hostile_run_names_are_stored_verbatim_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    name = f"my run's \"name\"; rm -rf / ; $(touch {marker}) `touch {marker}` \n ünï"
    runs = tmp_path / ".pix2struct" / "runs"
    run_dir = init_run(tmp_path, "20261124-211500-aaaaaa", name=name)
    init_run(tmp_path, "20261124-211501-bbbbbb")
    control("start", str(run_dir))
    lines, code = tail_all(run_dir)
    assert code == 0 and lines[-1]["status"]["state"] == "succeeded"
    code, listed = control("list", str(runs))
    assert code == 0
    assert [(r["id"], r["name"], r["state"]) for r in listed] == [
        ("20261124-211500-aaaaaa", name, "succeeded"), ("20261124-211501-bbbbbb", "run", "preparing")]
    assert not marker.exists()


def test_list_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    code, listed = control("list", str(tmp_path / "none"))
    assert code == 0 and listed == []
