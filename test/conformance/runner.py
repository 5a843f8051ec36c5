"""
The PyTorch column of the conformance matrix: one process runs every case (a JSON list of jobs on
stdin) and prints one JSON line per job. Each job imports an emitted file, loads the shared
weights (safetensors) with strict=True, and records:
- "eval": the output in eval mode;
- "train" (when the job asks): the output of one train-mode forward, and every batch norm's
  running statistics after it ("stats").
The safetensors reader and module loader are the torch target tests' (test/targets/torch/harness.py).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "targets", "torch"))
from harness import load_module, read_safetensors  # noqa: E402


def flat(y):
    # A backbone returns a list of maps: their values one after another, in its order.
    return torch.cat([t.flatten() for t in y]) if isinstance(y, (list, tuple)) else y.flatten()


def run(job):
    m = load_module(job["py"], "conformance_%d" % job["index"])
    model = m.build_model()
    model.load_state_dict(read_safetensors(job["weights"]), strict=True)
    c, h, w = job["shape"]
    with open(job["input"], "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(job["batch"], c, h, w)
    res = {}
    model.eval()
    with torch.no_grad():
        res["eval"] = flat(model(x)).tolist()
    if job["train"]:
        model.train()
        with torch.no_grad():
            res["train"] = flat(model(x)).tolist()
        res["stats"] = {k: v.flatten().tolist() for k, v in model.state_dict().items() if k.endswith((".running_mean", ".running_var"))}
    return res


def main():
    torch.set_num_threads(1)
    for i, job in enumerate(json.load(sys.stdin)):
        job["index"] = i
        try:
            res = run(job)
        except Exception as e:  # reported to the test, which fails with the message
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        res["id"] = job["id"]
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
