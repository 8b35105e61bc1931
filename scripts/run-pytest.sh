#!/usr/bin/env bash
# pytest for training/remote/ (dataset converters, metrics, the run supervisor) in the .cache/pyref venv.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
exec "$PYREF_PYTHON" -m pytest -q -p no:cacheprovider test/remote "$@"
