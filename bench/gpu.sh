#!/usr/bin/env bash
# GPU training-step benchmark: ResNet-18 and ResNet-50 (224x224, 1000 classes) on TF.js's WebGPU
# backend (Dawn, `webgpu` npm package), and on @tensorflow/tfjs-node-gpu (CUDA) if it can be
# installed there; prints images/s. See docs/gpu.md.
#
#   bash bench/gpu.sh                  on a machine with an NVIDIA GPU, in a checkout after `npm ci`
#   bash bench/gpu.sh --pack           here (with npm): build .bench-out/gpu-pack.tar.xz, a bundle
#                                      (node, the benchmark, dawn.node, Vulkan/EGL loader .debs,
#                                      architectures) for a GPU machine with no npm or network;
#                                      carry .bench-out/gpu-pack.tar.xz there and run `bash bench/gpu.sh`;
#                                      it also packs the PyTorch benchmarks (bench/gpu_torch.sh --pack)
#
# Environment: BATCH (32), SIZE (224), STEPS (5 timed), WARMUP (2), ARCHS ("resnet18 resnet50"),
# WITH_WASM=1 (also the wasm baseline, slow), WITH_NODE_GPU=0 (skip trying tfjs-node-gpu),
# RUN_TIMEOUT (seconds per run, 400).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PACK=.bench-out/gpu-pack.tar.xz

if [[ "${1:-}" == "--pack" ]]; then
  set -e
  [[ -d node_modules/webgpu ]] || { echo "npm ci first (node_modules/webgpu is missing)"; exit 1; }
  out=.bench-out/gpu-pack
  # Layout: the bundle reads ../../schemas relative to itself (src/parser/schema.ts), hence bench/run/.
  rm -rf "$out" && mkdir -p "$out/node_modules/webgpu/dist/linux-x64" "$out/architectures" "$out/schemas" "$out/debs" "$out/bench/run"
  cat > .bench-out/gpu-pack-entry.mjs <<'EOF'
