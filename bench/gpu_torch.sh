#!/usr/bin/env bash
# PyTorch GPU training benchmarks, two parts:
# 1. (issue 13) ResNet-50 at 224x224, batch 128, bf16 autocast and channels_last, SGD: images/s of
#    one training step of the module skipgraph emits for architectures/resnet50.yaml against
#    torchvision's resnet50 (same weights), and of torch.compile of each (torch 2.x). Target:
#    emitted / torchvision >= 0.98. One Python process, the variants interleaved round by round
#    (bench/torch_step.py).
# 2. (issue 24) EfficientNet-B0 at 224x224, 1000 classes, batch 128: training images/s of
#    skipgraph's trainer (python/skipgraph_train.py, what `skipgraph train --engine torch` runs;
#    bf16 autocast and channels_last on CUDA, its defaults) on the emitted module against the same
#    trainer on torchvision's efficientnet_b0, interleaved process by process
#    (bench/torch_train_pair.py).
#
#   bash bench/gpu_torch.sh --pack     here (Node): emit the modules into .bench-out/gpu-torch/
#                                      (resnet50.py, efficientnet_b0.py, and small ones for the dry
#                                      run) with the step script, the pair script and the trainer's
#                                      files beside them; carry .bench-out/gpu-torch (or this
#                                      checkout) there
#   bash bench/gpu_torch.sh            there: python3 with torch + CUDA and torchvision, no Node needed
#   TINY=1 bash bench/gpu_torch.sh     a dry run anywhere (CPU too): ResNet-18 and EfficientNet-B0
#                                      at 32x32, 10 classes, batch 4, 1 round, few steps
#
# Environment: PY (python3), BATCH (128), SIZE (224; the step benchmark), ROUNDS (3), STEPS (10),
# WARMUP (3), COMPILE (auto: on with torch >= 2; 0 skips), DEVICE (cuda), RUN_TIMEOUT (seconds,
# 540, each part), PAIR_STEPS (20, steps an epoch of the trainer runs), WORKERS (4, the trainer's
# DataLoader workers), ONLY (step or pair: one part only), GPU_TORCH_DIR (.bench-out/gpu-torch: where
# --pack writes and the run looks).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE/.."
DIR=${GPU_TORCH_DIR:-.bench-out/gpu-torch}

if [[ "${1:-}" == "--pack" ]]; then
  set -e
  mkdir -p "$DIR"
  node --import tsx --input-type=module -e "
    const { emitModule } = await import('./bench/torch_case.ts');
    const { copyFileSync } = await import('node:fs');
    const tiny = ['input.height=32', 'input.width=32', 'classes=10'];
    for (const [name, sets, file] of [['resnet50', [], 'resnet50.py'], ['resnet18', tiny, 'resnet18_32.py'], ['efficientnet_b0', [], 'efficientnet_b0.py'], ['efficientnet_b0', tiny, 'efficientnet_b0_32.py']]) {
      copyFileSync(emitModule(name, sets, file), '$DIR/' + file);
    }"
  # The trainer as \`skipgraph train --engine torch --prepare\` writes it: every python/skipgraph_train*.py and the recipes.
  cp bench/torch_step.py bench/torch_train_pair.py bench/gpu_torch.sh python/skipgraph_train*.py src/training/recipes.json "$DIR/"
  ls -la "$DIR"
  echo "carry $DIR to the GPU machine and run: bash $DIR/gpu_torch.sh (or bash bench/gpu_torch.sh in this checkout)"
  exit 0
fi

# Where the files are: beside this script (a carried folder) or in the checkout's .bench-out.
if [[ -f $HERE/torch_step.py && -f $HERE/resnet50.py ]]; then FILES=$HERE
elif [[ -f $DIR/resnet50.py ]]; then FILES=$DIR
else echo "no emitted modules: run 'bash bench/gpu_torch.sh --pack' in a checkout with Node first"; exit 1; fi
for f in torch_step.py torch_train_pair.py skipgraph_train.py efficientnet_b0.py; do
  [[ -f $FILES/$f ]] || { echo "$FILES/$f is missing: run 'bash bench/gpu_torch.sh --pack' again"; exit 1; }
done
STEP=$FILES/torch_step.py

