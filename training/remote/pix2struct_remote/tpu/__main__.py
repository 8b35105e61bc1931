"""`python3 -m pix2struct_remote.tpu PHASE RUNDIR [--dry-run]`: one phase of a TPU run (launcher-driven multi-host slices).

Prints {"ok": true} or {"error": …} as the last line and exits 0 or non-zero, like control.py.
"""
import argparse
import json
import os
import sys

from .pipeline import PHASES, Context, run_phases
from .run_io import files_io


def main() -> int:
    """Parses the fixed words the launcher sends; the spec comes from the run folder."""
    parser = argparse.ArgumentParser(prog="pix2struct_remote.tpu")
    parser.add_argument("phase", choices=(*PHASES, "all"))
    parser.add_argument("run_dir")
    parser.add_argument("--dry-run", action="store_true", help="record every command line instead of running it")
    args = parser.parse_args()
    try:
        with open(os.path.join(args.run_dir, "spec.json"), encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as err:
        print(json.dumps({"error": f"cannot read the run's spec.json: {err}"}))
        return 2
    status_path = os.path.join(args.run_dir, "status.json")
    if not os.path.exists(status_path):
        # Workers other than 0 of a slice get spec.json only (control.py init runs on worker 0).
        with open(status_path, "w", encoding="utf-8") as f:
            json.dump({"state": "preparing", "checkpoints": [], "final_checkpoint": None}, f)
    ctx = Context(run_dir=args.run_dir, spec=spec, io=files_io(args.run_dir), dry_run=args.dry_run,
                  home=os.path.expanduser("~"))
    phases = list(PHASES) if args.phase == "all" else [args.phase]
    if run_phases(ctx, phases):
        print(json.dumps({"ok": True}))
        return 0
    with open(os.path.join(args.run_dir, "status.json"), encoding="utf-8") as f:
        print(json.dumps({"error": json.load(f).get("message", "failed")}))
    return 1


if __name__ == "__main__":
    sys.exit(main())
