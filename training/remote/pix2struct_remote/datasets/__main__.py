"""Command line: python -m pix2struct_remote.datasets FORMAT SOURCE_DIR OUT_DIR [--task TASK].

Prints info.json's content on success, or {"error": "..."} and exits 1 (the dataset's fault)."""
from __future__ import annotations

import argparse
import json
import sys

from . import FORMATS, DatasetError, convert


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pix2struct_remote.datasets", description=__doc__)
    parser.add_argument("format", choices=FORMATS)
    parser.add_argument("source_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--task", default=None, help="for custom data: the task whose metric scores it")
    args = parser.parse_args(argv)
    try:
        info = convert(args.format, args.source_dir, args.out_dir, task=args.task,
                       log=lambda line: print(line, file=sys.stderr, flush=True))
    except DatasetError as e:
        print(json.dumps({"error": str(e)}))
        return 1
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