PY=${PY:-python3}
RUN_TIMEOUT=${RUN_TIMEOUT:-540}
echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: none"
"$PY" -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' || exit 1
HAS_COMPILE=$("$PY" -c 'import torch; print(int(hasattr(torch, "compile")))')
COMPILE=${COMPILE:-$HAS_COMPILE}
[[ $COMPILE == 1 && $HAS_COMPILE == 0 ]] && { echo "COMPILE=1 but this torch has no torch.compile"; COMPILE=0; }

if [[ -n "${TINY:-}" ]]; then
  DEVICE=${DEVICE:-$("$PY" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')}
else
  DEVICE=${DEVICE:-cuda}
fi
status=0

# Part 1: one training step, emitted ResNet-50 against torchvision's (bench/torch_step.py).
step_part() {
  local args
  if [[ -n "${TINY:-}" ]]; then
    args=(--emitted "$FILES/resnet18_32.py" --arch resnet18 --size 32 --classes 10 --batch "${BATCH:-4}" --rounds "${ROUNDS:-1}" --steps "${STEPS:-1}" --warmup "${WARMUP:-1}")
  else
    args=(--emitted "$FILES/resnet50.py" --arch resnet50 --size "${SIZE:-224}" --classes 1000 --batch "${BATCH:-128}" --rounds "${ROUNDS:-3}" --steps "${STEPS:-10}" --warmup "${WARMUP:-3}")
  fi
  args+=(--device "$DEVICE" --channels-last)
  [[ $DEVICE == cuda ]] && args+=(--amp)
  [[ $COMPILE == 1 ]] && args+=(--compile)

  echo "== $PY $STEP ${args[*]}"
  local out line
  out=$(timeout "$RUN_TIMEOUT" "$PY" "$STEP" "${args[@]}") || { echo "the step benchmark failed or ran past ${RUN_TIMEOUT} s"; echo "$out"; return 1; }
  line=$(grep '^RESULT ' <<<"$out" | head -n 1)
  echo "$line"
  "$PY" - "$line" <<'PYEOF'
import json, statistics as st, sys
r = json.loads(sys.argv[1][len("RESULT "):])
print(f"\n{r['arch']} {r['size']}x{r['size']} batch {r['batch']} on {r['device']}, torch {r['torch']}, bf16 {r['amp']}, channels_last {r['channelsLast']}")
print(f"{'variant':<22} {'images/s (median of rounds)':>28} {'warm-up s':>10}")
for k, v in r["imagesPerSecond"].items():
    print(f"{k:<22} {st.median(v):>28.1f} {r['warmupSeconds'][k]:>10.1f}")
ratio = 1 / st.median(r["ratio"])
print(f"emitted / torchvision (images/s): {ratio:.3f}  (target >= 0.98: {'met' if ratio >= 0.98 else 'not met'})")
if "ratioCompiled" in r:
    print(f"emitted+compile / torchvision+compile (images/s): {1 / st.median(r['ratioCompiled']):.3f}")
PYEOF
}

# Part 2: skipgraph's trainer on the emitted EfficientNet-B0 against the same trainer on
# torchvision's, same batch and precision (bench/torch_train_pair.py).
pair_part() {
  local args
  if [[ -n "${TINY:-}" ]]; then
    args=(--emitted "$FILES/efficientnet_b0_32.py" --batch "${BATCH:-4}" --steps "${PAIR_STEPS:-2}" --rounds "${ROUNDS:-1}" --workers "${WORKERS:-0}" --threads 2)
  else
    args=(--emitted "$FILES/efficientnet_b0.py" --batch "${BATCH:-128}" --steps "${PAIR_STEPS:-20}" --rounds "${ROUNDS:-3}" --workers "${WORKERS:-4}")
  fi
  args+=(--dir "$FILES" --arch efficientnet_b0 --device "$DEVICE")
  echo "== $PY $FILES/torch_train_pair.py ${args[*]}"
  timeout "$RUN_TIMEOUT" "$PY" "$FILES/torch_train_pair.py" "${args[@]}" || { echo "the trainer benchmark failed or ran past ${RUN_TIMEOUT} s"; return 1; }
}

[[ -z ${ONLY:-} || $ONLY == step ]] && { step_part || status=1; }
[[ -z ${ONLY:-} || $ONLY == pair ]] && { pair_part || status=1; }
exit $status
