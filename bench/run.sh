#!/usr/bin/env bash
# npm run bench: this runtime (fp32 and int8) against what a Python user runs today, PyPI's
# PyTorch 2.x with the newest transformers (fp32, bf16 weights, bf16 autocast; KV cache on),
# plus Debian's torch 1.13 + transformers 4.38 (fp32) so older numbers stay comparable, on a
# random-weight checkpoint with pix2struct-base's shape; then ours int8 on pix2struct-large's
# shape. Everything it needs is made under .cache/ on first use.
#   BENCH_THREADS  threads for every side (default: physical cores)
#   BENCH_REPEATS  timed runs per measurement, after a warm-up (default 3)
#   BENCH_LARGE=0  skips the large shape (minutes, and a ~5 GB checkpoint)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
out=.cache/bench
results=$out/results
cores=$(lscpu -p=CORE,SOCKET 2>/dev/null | grep -v '^#' | sort -u | wc -l || true)
threads="${BENCH_THREADS:-$([ "${cores:-0}" -gt 0 ] && echo "$cores" || nproc)}"
repeats="${BENCH_REPEATS:-3}"
large="${BENCH_LARGE:-1}"
log() { echo "bench: $*" >&2; }
mkdir -p "$out"
rm -rf "$results" && mkdir -p "$results" # a stale result must never reach the report
# Graphs are rebuilt every run (seconds for base, ~30 s for large int8; never timed): each
# runtime change gets a new cache key, and old int8 entries would pile up gigabytes here.
rm -rf "$out/graphs"

torch_py=$(bash bench/setup-venv.sh)
[ -f "$out/screenshot.png" ] || "$torch_py" bench/make_image.py "$out/screenshot.png"
[ -f "$out/base-random/model.safetensors" ] || "$torch_py" bench/make_checkpoint.py base "$out/base-random"

# Writes a phase's JSON only when it succeeded, so a failure cannot leave a half file behind.
save() { local name=$1; shift; "$@" >"$results/$name.json.tmp" && mv "$results/$name.json.tmp" "$results/$name.json"; }
common=(--image "$out/screenshot.png" --threads "$threads" --repeats "$repeats")
# Our side runs as the CLI does, from an esbuild bundle: tsx's on-the-fly compiler would add
# ~40 MB to every peak RSS and its start-up to every load.
npx esbuild bench/runtime_bench.ts bench/int8_accuracy.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:onnxruntime-node --external:sharp --outdir="$out/js" --log-level=warning
# Later flags win on both sides, so a call's own flags override `common`.
ours() { local phase=$1; shift; node "$out/js/runtime_bench.js" "$phase" --cache-dir "$out/graphs" "${common[@]}" "$@"; }

for p in fp32 int8; do
  log "ours $p: building graphs (first load only), then timing"
  ours load --precision "$p" --model "$out/base-random" >/dev/null
  save "ours-$p-speed" ours speed --precision "$p" --model "$out/base-random"
  save "ours-$p-e2e" ours e2e --precision "$p" --model "$out/base-random"
done

log "int8 against fp32: encoder states, logits and top-1 along fp32's greedy path"
save int8-accuracy node "$out/js/int8_accuracy.js" --model "$out/base-random" --image "$out/screenshot.png" --cache-dir "$out/graphs" --threads "$threads"

for c in fp32 bf16 autocast; do
  log "PyTorch $c: $("$torch_py" -c 'import torch, transformers; print("torch", torch.__version__, "+ transformers", transformers.__version__)')"
  save "torch-$c-speed" "$torch_py" bench/torch_bench.py speed --config "$c" --model "$out/base-random" "${common[@]}"
  save "torch-$c-e2e" "$torch_py" bench/torch_bench.py e2e --config "$c" --model "$out/base-random" "${common[@]}"
done

# Debian's torch 1.13 venv is the tests' (scripts/python-env.sh), left as it is: transformers'
# image processor needs Pillow, which it lacks, so Pillow goes in a folder of the bench's own
# put on PYTHONPATH. The line is secondary: when that venv cannot be had, the report says so.
debian_skipped=""
if pyref_python=$(bash -c 'source scripts/python-env.sh >&2 && echo "$PYREF_PYTHON"'); then
  pillow="$out/pyref-pillow-13.0.0"
  [ -d "$pillow/PIL" ] || "$pyref_python" -m pip install -q --disable-pip-version-check --target "$pillow" Pillow==13.0.0 >&2
  log "Debian's torch 1.13 fp32"
  debian() { PYTHONPATH="$pillow" "$pyref_python" bench/torch_bench.py "$1" --config fp32 --model "$out/base-random" "${common[@]}"; }
  save debian-fp32-speed debian speed
  save debian-fp32-e2e debian e2e
else
  debian_skipped="scripts/python-env.sh could not make .cache/pyref"
  log "skipping Debian's torch 1.13: $debian_skipped"
fi

large_skipped=""
if [ "$large" != 0 ]; then
  [ -f "$out/large-random/model.safetensors" ] || "$torch_py" bench/make_checkpoint.py large "$out/large-random"
  log "ours int8, pix2struct-large shape, 4096 patches (minutes)"
  ours load --precision int8 --model "$out/large-random" >/dev/null
  # One timed run after the warm-up: each takes tens of seconds.
  save large-int8-e2e ours e2e --precision int8 --model "$out/large-random" --patches 4096 --repeats 1
else
  large_skipped="BENCH_LARGE=0"
fi

printf '{"threads": %s, "repeats": %s, "elapsed_s": %s, "debian_skipped": "%s", "large_skipped": "%s"}\n' \
  "$threads" "$repeats" "$((SECONDS - start))" "$debian_skipped" "$large_skipped" >"$results/meta.json"
node --import tsx bench/report.ts "$out"
