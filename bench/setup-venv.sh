#!/usr/bin/env bash
# Makes .cache/bench-torch, the virtualenv with bench/requirements-torch.txt, and prints its
# python. pip runs only when the venv is missing or a pinned version differs from what is
# installed, so an existing venv (5-6 GB with the CUDA libraries) is reused as it is.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/bench-torch"
req="$root/bench/requirements-torch.txt"
if [ ! -x "$venv/bin/python" ]; then
  echo "bench: creating $venv" >&2
  "${BENCH_PYTHON:-python3}" -m venv "$venv" || {
    echo "bench: could not make a venv with ${BENCH_PYTHON:-python3} (Debian: apt-get install python3-venv; or set BENCH_PYTHON)" >&2
    exit 1
  }
fi
# Exit 0 when every name==version line of the requirements file is installed at that version
# (a local suffix such as torch's +cu132 is ignored).
satisfied() {
  "$venv/bin/python" - "$req" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version

for line in open(sys.argv[1]):
    name, _, pinned = line.split("#")[0].strip().partition("==")
    if not name:
        continue
    try:
        installed = version(name).split("+")[0]
    except PackageNotFoundError:
        installed = None
    if installed != pinned.strip():
        print(f"bench: {name} is {installed}, bench/requirements-torch.txt pins {pinned.strip()}", file=sys.stderr)
        sys.exit(1)
PY
}
if ! satisfied; then
  echo "bench: installing bench/requirements-torch.txt into $venv (torch's default Linux wheel pulls ~3 GB of CUDA libraries)" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  satisfied
fi
echo "$venv/bin/python"
