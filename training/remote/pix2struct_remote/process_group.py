"""Finding and stopping every process of a run (standard library only).

`control.py start` makes the supervisor the only member of a fresh session whose id equals its
process group id, so the run's processes are those in that group or session, plus, in case a
tool (a distributed launcher) starts its workers in new sessions, their descendants.
"""
import os
import signal
import time
from typing import Callable, Dict, Optional, Set, Tuple


def _proc_table() -> Dict[int, Tuple[int, int, int, str]]:
    """pid -> (ppid, pgid, sid, state) for every process, read from /proc."""
    table: Dict[int, Tuple[int, int, int, str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                raw = f.read().decode("utf-8", errors="replace")
        except OSError:
            continue
        # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
        fields = raw[raw.rfind(")") + 2:].split()
        table[int(name)] = (int(fields[1]), int(fields[2]), int(fields[3]), fields[0])
    return table


def run_processes(pgid: int) -> Set[int]:
    """Live (non-zombie) processes of the run whose group/session id is `pgid`."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
            return {pgid}
        except ProcessLookupError:
            return set()
        except PermissionError:
            return {pgid}
    table = _proc_table()
    members = {pid for pid, (_, group, session, _) in table.items() if group == pgid or session == pgid}
    grew = True
    while grew:
        children = {pid for pid, (ppid, _, _, _) in table.items() if ppid in members} - members
        grew = bool(children)
        members |= children
    return {pid for pid in members if table[pid][3] != "Z" and pid != os.getpid()}


def group_alive(pgid: int) -> bool:
    """Whether any process of the run is still alive."""
    return bool(run_processes(pgid))


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode("utf-8", errors="replace")
    except OSError:
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return raw[raw.rfind(")") + 2:].split()[0] != "Z"


def _signal_all(pgid: int, known: Set[int], sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in known:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def terminate_run(pgid: int, grace_s: float = 10.0) -> bool:
    """SIGTERM to every process of the run, SIGKILL to what is left after `grace_s`.

    The run's processes are gathered before the first signal and on every poll: a process in a
    session of its own is found only through its parent, and would be lost once the parent died.
    Returns True when nothing of the run remains.
    """
    known = run_processes(pgid)

    def remaining() -> Set[int]:
        known.update(run_processes(pgid))
        return {pid for pid in known if _pid_alive(pid)}

    if not remaining():
        return True
    _signal_all(pgid, known, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not remaining():
            return True
        time.sleep(0.1)
    for _ in range(50):
        _signal_all(pgid, remaining(), signal.SIGKILL)
        time.sleep(0.1)
        if not remaining():
            return True
    return False


class DetachError(OSError):
    """The detached process never reported back (fork or setsid failed)."""


def detach_into_session(log_path: str, run: Callable[[], int],
                        on_started: Optional[Callable[[int], None]] = None) -> Tuple[int, int]:
    """Runs `run` in a grandchild that leads nothing and lives in a new session, so closing the
    ssh connection (or the caller exiting) does not end it; stdin is /dev/null and stdout/stderr
    append to `log_path`. `on_started(pid)` runs in the grandchild before the caller learns its
    ids. Returns the grandchild's (pid, process group id); the group id is also the session id.
    """
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # first child: a new session, then fork the worker and leave
        code = 1
        try:
            os.close(read_end)
            os.setsid()
            if os.fork() == 0:  # the worker
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log_fd, 1)
                os.dup2(log_fd, 2)
                if on_started is not None:
                    on_started(os.getpid())
                os.write(write_end, f"{os.getpid()} {os.getpgrp()}".encode())
                os.close(write_end)
                code = run()
            else:
                code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    os.close(log_fd)
    data = b""
    while True:
        chunk = os.read(read_end, 64)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    os.waitpid(child, 0)
    if not data:
        raise DetachError("fork or setsid failed")
    pid, pgid = data.split()
    return int(pid), int(pgid)
