#!/usr/bin/env bash
# bench/gpu.sh: onnxruntime's GPU providers (WebGPU over Vulkan, CUDA where its libraries are
# installed) on a machine with an NVIDIA GPU, checked and timed:
#   1. survey   which providers this onnxruntime-node has, which Vulkan drivers and GPUs the loader
#               sees, and what executionProvider "auto" would do
#   2. parity   per GPU provider: the fixture model against transformers' references and the CPU
#               provider (when PIX2STRUCT_FIXTURE is there), else the base-shape checkpoint against
#               the CPU provider: greedy ids equal, states/logits within the provider's tolerance
#               (bench/gpu_check.ts: 1e-4 for WebGPU's float32, 3e-2 for CUDA's TF32 matmuls), plus
#               a MultiHeadAttention probe (the encoder's fused attention) per query length
#   3. time     pix2struct-base's shape (random weights made here with transformers, as
#               bench/make_checkpoint.py does), 2048 patches, 32 tokens, end to end, per provider
#               and on the CPU provider for comparison
# Results: $GPU_OUT/results/*.json and a summary on stdout; exit 1 when a parity check failed.
#
# The GPU machine has Python with torch and transformers but no node and no network, so:
#   here:  bash bench/gpu.sh pack        # .cache/gpu-carry: node, the bundled check, a pruned
#                                        # node_modules (onnxruntime-node linux-x64, sharp), ~45 MB
#          (once, for the Vulkan loader, as the device README says:)
#          mkdir -p .cache/gl /tmp/amd64/partial; o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#          apt-get $o update; (cd .cache/gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
#   there: bash bench/gpu.sh             # carry .cache/gpu-carry and .cache/gl; it unpacks them
# or, with a node of your own and the repo's node_modules:  NODE=/path/to/node bash bench/gpu.sh
#
# Environment:
#   NODE               node binary (else .cache/gpu-carry's, else `node` on PATH); or pass it as $1
#   GPU_PROVIDERS      providers to check and time (default "webgpu cuda")
#   GPU_PYTHON         Python with torch + transformers for the checkpoint (default python3)
#   GPU_MODEL          a checkpoint to use instead of making the base-shape one
#   GPU_IMAGE          an image to use instead of making bench/make_image.py's screenshot
#   GPU_PATCHES, GPU_TOKENS, GPU_REPEATS   timing shape (default 2048, 32, 3)
#   GPU_PARITY_PATCHES parity on the checkpoint (default 1024)
#   GPU_CPU_BASELINE=0 skips timing the CPU provider
#   GPU_SKIP_TIME=1    survey and parity only
#   GPU_ALLOW_SOFTWARE=1  accept a software Vulkan adapter (lavapipe), to run this without a GPU:
#                      GPU_ALLOW_SOFTWARE=1 GPU_PROVIDERS=webgpu GPU_SKIP_TIME=1 bash bench/gpu.sh
#   GPU_CUDA_DIR       an "Enable CUDA" install root (installCudaProvider's), for the CUDA provider
#   GPU_DEBS           folder of Vulkan loader .debs unpacked into / when no loader is installed
#                      (default .cache/gl)
#   GPU_OUT            output folder (default .cache/gpu)
#   PIX2STRUCT_FIXTURE the pix2struct-tiny fixture (default ../shared/fixtures/pix2struct-tiny, if there)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out="${GPU_OUT:-$repo/.cache/gpu}"
carry="$repo/.cache/gpu-carry"
log() { echo "gpu: $*" >&2; }

if [ "${1:-}" = pack ]; then
  set -e
  node_bin="${NODE:-$(command -v node)}"
  rm -rf "$carry" && mkdir -p "$carry"
  log "bundling bench/gpu_check.ts (onnxruntime-node and sharp stay external)"
  "$node_bin" -e '
    require("esbuild").build({ entryPoints: ["bench/gpu_check.ts"], outfile: process.argv[1], bundle: true, platform: "node",
      target: "node20", format: "cjs", external: ["onnxruntime-node", "sharp"], logLevel: "warning" }).catch(() => process.exit(1));
  ' "$carry/gpu_check.js"
  log "node $("$node_bin" --version), compressed"
  xz -T0 -9 -c "$node_bin" >"$carry/node.xz"
  ort=node_modules/onnxruntime-node
  files=("$ort/package.json" "$ort/dist" "$ort/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ort/bin/napi-v6/linux/x64/onnxruntime_binding.node"
    node_modules/onnxruntime-common node_modules/sharp node_modules/@img/colour node_modules/@img/sharp-linux-x64
    node_modules/@img/sharp-libvips-linux-x64 node_modules/detect-libc node_modules/semver)
  tar -cf - "${files[@]}" | xz -T0 -9 >"$carry/node_modules.tar.xz"
  du -sh "$carry" >&2
  log "carry .cache/gpu-carry (and .cache/gl for the Vulkan loader); there run: bash bench/gpu.sh"
  exit 0
fi

