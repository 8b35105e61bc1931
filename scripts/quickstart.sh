#!/usr/bin/env bash
# Fresh machine to first result: install, build, then describe the sample screenshot.
# The model is $PIX2STRUCT_MODEL, a Hugging Face checkpoint folder; offline it defaults to the
# tiny random fixture checkpoint beside this repository (its output ids are meaningless).
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip # its install script downloads CUDA libraries; CPU ships in the package
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
model="${PIX2STRUCT_MODEL:-../shared/fixtures/pix2struct-tiny/model-a}"
image="${1:-samples/settings-screen.png}"
echo "pix2struct: describing $image with $model" >&2
node dist/cli.js generate --model "$model" --image "$image" --max-new-tokens 20 --json