import * as dawn from 'webgpu';
import * as backend from '@tensorflow/tfjs-backend-webgpu';
import { provideWebGpuModules } from '../src/targets/tfjs/backends/webgpu.ts';
provideWebGpuModules({ dawn, backend });
await import('../bench/gpu_step.ts');
EOF
  npx esbuild .bench-out/gpu-pack-entry.mjs --bundle --platform=node --format=esm --target=node20 --external:webgpu \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$out/bench/run/gpu_step.mjs" --log-level=warning
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$out/node_modules/webgpu/"
  cp node_modules/webgpu/dist/linux-x64/dawn.node "$out/node_modules/webgpu/dist/linux-x64/"
  cp architectures/*.yaml "$out/architectures/"
  cp schemas/*.json "$out/schemas/"
  cp "$(readlink -f "$(command -v node)")" "$out/node"
  # Loaders the GPU machine may lack (its driver brings the ICDs); unpacked there only if missing.
  (cd "$out/debs" && chmod 777 . && apt-get download libvulkan1 libegl1 libglvnd0 libgles2 libegl-dev 2>&1 | tail -n 1) || echo "apt-get download failed: no loader .debs in the pack"
  tar -C .bench-out -cf - gpu-pack | xz -T0 -3 > "$PACK"
  ls -la "$PACK"
  echo "carry $PACK to the GPU machine and run: bash bench/gpu.sh"
  # The PyTorch engine's benchmarks beside it (Python only there): bench/gpu_torch.sh.
  bash bench/gpu_torch.sh --pack >/dev/null
  echo "also packed the PyTorch benchmarks into .bench-out/gpu-torch: carry it too and run bash bench/gpu_torch.sh (docs/gpu.md)"
  exit 0
fi

BATCH=${BATCH:-32} SIZE=${SIZE:-224} STEPS=${STEPS:-5} WARMUP=${WARMUP:-2}
ARCHS=${ARCHS:-"resnet18 resnet50"} RUN_TIMEOUT=${RUN_TIMEOUT:-400}
NODE=node

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: none (no NVIDIA GPU visible: WebGPU will find a software adapter at best)"
uname -srm

# How to run the benchmark: the checkout (node + tsx), else the pack.
if [[ -d node_modules/webgpu && -d node_modules/tsx ]] && command -v node >/dev/null; then
  RUN=(node --import tsx bench/gpu_step.ts)
elif [[ -f "$PACK" ]]; then
  dir=/tmp/skipgraph-gpu-pack
  rm -rf "$dir" && mkdir -p "$dir" && xz -dc "$PACK" | tar -C "$dir" -xf - || { echo "cannot unpack $PACK"; exit 1; }
  dir=$dir/gpu-pack
  if ! ldconfig -p | grep -q 'libvulkan.so.1' || ! ldconfig -p | grep -q 'libEGL.so '; then
    echo "== installing the Vulkan/EGL loaders from the pack"
    for f in "$dir"/debs/*.deb; do dpkg -x "$f" / ; done; ldconfig
  fi
  NODE=node; command -v node >/dev/null || NODE=$dir/node
  export SKIPGRAPH_ARCH_DIR=$dir/architectures
  RUN=("$NODE" "$dir/bench/run/gpu_step.mjs")
else
  echo "neither a checkout with node_modules (npm ci) nor $PACK (bash bench/gpu.sh --pack, elsewhere)"; exit 1
fi

# NVIDIA's Vulkan ICD and EGL vendor file: standard places, or the driver's mount (containers).
for icd in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
  if [[ -f $icd ]]; then echo "Vulkan ICD: $icd"; [[ $icd == /usr/local/nvidia/* ]] && export VK_DRIVER_FILES=$icd; break; fi
done
[[ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]] && export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
ls /dev/nvidia* /dev/dri/renderD* 2>/dev/null | tr '\n' ' '; echo

results=()
bench() { # backend arch
  echo "== $2 on $1 (batch $BATCH, ${SIZE}x$SIZE)"
  local log; log=$(mktemp)
  timeout "$RUN_TIMEOUT" "${RUN[@]}" --arch "$2" --backend "$1" --batch "$BATCH" --size "$SIZE" --warmup "$WARMUP" --steps "$STEPS" 2>"$log.err" | tee "$log"
  local rc=${PIPESTATUS[0]}
  grep -v '^Warning\|^ - While\|^    at \|^$\|XDG_RUNTIME_DIR' "$log.err" | tail -n 5
  grep -q '(software, ' "$log" && echo "WARNING: $1 ran on a SOFTWARE adapter (CPU rasterizer): Dawn found no usable GPU driver; see docs/gpu.md"
  local line; line=$(grep '^RESULT ' "$log" | sed 's/^RESULT //')
  if [[ -n $line ]]; then results+=("$line"); else results+=("{\"arch\":\"$2\",\"backend\":\"$1\",\"failed\":\"exit $rc\"}"); fi
  rm -f "$log" "$log.err"
}

for arch in $ARCHS; do bench webgpu "$arch"; done

if [[ "${WITH_NODE_GPU:-1}" == 1 ]]; then
  # tfjs-node-gpu downloads libtensorflow 2.9 (CUDA 11.2, cuDNN 8.1) at install time.
  if [[ ! -d node_modules/@tensorflow/tfjs-node-gpu ]] && [[ ${RUN[0]} == node && ${RUN[1]} == --import ]]; then
    echo "== trying to install @tensorflow/tfjs-node-gpu@4.22.0 (needs network and CUDA 11.2/cuDNN 8.1)"
    timeout 300 npm install --no-save --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0 2>&1 | tail -n 3 || true
  fi
  if [[ -d node_modules/@tensorflow/tfjs-node-gpu ]]; then
    for arch in $ARCHS; do bench node-gpu "$arch"; done
  else
    echo "== tfjs-node-gpu: not installed here, not run"
  fi
fi

if [[ "${WITH_WASM:-0}" == 1 ]]; then
  for arch in $ARCHS; do bench wasm "$arch"; done
fi

echo "== images/s (training step, batch $BATCH, ${SIZE}x$SIZE)"
for r in "${results[@]}"; do
  "$NODE" -e 'const r = JSON.parse(process.argv[1]); console.log(`${r.arch.padEnd(10)} ${r.backend.padEnd(9)} ${r.failed ? "failed: " + r.failed : r.imagesPerSecond.toFixed(1) + " images/s (steps " + r.stepMs.join(" ") + " ms)"}`)' "$r" 2>/dev/null || echo "$r"
done