# ---- a node to run with
NODE="${NODE:-${1:-}}"
if [ -z "$NODE" ] && [ -f "$carry/node.xz" ]; then
  runtime=/tmp/pix2struct-gpu-node
  stamp=$(stat -c %s-%Y "$carry/node.xz" "$carry/node_modules.tar.xz" | tr '\n' ' ')
  if [ "$(cat "$runtime/.stamp" 2>/dev/null)" != "$stamp" ]; then # unpacked once per pack
    rm -rf "$runtime" && mkdir -p "$runtime"
    xz -dc "$carry/node.xz" >"$runtime/node" && chmod +x "$runtime/node"
    xz -dc "$carry/node_modules.tar.xz" | tar -xf - -C "$runtime"
    echo "$stamp" >"$runtime/.stamp"
  fi
  cp "$carry/gpu_check.js" "$runtime/gpu_check.js" # beside its node_modules
  NODE="$runtime/node"
  check=("$NODE" "$runtime/gpu_check.js")
else
  NODE="${NODE:-$(command -v node || true)}"
  [ -n "$NODE" ] || { log "no node: set NODE=/path/to/node, pass it as the first argument, or run 'bash bench/gpu.sh pack' where node is and carry .cache/gpu-carry"; exit 2; }
  check=("$NODE" --import tsx bench/gpu_check.ts)
fi
"$NODE" --version >/dev/null || { log "$NODE does not run"; exit 2; }

# ---- Vulkan: the loader (carried .debs when the system has none) and the NVIDIA driver's manifest
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
  debs="${GPU_DEBS:-$repo/.cache/gl}"
  if compgen -G "$debs/*.deb" >/dev/null; then
    log "unpacking the Vulkan loader from $debs"
    for f in "$debs"/*.deb; do dpkg -x "$f" /; done
    ldconfig
  else
    log "no Vulkan loader (libvulkan.so.1) and no .debs in $debs: WebGPU will be reported as skipped"
  fi
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! compgen -G '/usr/share/vulkan/icd.d/*.json' >/dev/null && ! compgen -G '/etc/vulkan/icd.d/*.json' >/dev/null && [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES=$nvidia_icd
  [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done
  log "using the NVIDIA driver's Vulkan manifest $nvidia_icd"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" # Dawn complains without it

providers="${GPU_PROVIDERS:-webgpu cuda}"
results="$out/results"
rm -rf "$results" && mkdir -p "$results" "$out/graphs"
common=(--cache-dir "$out/graphs")
[ -n "${GPU_CUDA_DIR:-}" ] && common+=(--provider-dir "$GPU_CUDA_DIR")
[ "${GPU_ALLOW_SOFTWARE:-0}" = 1 ] && common+=(--allow-software)
failed=0

# Runs gpu_check; keeps its JSON in $results/$name.json. Exit 3 means the provider did not run.
record() {
  local name=$1; shift
  "${check[@]}" "$@" "${common[@]}" >"$results/$name.json.tmp"
  local rc=$?
  if [ -s "$results/$name.json.tmp" ]; then mv "$results/$name.json.tmp" "$results/$name.json"; else rm -f "$results/$name.json.tmp"; fi
  return $rc
}

log "survey"
record survey survey
command -v nvidia-smi >/dev/null && nvidia-smi -L >&2

# ---- parity
fixture="${PIX2STRUCT_FIXTURE:-$repo/../shared/fixtures/pix2struct-tiny}"
python="${GPU_PYTHON:-python3}"
model="${GPU_MODEL:-$out/base-random}"
image="${GPU_IMAGE:-$out/screenshot.png}"
need_checkpoint() {
  [ -f "$image" ] || "$python" bench/make_image.py "$image" || return 1
  [ -f "$model/config.json" ] || "$python" bench/make_checkpoint.py base "$model" >&2 || return 1
}
ran=()
for p in $providers; do
  if [ -f "$fixture/index.json" ]; then
    log "parity: $p on the fixture model"
    PIX2STRUCT_FIXTURE="$fixture" record "parity-$p-fixture" parity --provider "$p"
  else
    need_checkpoint || { log "cannot make the checkpoint with $python (torch + transformers needed)"; failed=1; break; }
    log "parity: $p on $model against the CPU provider"
    record "parity-$p" parity --provider "$p" --model "$model" --image "$image" --patches "${GPU_PARITY_PATCHES:-1024}" --tokens "${GPU_TOKENS:-32}"
  fi
  case $? in
    0) ran+=("$p") ;;
    3) log "$p did not run (see its JSON for why)" ;;
    *) log "parity FAILED on $p"; failed=1; ran+=("$p") ;;
  esac
done

# ---- timing
if [ "${GPU_SKIP_TIME:-0}" != 1 ]; then
  if need_checkpoint; then
    timed=("${ran[@]}")
    [ "${GPU_CPU_BASELINE:-1}" = 1 ] && timed+=(cpu)
    for p in "${timed[@]}"; do
      log "time: $p, ${GPU_PATCHES:-2048} patches, ${GPU_TOKENS:-32} tokens"
      record "time-$p" time --provider "$p" --model "$model" --image "$image" --patches "${GPU_PATCHES:-2048}" --tokens "${GPU_TOKENS:-32}" --repeats "${GPU_REPEATS:-3}" || log "timing $p did not complete"
    done
  else
    log "no checkpoint to time (GPU_MODEL, or torch + transformers for bench/make_checkpoint.py)"
    failed=1
  fi
fi

"${check[@]}" summary --results "$results"
exit $failed
