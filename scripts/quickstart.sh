#!/usr/bin/env bash
# Fresh machine to first result: install, build, then describe the sample screenshot with the
# default screen-summary checkpoint (downloaded once into the Hugging Face cache). Offline, it
# falls back to the tiny random fixture checkpoint beside this repository (its ids are meaningless).
# PIX2STRUCT_MODEL=<folder or Hub id> picks another model.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip # its install script downloads CUDA libraries; CPU ships in the package
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build
image="${1:-samples/settings-screen.png}"
model="${PIX2STRUCT_MODEL:-google/pix2struct-screen2words-base}"
if [ ! -d "$model" ]; then
  if downloaded=$(node dist/cli.js download "$model"); then
    model=$(node -e 'console.log(JSON.parse(process.argv[1]).path)' "$downloaded")
  else
    model=../shared/fixtures/pix2struct-tiny/model-a
    echo "pix2struct: the Hub is unreachable; using the offline fixture checkpoint $model" >&2
  fi
fi
echo "pix2struct: describing $image with $model" >&2
node dist/cli.js generate --model "$model" --image "$image" --max-new-tokens 20 --json
