"""Training images/s of skipgraph's PyTorch trainer (what `skipgraph train --engine torch` runs:
python/skipgraph_train.py) on the module skipgraph emits for a shipped file, against the same
trainer on torchvision's own model of that name: same data, batch, precision (bf16 autocast and
channels_last on CUDA, as the trainer's defaults), optimizer and schedule, so the model is the only
difference. Issue 24's GPU item (efficientnet_b0); bench/gpu_torch.sh runs it.

    python3 bench/torch_train_pair.py --dir DIR --emitted DIR/efficientnet_b0.py --arch efficientnet_b0 \
        --batch 128 --steps 20 --rounds 3 --device cuda

DIR holds the trainer's files (skipgraph_train*.py, recipes.json: what `--prepare` writes, or
bench/gpu_torch.sh --pack copies). Here, in DIR/pair/: a data file of random pixels (safetensors
in the trainer's format: STEPS x BATCH training images at the module's input size, one batch
held out) and a model file that builds torchvision.models.ARCH behind the emitted module's
SKIPGRAPH. Each run is one trainer process, two epochs of STEPS steps; the figure is the second
epoch's images/s (warm: cuDNN autotuning and the first allocations fall in the first). Rounds are
interleaved (emitted, torchvision; the next round the other way round), so drift in the
machine's load hits both alike. Prints a table and one line `RESULT {json}`.
"""
import argparse
import importlib.util
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True, help="the folder with skipgraph_train.py and its modules")
p.add_argument("--emitted", required=True, help="the module skipgraph emitted (build_model, SKIPGRAPH)")
p.add_argument("--arch", default="efficientnet_b0", help="torchvision.models.<arch>")
p.add_argument("--batch", type=int, default=128)
p.add_argument("--steps", type=int, default=20, help="steps an epoch")
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--device", default="cuda")
p.add_argument("--workers", type=int, default=4, help="DataLoader workers (the trainer's --workers)")
p.add_argument("--threads", type=int, default=0, help="CPU threads (the trainer's --threads; 0: its default)")
p.add_argument("--timeout", type=float, default=600, help="seconds a run may take")
a = p.parse_args()

import torch  # noqa: E402 (after the arguments: --help without torch)

work = os.path.join(a.dir, "pair")
os.makedirs(work, exist_ok=True)
trainer = os.path.join(a.dir, "skipgraph_train.py")
if not os.path.isfile(trainer):
    sys.exit(f"{trainer} is missing: run bash bench/gpu_torch.sh --pack first")

# The emitted module's metadata: input [C, H, W] and classes.
spec = importlib.util.spec_from_file_location("emitted_meta", a.emitted)
meta_mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(meta_mod)
meta = meta_mod.SKIPGRAPH
c, h, w = meta["input"]
classes = meta["classes"]


def write_data(path, train, test):
    """The trainer's data file (src/targets/torch/data_file.ts): NHWC uint8 pixels, uint8/int32 labels, info JSON."""
    g = torch.Generator().manual_seed(0)
    tensors = {}
    for split, n in (("train", train), ("test", test)):
        tensors[f"{split}_x"] = ("U8", [n, h, w, c], torch.randint(0, 256, (n, h, w, c), dtype=torch.uint8, generator=g).numpy().tobytes())
        y = torch.arange(n) % classes
        tensors[f"{split}_y"] = ("U8", [n], y.to(torch.uint8).numpy().tobytes()) if classes <= 256 else ("I32", [n], y.to(torch.int32).numpy().tobytes())
    info = {"name": "random", "height": h, "width": w, "channels": c, "classes": classes, "scale": 1 / 255,
            "mean": [0.485, 0.456, 0.406][:c], "std": [0.229, 0.224, 0.225][:c], "train": train, "test": test, "key": "bench"}
    header, offset = {"__metadata__": {"info": json.dumps(info)}}, 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        for _, _, data in tensors.values():
            f.write(data)


data = os.path.join(work, "data.safetensors")
write_data(data, a.batch * a.steps, a.batch)

# torchvision's model behind the same metadata (the trainer wants build_model and SKIPGRAPH).
reference = os.path.join(work, f"torchvision_{a.arch}.py")
with open(reference, "w") as f:
    f.write(f'''"""torchvision.models.{a.arch} behind the emitted module's SKIPGRAPH (bench/torch_train_pair.py)."""
import importlib.util

import torchvision

_spec = importlib.util.spec_from_file_location("emitted_meta", {os.path.abspath(a.emitted)!r})
_m = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_m)
SKIPGRAPH = dict(_m.SKIPGRAPH, name="torchvision {a.arch}")


def build_model(zero_init_residual=False):
    return torchvision.models.{a.arch}(num_classes=SKIPGRAPH["classes"])
''')


def run(model, out):
    """One trainer process: two epochs; the second epoch's images/s."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, trainer, "--model", model, "--data", data, "--out", out, "--epochs", "2", "--batch", str(a.batch),
           "--lr", "0.01", "--augment", "none", "--device", a.device, "--workers", str(a.workers), "--seed", "0"]
    if a.threads:
        cmd += ["--threads", str(a.threads)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited {r.returncode}:\n{(r.stdout + r.stderr)[-3000:]}")
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)["history"]
    return history[-1]["imagesPerSecond"], time.perf_counter() - t0


variants = {"emitted": a.emitted, "torchvision": reference}
ips = {k: [] for k in variants}
wall = {k: [] for k in variants}
for r in range(a.rounds):
    order = list(variants) if r % 2 == 0 else list(reversed(list(variants)))
    for k in order:
        v, s = run(variants[k], os.path.join(work, f"run_{k}"))
        ips[k].append(v)
        wall[k].append(s)
    print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{k} {ips[k][-1]:.1f} images/s" for k in variants), flush=True)

ratio = [e / t for e, t in zip(ips["emitted"], ips["torchvision"])]
device = torch.cuda.get_device_name(0) if a.device == "cuda" and torch.cuda.is_available() else a.device
print(f"\n{a.arch} {h}x{w}, {classes} classes, batch {a.batch}, {a.steps} steps an epoch, on {device}, torch {torch.__version__}")
print(f"{'variant':<28} {'images/s (median of rounds)':>28}")
print(f"{'skipgraph (emitted module)':<28} {statistics.median(ips['emitted']):>28.1f}")
print(f"{'torchvision ' + a.arch:<28} {statistics.median(ips['torchvision']):>28.1f}")
print(f"emitted / torchvision (images/s, median of rounds): {statistics.median(ratio):.3f}")
print("RESULT " + json.dumps({"arch": a.arch, "size": h, "classes": classes, "batch": a.batch, "steps": a.steps, "rounds": a.rounds,
                              "device": device, "torch": torch.__version__, "imagesPerSecond": ips, "runSeconds": wall, "ratio": ratio}))
