"""The PyTorch engine's side of the recipe parity test: reads a JSON request on argv[1], answers
JSON on stdout, using the trainer's own modules (python/skipgraph_train_{recipe,data}.py).

- lr: the rate at every step of each schedule case (resolve + lr_at)
- decay: the names of the parameters weight decay applies to (make_optimizer's groups)
- augment: per-sample crop offsets and flips of train_transform on a marker image; rrc boxes;
  mixup and cutmix lambdas of mix_batch
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "python"))
import torch  # noqa: E402
import torchvision.transforms as T  # noqa: E402
from skipgraph_train_data import mix_batch, train_transform  # noqa: E402
from skipgraph_train_recipe import decays, lr_at, make_optimizer, resolve  # noqa: E402

req = json.loads(sys.argv[1])
torch.manual_seed(req.get("seed", 0))
out = {}
if "lr" in req:
    out["lr"] = []
    for c in req["lr"]:
        s = resolve(c["given"], c["epochs"], req.get("recipes"))
        out["lr"].append([lr_at(s, k, c["epochs"], c["stepsPerEpoch"]) for k in range(c["epochs"] * c["stepsPerEpoch"])])
if "decay" in req:
    import importlib.util

    spec = importlib.util.spec_from_file_location("m", req["decay"]["model"])
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    model = m.build_model()
    s = resolve(req["decay"]["given"], 1)
    opt = make_optimizer(s, model)
    ids = {id(p) for g in opt.param_groups if g["weight_decay"] > 0 for p in g["params"]}
    out["decay"] = sorted(n for n, p in model.named_parameters() if id(p) in ids)
    assert sorted(n for n, p in model.named_parameters() if decays(s, p)) == out["decay"]
if "augment" in req:
    a = req["augment"]
    h, w, n = a["height"], a["width"], a["samples"]
    marker = (torch.arange(h * w, dtype=torch.float32) + 1).view(1, h, w)  # pixel (y, x) holds y * w + x + 1
    tf = train_transform({"crop": a["padding"], "flip": a["flip"]}, (h, w), pil=False)
    crops = []
    p = a["padding"]
    for _ in range(n):
        o = tf(marker)[0]
        ys, xs = torch.nonzero(o > 0, as_tuple=True)
        y0, x0 = int(ys[0]), int(xs[0])  # the first lit pixel, its right neighbour lit too (p < w - 1)
        v, right = int(o[y0, x0]) - 1, int(o[y0, x0 + 1]) - 1
        flipped = right == v - 1
        col = w - 1 - x0 if flipped else x0  # the column before the flip
        crops.append([v // w - y0 + p, v % w - col + p, int(flipped)])
    out["crops"] = crops
    rrc = T.RandomResizedCrop((h, w), scale=(a["rrcScale"], 1.0))
    img = torch.zeros(1, a["rrcHeight"], a["rrcWidth"])
    out["rrc"] = [list(rrc.get_params(img, rrc.scale, rrc.ratio)) for _ in range(n)]
    rng = random.Random(1)
    x = torch.zeros(2, 1, h, w)
    y = torch.eye(2)
    out["mixup"] = [mix_batch(rng, x, y, {"mixup": a["mixup"]})[2] for _ in range(n)]
    out["cutmix"] = [mix_batch(rng, x, y, {"cutmix": a["cutmix"]})[2] for _ in range(n)]
print(json.dumps(out))
