#!/usr/bin/env bash
# npm run bench: this runtime against Hugging Face transformers (PyTorch) on a random-weight
# checkpoint with pix2struct-base's shape, in one run on this machine, then the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python-env.sh
out=.cache/bench
threads="${BENCH_THREADS:-2}"
mkdir -p "$out"
[ -f "$out/base-random/model.safetensors" ] || "$PYREF_PYTHON" bench/make_checkpoint.py "$out/base-random"
[ -f "$out/screenshot.png" ] || "$PYREF_PYTHON" bench/make_image.py "$out/screenshot.png"
common=(--model "$out/base-random" --image "$out/screenshot.png" --threads "$threads")
run_ours() { node --import tsx bench/runtime_bench.ts "$1" "${common[@]}" --cache-dir "$out/graphs"; }
run_torch() { "$PYREF_PYTHON" bench/torch_bench.py "$1" "${common[@]}"; }
echo "bench: building graphs and timing this runtime..." >&2
run_ours e2e >/dev/null # first load builds the graph cache; not part of any timing
run_ours speed >"$out/ours-speed.json"
run_ours e2e >"$out/ours-e2e.json"
echo "bench: timing transformers $("$PYREF_PYTHON" -c 'import transformers, torch; print(transformers.__version__, "on torch", torch.__version__)')..." >&2
run_torch speed >"$out/torch-speed.json"
run_torch e2e >"$out/torch-e2e.json"
node --import tsx bench/report.ts "$out"
