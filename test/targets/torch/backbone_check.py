"""
A skipgraph backbone against torchvision (test/targets/torch/backbone.test.ts).

Reads one JSON job on stdin: {"py": emitted module, "model": torchvision model name, "features":
[stage names], "size": input side, "seed": n}. torchvision's model, every parameter and buffer
randomised (BN statistics included), loses fc.* and loads into the emitted backbone with
strict=True; each feature is compared with torchvision's create_feature_extractor over the same
stages, in eval and in train mode. Prints one JSON line: the order and shapes returned, and the
largest difference of each feature relative to its scale (max |torchvision|).
"""
import importlib.util
import json
import sys

import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor

job = json.loads(sys.stdin.read())
torch.manual_seed(job["seed"])
torch.set_num_threads(2)

spec = importlib.util.spec_from_file_location("emitted", job["py"])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
ours = mod.build_model()

tv = getattr(torchvision.models, job["model"])()
with torch.no_grad():
    for name, t in tv.state_dict().items():
        if t.dtype.is_floating_point:
            # Positive variances; every other tensor centred on 0 (gains included, so no branch hides).
            t.copy_(torch.rand_like(t) + 0.5 if name.endswith("running_var") else torch.randn_like(t) * 0.5)
state = {k: v for k, v in tv.state_dict().items() if not k.startswith("fc.")}
missing = ours.load_state_dict(state, strict=True)
extractor = create_feature_extractor(tv, return_nodes={f: f for f in job["features"]})

result = {"keys": len(state), "modes": {}}
x = torch.randn(2, 3, job["size"], job["size"])
for mode in ("eval", "train"):
    ours.train(mode == "train")
    extractor.train(mode == "train")
    with torch.no_grad():
        got = ours(x)
        want = extractor(x)
    result["type"] = type(got).__name__
    diffs = []
    for f, g in zip(job["features"], got):
        w = want[f]
        scale = w.abs().max().item()
        diffs.append({"name": f, "shape": list(g.shape), "want": list(w.shape), "diff": (g - w).abs().max().item() / scale if g.shape == w.shape else None, "scale": scale})
    result["modes"][mode] = {"count": len(got), "features": diffs}
print(json.dumps(result))
