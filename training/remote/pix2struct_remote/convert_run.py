"""The `converting` phase: the spec's dataset → the run's data/ folder (PROTOCOL.md layout).

usage: python -m pix2struct_remote.convert_run RUNDIR   (run by the supervisor with the training python)

Converts into data.partial/ and renames it to data/ only when complete, so a run restarted after
a crash never trains on half a dataset.
"""
import json
import os
import shutil
import sys

from pix2struct_remote import run_files as rf


def dataset_source(run_dir: str, spec: dict) -> str:
    """The dataset folder: dataset.path relative to the run folder (an upload) or absolute on the host."""
    path = os.path.expanduser(spec["dataset"]["path"])
    return path if os.path.isabs(path) else os.path.join(run_dir, path)


def main(argv: list) -> int:
    """Entry point."""
    if len(argv) != 1:
        print("usage: python -m pix2struct_remote.convert_run RUNDIR", file=sys.stderr)
        return 2
    run_dir = argv[0]
    spec = rf.read_spec(run_dir)
    source = dataset_source(run_dir, spec)
    if not os.path.exists(source):
        print(f"error: the dataset folder {source} does not exist on this host", file=sys.stderr)
        return 1
    from pix2struct_remote.datasets import DatasetError, convert  # needs Pillow: training python only

    out = os.path.join(run_dir, rf.DATA_DIR)
    partial = out + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    fmt = spec["dataset"]["format"]
    try:
        convert(fmt, source, partial, task=spec["task"] if fmt == "custom" else None,
                log=lambda line: print(line, flush=True))
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    shutil.rmtree(out, ignore_errors=True)
    os.rename(partial, out)
    info_path = os.path.join(out, "info.json")
    if os.path.exists(info_path):
        with open(info_path, encoding="utf-8") as f:
            print(f"converted dataset: {json.dumps(json.load(f).get('counts'))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
