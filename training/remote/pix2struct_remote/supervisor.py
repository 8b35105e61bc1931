"""The run supervisor: installing → running (converting, training) → succeeded or failed.

usage: python3 -m pix2struct_remote.supervisor RUNDIR   (started detached by `control.py start`)

Standard library only: it runs under the host's python3 and makes the training environment
itself. Heavy work runs in child processes of the training interpreter, in the supervisor's
process group, with stdout and stderr going to run.log like the supervisor's own.
"""
import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any, Dict, List, Optional

from pix2struct_remote import run_files as rf

CODE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUIREMENTS = os.path.join(CODE_DIR, "requirements.txt")
VENV_MARKER = ".pix2struct-requirements.sha256"
# A training process killed by a signal it did not get from us (the OOM killer, a crashed driver)
# is started again this many times; it resumes from its newest checkpoint.
TRAINING_RETRIES = 2
# Run by the training interpreter: proves the requirements import and counts GPUs; last line JSON.
PROBE = (
    "import json, torch, transformers, accelerate, safetensors, PIL\n"
    "print(json.dumps({'torch': torch.__version__, 'transformers': transformers.__version__,"
    " 'cuda_devices': torch.cuda.device_count() if torch.cuda.is_available() else 0}))\n"
)


class StepFailed(Exception):
    """A phase failed; the message goes to status.json and run.log."""

    def __init__(self, message: str, exit_code: Optional[int] = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Supervisor:
    """Runs one run's phases in order and records each in status.json."""

    def __init__(self, run_dir: str) -> None:
        self.run_dir = run_dir
        self.spec: Dict[str, Any] = rf.read_spec(run_dir)
        self.child: Optional[subprocess.Popen] = None
        self.terminated = False

    # --- plumbing -------------------------------------------------------------------------
    def log(self, line: str) -> None:
        rf.append_log(self.run_dir, line)

    def child_env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = CODE_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        return env

    def run_child(self, argv: List[str], what: str, capture: bool = False) -> str:
        """Runs one child to completion (output to run.log, or captured); raises StepFailed on failure."""
        if self.terminated:
            raise StepFailed("terminated")
        self.log(f"{what}: {' '.join('<script>' if chr(10) in a else a for a in argv)}")
        try:
            self.child = subprocess.Popen(
                argv, cwd=CODE_DIR, env=self.child_env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture else None, stderr=None)
        except OSError as e:
            raise StepFailed(f"{what}: cannot run {argv[0]}: {e.strerror or e}") from None
        out, _ = self.child.communicate()
        code = self.child.returncode
        self.child = None
        if self.terminated:
            raise StepFailed("terminated by a signal", code)
        if code != 0:
            raise StepFailed(f"{what} failed with exit code {code}; see run.log", code)
        return out.decode("utf-8", errors="replace") if capture else ""

    def on_sigterm(self, signum: int, _frame: Optional[FrameType]) -> None:
        """Passes the signal on to the current child (a cancel signals the whole group anyway)."""
        self.terminated = True
        child = self.child
        if child is not None and child.poll() is None:
            try:
                child.send_signal(signum)
            except OSError:
                pass

    # --- phases ---------------------------------------------------------------------------
    def training_python(self) -> str:
        """The interpreter that trains: the spec's, or .pix2struct/venv made from requirements.txt."""
        rf.update_status(self.run_dir, state="installing", phase=None, message="preparing the Python environment")
        if self.spec.get("python"):
            return self.spec["python"]
        root = os.path.dirname(os.path.dirname(os.path.abspath(self.run_dir)))
        venv = os.path.join(root, "venv")
        python = os.path.join(venv, "bin", "python")
        with open(REQUIREMENTS, "rb") as f:
            wanted = hashlib.sha256(f.read()).hexdigest()
        # One install at a time: runs started together share the venv.
        with open(os.path.join(root, "venv.lock"), "w") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            marker = os.path.join(venv, VENV_MARKER)
            try:
                with open(marker, encoding="utf-8") as f:
                    if f.read().strip() == wanted and os.path.exists(python):
                        self.log(f"venv {venv} is up to date")
                        return python
            except FileNotFoundError:
                pass
            if not os.path.exists(python):
                try:
                    self.run_child([sys.executable, "-m", "venv", venv], "creating the venv")
                except StepFailed as e:
                    raise StepFailed(f"{e} (on Debian/Ubuntu install python3-venv, or set a python that has "
                                     "training/remote/requirements.txt in the run's settings)", e.exit_code) from None
            self.run_child([python, "-m", "pip", "install", "--progress-bar", "off", "--upgrade", "pip"],
                           "updating pip")
            self.run_child([python, "-m", "pip", "install", "--progress-bar", "off", "-r", REQUIREMENTS],
                           "installing requirements")
            with open(marker, "w", encoding="utf-8") as f:
                f.write(wanted + "\n")
        return python

    def probe(self, python: str) -> Dict[str, Any]:
        """Checks that `python` has the requirements; returns its versions and GPU count."""
        try:
            out = self.run_child([python, "-c", PROBE], "checking the training environment", capture=True)
        except StepFailed as e:
            raise StepFailed(f"{python} cannot import torch/transformers/accelerate/safetensors/PIL "
                             f"({e}); install training/remote/requirements.txt into it", e.exit_code) from None
        lines = [line for line in out.splitlines() if line.strip()]
        try:
            info = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise StepFailed(f"unexpected output from the environment check: {out[-200:]!r}") from None
        self.log(f"environment: {json.dumps(info)}")
        return info

    def convert(self, python: str) -> None:
        """Converts the dataset into data/ unless an earlier attempt already did."""
        rf.update_status(self.run_dir, state="running", phase="converting", message="converting the dataset")
        if os.path.exists(os.path.join(self.run_dir, rf.DATA_DIR, "train.jsonl")):
            self.log("dataset already converted")
            return
        self.run_child([python, "-m", "pix2struct_remote.convert_run", os.path.abspath(self.run_dir)],
                       "converting the dataset")

    def train(self, python: str, cuda_devices: int) -> None:
        """Fine-tunes: accelerate's launcher for several processes, the plain interpreter for one."""
        total = self.spec["steps"]
        rf.update_status(self.run_dir, state="running", phase="training", message=f"step 0/{total}", total_steps=total)
        processes = self.spec.get("num_processes") or max(cuda_devices, 1)
        run_dir = os.path.abspath(self.run_dir)
        if processes > 1:
            argv = [python, "-m", "accelerate.commands.launch", "--num_processes", str(processes),
                    "--num_machines", "1", "--dynamo_backend", "no", "--mixed_precision", "no",
                    "--module", "pix2struct_remote.finetune", run_dir]
        else:
            argv = [python, "-m", "pix2struct_remote.finetune", run_dir]
        what = f"training ({processes} process{'es' if processes > 1 else ''})"
        for attempt in range(TRAINING_RETRIES + 1):
            try:
                self.run_child(argv, what)
                break
            except StepFailed as e:
                killed = e.exit_code is not None and e.exit_code < 0
                if self.terminated or not killed or attempt == TRAINING_RETRIES:
                    raise
                self.log(f"training was killed by signal {-e.exit_code}; resuming from the newest checkpoint "
                         f"(retry {attempt + 1} of {TRAINING_RETRIES})")
        if not os.path.isfile(os.path.join(self.run_dir, rf.CHECKPOINTS_DIR, "final", "config.json")):
            raise StepFailed("training ended without writing checkpoints/final")

    def run(self) -> int:
        """All phases; returns the process exit code."""
        signal.signal(signal.SIGTERM, self.on_sigterm)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        started = time.monotonic()
        try:
            if self.spec.get("backend") == "tpu":
                raise StepFailed("backend tpu runs through the TPU pipeline, not the GPU supervisor")
            python = self.training_python()
            info = self.probe(python)
            self.convert(python)
            self.train(python, int(info.get("cuda_devices") or 0))
        except StepFailed as e:
            rf.update_status(self.run_dir, state="failed", message=str(e), exit_code=e.exit_code)
            return 1
        except Exception as e:  # an unexpected supervisor bug still ends the run visibly
            rf.update_status(self.run_dir, state="failed", message=f"supervisor error: {type(e).__name__}: {e}")
            raise
        minutes = (time.monotonic() - started) / 60
        rf.update_status(self.run_dir, state="succeeded", phase=None, exit_code=0,
                         message=f"finished in {minutes:.1f} min",
                         checkpoints=rf.list_checkpoints(self.run_dir),
                         final_checkpoint=f"{rf.CHECKPOINTS_DIR}/final")
        return 0


def main(argv: List[str]) -> int:
    """Entry point: `python -m pix2struct_remote.supervisor RUNDIR`."""
    if len(argv) != 1:
        print("usage: python -m pix2struct_remote.supervisor RUNDIR", file=sys.stderr)
        return 2
    return Supervisor(argv[0]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
