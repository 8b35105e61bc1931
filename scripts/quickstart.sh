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
model_id=$model
if [ ! -d "$model" ]; then
  # The download's own error line is kept for the explanation below: here it is not fatal.
  if downloaded=$(node dist/cli.js download "$model" 2>.quickstart-download.log); then
    model=$(node -e 'console.log(JSON.parse(process.argv[1]).path)' "$downloaded")
  else
    reason=$(sed -e 's/^pix2struct: error: //' .quickstart-download.log | head -n 1)
    model=../shared/fixtures/pix2struct-tiny/model-a
    echo "pix2struct: could not download $model_id: $reason" >&2
    echo "pix2struct: falling back to the test fixture $model: random weights and no tokenizer, so the" >&2
    echo "            output below has token ids only (\"text\": null) and they mean nothing; it shows the" >&2
    echo "            runtime works. With network, the same command downloads $model_id and prints a summary." >&2
  fi
  rm -f .quickstart-download.log
fi
echo "pix2struct: describing $image with $model" >&2
node dist/cli.js generate --model "$model" --image "$image" --max-new-tokens 20 --json
