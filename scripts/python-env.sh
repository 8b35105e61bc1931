#!/usr/bin/env bash
# Sourced by the bench and the tests that compare against Hugging Face transformers.
# Makes .cache/pyref: a virtualenv over Debian's python3-torch (CPU, 1.13; PyPI's torch wheels
# pull gigabytes of CUDA libraries) with transformers from PyPI, as the fixture was made.
# Debian's torch calls whatever libblas.so.3 is installed: without OpenBLAS that is the
# reference BLAS, 20x slower, which would make any comparison meaningless.
# Exports PYREF_PYTHON.
set -euo pipefail
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_venv="$_root/.cache/pyref"
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "python-env: installing Debian's python3-torch" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch python3-venv libopenblas0-pthread >/dev/null
  else
    echo "python-env: Debian's python3-torch is missing; run: sudo apt-get install python3-torch python3-venv libopenblas0-pthread" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
if ! "$_venv/bin/python" -c 'import transformers, torch, optimum.exporters.onnx, accelerate, pytest, PIL' >/dev/null 2>&1; then
  echo "python-env: creating $_venv" >&2
  [ -x "$_venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$_venv"
  "$_venv/bin/pip" install -q --disable-pip-version-check -r "$_root/bench/requirements.txt"
fi
export PYREF_PYTHON="$_venv/bin/python"
