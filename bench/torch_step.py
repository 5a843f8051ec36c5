"""Training-step timing of a skipgraph-emitted PyTorch module against torchvision's own model.

    python3 bench/torch_step.py --emitted resnet18.py --arch resnet18 --size 32 --batch 32 --classes 10
    python3 bench/torch_step.py --emitted resnet50.py --arch resnet50 --size 224 --batch 128 \
        --device cuda --amp --channels-last --compile

Both models get the same weights (torchvision's state_dict loaded into the emitted module with
strict=True, so a mismatch fails here) and the same batch. Rounds are interleaved: round r times
STEPS steps of each variant in turn (emitted, torchvision, then the torch.compile'd pair with
--compile), after WARMUP steps each, so drift in machine load hits every variant alike. One step
is SGD: zero_grad, forward, cross-entropy, backward, step (CUDA: synchronised). Prints one line
`RESULT {json}`: per variant the per-round seconds a step and images/s, and per round
emitted / torchvision (>1: the emitted one is slower). Imports torch and torchvision only.
"""
import argparse
import importlib.util
import json
import sys
import time

import torch
import torch.nn as nn
import torchvision

p = argparse.ArgumentParser()
p.add_argument("--emitted", required=True)
p.add_argument("--arch", default="resnet18")
p.add_argument("--size", type=int, default=32)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--classes", type=int, default=10)
p.add_argument("--rounds", type=int, default=5)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--device", default="cpu")
p.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA)")
p.add_argument("--channels-last", action="store_true")
p.add_argument("--compile", action="store_true", help="also torch.compile of each (torch 2.x)")
a = p.parse_args()

torch.set_num_threads(a.threads)
dev = torch.device(a.device)
cuda = dev.type == "cuda"
if cuda:
    torch.backends.cudnn.benchmark = True
fmt = torch.channels_last if a.channels_last else torch.contiguous_format

spec = importlib.util.spec_from_file_location("emitted", a.emitted)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
torch.manual_seed(0)
ref = getattr(torchvision.models, a.arch)(num_classes=a.classes)
emitted = mod.build_model()
emitted.load_state_dict(ref.state_dict(), strict=True)

x = torch.randn(a.batch, 3, a.size, a.size, device=dev).contiguous(memory_format=fmt)
y = (torch.arange(a.batch, device=dev) % a.classes)
loss_fn = nn.CrossEntropyLoss()


def prepare(model):
    model = model.to(dev).to(memory_format=fmt).train()
    return model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


variants = {"emitted": prepare(emitted), "torchvision": prepare(ref)}
if a.compile:
    if not hasattr(torch, "compile"):
        sys.exit("--compile needs torch 2.x (torch.compile)")
    import copy

    for name in ("emitted", "torchvision"):
        m = copy.deepcopy(variants[name][0])
        variants[f"{name}+compile"] = (torch.compile(m), torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9))


def step(model, opt):
    opt.zero_grad(set_to_none=True)
    if a.amp:
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            loss = loss_fn(model(x).float(), y)
    else:
        loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


def sync():
    if cuda:
        torch.cuda.synchronize()


compile_seconds = {}
for name, (model, opt) in variants.items():
    t0 = time.perf_counter()
    for _ in range(a.warmup):
        step(model, opt)
    sync()
    compile_seconds[name] = time.perf_counter() - t0  # warm-up (includes compilation for +compile)

per_round = {name: [] for name in variants}
for r in range(a.rounds):
    for name, (model, opt) in variants.items():
        sync()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step(model, opt)
        sync()
        per_round[name].append((time.perf_counter() - t0) / a.steps)

out = {
    "torch": torch.__version__,
    "torchvision": torchvision.__version__,
    "device": torch.cuda.get_device_name(dev) if cuda else f"cpu ({a.threads} threads)",
    "arch": a.arch,
    "size": a.size,
    "batch": a.batch,
    "amp": "bf16" if a.amp else "off",
    "channelsLast": a.channels_last,
    "rounds": a.rounds,
    "steps": a.steps,
    "warmupSeconds": compile_seconds,
    "stepSeconds": per_round,
    "imagesPerSecond": {k: [a.batch / s for s in v] for k, v in per_round.items()},
    "ratio": [e / t for e, t in zip(per_round["emitted"], per_round["torchvision"])],
}
if a.compile:
    out["ratioCompiled"] = [e / t for e, t in zip(per_round["emitted+compile"], per_round["torchvision+compile"])]
print("RESULT " + json.dumps(out), flush=True)
