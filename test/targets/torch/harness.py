"""
The Python side of the torch target's tests: one process runs many jobs (a JSON list on stdin),
one JSON line of results per job on stdout. Imports torch only (torchvision for 'torchvision' jobs).

Job kinds:
- "run": import an emitted file, build_model(), load `weights` (safetensors) with strict=True,
  record every module's output shape (forward hooks), run `input` (raw float32, NCHW) in eval
  mode; optionally save the module's own fresh state_dict to `save` first (then `weights` is unused).
- "torchvision": load torchvision's model's state_dict into the emitted module (strict=True); the
  largest differences of the outputs in eval mode, in train mode, and of every parameter and buffer
  after one SGD step on both.
"""
import importlib.util
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    """safetensors is not packaged for Debian: its format is an 8-byte length, a JSON header, the data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]]) if end > start else torch.empty(0, dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def counts(model):
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    return params, buffers


def run(job):
    m = load_module(job["py"], "emitted_%d" % job["index"])
    model = m.build_model()
    res = {"skipgraph": m.SKIPGRAPH}
    if job.get("save"):
        sd = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
        write_safetensors(job["save"], sd)
    else:
        missing, unexpected = model.load_state_dict(read_safetensors(job["weights"]), strict=True)
        res["missing"], res["unexpected"] = list(missing), list(unexpected)
    res["params"], res["buffers"] = counts(model)
    shapes = {}
    hooks = [mod.register_forward_hook(lambda _m, _i, o, name=name: shapes.__setitem__(name, list(o.shape))) for name, mod in model.named_modules() if name]
    c, h, w = job["shape"]
    n = job["batch"]
    with open(job["input"], "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(n, c, h, w)
    model.eval()
    with torch.no_grad():
        y = model(x)
    for hk in hooks:
        hk.remove()
    res["shapes"] = shapes
    res["outShape"] = list(y.shape)
    res["output"] = y.flatten().tolist()
    return res


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item() if a.numel() else 0.0


def torchvision_job(job):
    import torchvision

    torch.manual_seed(job.get("seed", 0))
    ref = getattr(torchvision.models, job["model"])(**job.get("kwargs", {}))
    m = load_module(job["py"], "emitted_tv_%d" % job["index"])
    ours = m.build_model()
    # Random batch-norm statistics and affine weights, so that eval mode is not the identity.
    with torch.no_grad():
        for mod in ref.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    missing, unexpected = ours.load_state_dict(ref.state_dict(), strict=True)
    res = {"missing": list(missing), "unexpected": list(unexpected), "keys": len(ref.state_dict()), "params": counts(ours)}
    size = job["size"]
    x = torch.randn(job["batch"], 3, size, size)
    ref.eval(), ours.eval()
    with torch.no_grad():
        a, b = ref(x), ours(x)
    res["eval"], res["scale"] = maxdiff(a, b), a.abs().max().item()
    ref.train(), ours.train()
    opts = [torch.optim.SGD(mod.parameters(), lr=0.1, momentum=0.9) for mod in (ref, ours)]
    target = torch.randint(0, a.shape[1], (job["batch"],))
    outs = []
    for mod, opt in zip((ref, ours), opts):
        opt.zero_grad()
        y = mod(x)
        torch.nn.functional.cross_entropy(y, target).backward()
        opt.step()
        outs.append(y.detach())
    res["train"] = maxdiff(outs[0], outs[1])
    rs, os_ = ref.state_dict(), ours.state_dict()
    res["after_step"] = max(maxdiff(rs[k].float(), os_[k].float()) for k in rs)
    return res


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    jobs = json.load(sys.stdin)
    for i, job in enumerate(jobs):
        job["index"] = i
        try:
            res = torchvision_job(job) if job["kind"] == "torchvision" else run(job)
            res["ok"] = True
        except Exception as e:  # reported to the test, which fails with the message
            res = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        res["id"] = job["id"]
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
