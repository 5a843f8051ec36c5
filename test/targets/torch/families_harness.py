"""torchvision's own models against skipgraph's files (test/targets/torch/families.test.ts).

Reads a JSON list of jobs on stdin, writes one JSON line per job. Each job names torchvision's
builder (`model`) and its keyword arguments as the file's `# equals:` line writes them (`args`,
e.g. "replace_stride_with_dilation=[False, False, True]"): they are read as Python literals
(ast.literal_eval), never executed. Job kinds:
- "counts": trainable params and MACs of torchvision.models.<model>(**args) at `size`, counted by
  forward hooks on a meta-device forward (no arithmetic is done), and the stochastic-depth
  probability of every block that has one, in module order.
- "outputs": torchvision's state_dict loads into the emitted module (`py`) with strict=True; then
  every parameter and buffer of torchvision's model is randomised (BN statistics included), loaded
  again, and both models run a random batch in eval and in train mode, with dropout and
  stochastic depth off (`py` was compiled with drop_path_rate=0; dropout p is set to 0 in both).
"""
import ast
import contextlib
import json
import sys
import time

import torch
import torchvision
from torchvision.models.convnext import CNBlock
from torchvision.models.regnet import ResBottleneckBlock
from torchvision.models.resnet import BasicBlock, Bottleneck
from torchvision.ops import StochasticDepth

from harness import load_module, maxdiff  # the torch target's harness, beside this file


def macs_and_params(model, size):
    model = model.to("meta").eval()
    total = [0]

    def conv_hook(mod, inp, out):
        # One multiply-accumulate per weight per output position (torchvision / torchinfo).
        total[0] += out.shape[2] * out.shape[3] * mod.out_channels * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]

    def linear_hook(mod, inp, out):
        # Per position when applied to a channels-last map (ConvNeXt's pointwise layers).
        total[0] += out.numel() // out.shape[-1] // out.shape[0] * mod.in_features * mod.out_features

    for mod in model.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.register_forward_hook(conv_hook)
        elif isinstance(mod, torch.nn.Linear):
            mod.register_forward_hook(linear_hook)
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size, device="meta"))
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return params, total[0]


@contextlib.contextmanager
def no_init():
    """torch.nn.init's functions do nothing while models are built: every value that matters is
    randomised (or, for counts, never read) afterwards, and ConvNeXt-Base's truncated-normal
    init alone takes about 14 s on this machine."""
    saved = {n: f for n, f in vars(torch.nn.init).items() if n.endswith("_") and not n.startswith("_") and callable(f)}
    for n in saved:
        setattr(torch.nn.init, n, lambda t, *a, **k: t)
    try:
        yield
    finally:
        for n, f in saved.items():
            setattr(torch.nn.init, n, f)


def reference(job):
    """torchvision.models.<model>(**args), the args read as literals from the `# equals:` line."""
    call = ast.parse("f(%s)" % job.get("args", ""), mode="eval").body
    if call.args:
        raise ValueError("`# equals:` arguments must be keywords: %s" % job["args"])
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    with no_init():
        return getattr(torchvision.models, job["model"])(**kwargs)


# Blocks that always add their shortcut (ResNet's, RegNet's, ConvNeXt's); MBConv and
# InvertedResidual say whether they do (use_res_connect).
ALWAYS_ADDS = (BasicBlock, Bottleneck, ResBottleneckBlock, CNBlock)


def counts(job):
    model = reference(job)
    sd = [m.p for m in model.modules() if isinstance(m, StochasticDepth)]
    uses = [bool(getattr(m, "use_res_connect", False)) or isinstance(m, ALWAYS_ADDS) for m in model.modules() if hasattr(m, "use_res_connect") or isinstance(m, ALWAYS_ADDS)]
    params, macs = macs_and_params(model, job["size"])
    return {"params": params, "macs": macs, "sd": sd, "residual": uses, "keys": list(model.state_dict().keys())}


def no_dropout(model):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
        if isinstance(m, StochasticDepth):
            m.p = 0.0


def randomise(model):
    """Every parameter and buffer of `model` drawn afresh (also bench/families_targets.py's)."""
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                t.uniform_(-0.5, 0.5)
            elif t.dim() == 1 and name.endswith("weight"):
                t.uniform_(0.5, 1.5)  # BN gamma: no branch hides behind a tiny gain
            else:
                bound = 1.0 / max(1, t[0].numel()) ** 0.5 if t.dim() > 1 else 0.5
                t.uniform_(-bound * 1.7, bound * 1.7)


def outputs(job):
    torch.manual_seed(job["seed"])
    ref = reference(job)
    with no_init():
        ours = load_module(job["py"], "emitted_%d" % job["index"]).build_model()
    missing, unexpected = ours.load_state_dict(ref.state_dict(), strict=True)
    randomise(ref)
    ours.load_state_dict(ref.state_dict(), strict=True)
    no_dropout(ref)
    no_dropout(ours)
    x = torch.randn(job["batch"], 3, job["size"], job["size"])
    res = {"missing": list(missing), "unexpected": list(unexpected)}
    ref.eval(), ours.eval()
    with torch.no_grad():
        a, b = ref(x), ours(x)
        res["eval"], res["scale"] = maxdiff(a, b), a.abs().max().item()
        res["shapes"] = [list(a.shape), list(b.shape)]  # maxdiff broadcasts: [1, 1000] against [1000] would pass
        ref.train(), ours.train()
        a, b = ref(x), ours(x)
        res["train"], res["train_scale"] = maxdiff(a, b), a.abs().max().item()
        res["shapes"] += [list(a.shape), list(b.shape)]
    return res


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    kinds = {"counts": counts, "outputs": outputs}
    for i, job in enumerate(json.load(sys.stdin)):
        job["index"] = i
        start = time.perf_counter()
        try:
            res = dict(kinds[job["kind"]](job), ok=True, seconds=time.perf_counter() - start)
        except Exception as e:  # the test fails with the message
            res = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(dict(res, id=job["id"])), flush=True)


if __name__ == "__main__":
    main()
