"""The training recipe for skipgraph's PyTorch trainer: settings resolved from the flags and the
shared recipe file (src/training/recipes.json, read by the TF.js engine too), the learning-rate
schedule, the optimizer's parameter groups, the weight EMA and the checkpoint check.

Each function follows its TF.js twin (src/training/schedule.ts, src/targets/tfjs/train/optimizer.ts,
ema.ts); test/targets/torch/train_recipe_parity.test.ts compares them.
"""
import json
import math
import os

import torch

from skipgraph_train_check import RecipeError, open_regular

# Defaults of every recipe setting (the TF.js engine's, src/training/settings.ts)
DEFAULTS = {
    "batch": 64,
    "lr": 0.1,
    "optimizer": "sgd",
    "momentum": 0.9,
    "nesterov": False,
    "weightDecay": 0.0,
    "decayAll": False,
    "clipGrad": None,
    "schedule": "cosine",
    "warmup": 0.0,
    "warmupFactor": 0.01,
    "schedulePer": "step",
    "lrStepSize": 30.0,
    "lrGamma": 0.1,
    "milestones": [],
    "labelSmoothing": 0.0,
    "augment": "none",
    "ema": None,
    "dropLast": False,
}
SCHEDULES = ("cosine", "constant", "step", "multistep", "onecycle")
OPTIMIZERS = ("sgd", "adam", "adamw")



def recipe_file(explicit=None):
    """recipes.json: the one given, else beside this script (a --prepare folder), else the package's."""
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    for p in (os.path.join(here, "recipes.json"), os.path.join(here, "..", "src", "training", "recipes.json")):
        if os.path.isfile(p):
            return p
    raise RecipeError("cannot find recipes.json (beside the script or in the package's src/training/); give --recipes FILE")


def load_recipe(name, epochs, path=None):
    """The settings of recipe `name` for a run of `epochs` epochs."""
    path = recipe_file(path)
    try:
        with open(path, encoding="utf8") as f:
            recipes = json.load(f)["recipes"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RecipeError(f"{path} is not a recipe file ({e})")
    if name not in recipes:
        raise RecipeError(f"unknown recipe '{name}'; use {' or '.join(sorted(recipes))}")
    r = recipes[name]
    s = dict(r["settings"])
    if "warmupAtMost" in r:
        s["warmup"] = min(s.get("warmup", 0), math.floor(epochs * r["warmupAtMost"]))
    return s


def resolve(given, epochs, recipes=None):
    """Settings: the flags given (not None) over the recipe over the defaults; RecipeError for bad values."""
    base = dict(DEFAULTS)
    if given.get("recipe"):
        base.update(load_recipe(given["recipe"], epochs, recipes))
    for k, v in given.items():
        if k in DEFAULTS and v is not None:
            base[k] = v
    s = base
    if s["optimizer"] not in OPTIMIZERS:
        raise RecipeError(f"unknown optimizer '{s['optimizer']}'; use {', '.join(OPTIMIZERS)}")
    if s["schedule"] not in SCHEDULES:
        raise RecipeError(f"unknown schedule '{s['schedule']}'; use {', '.join(SCHEDULES)}")
    if not (s["lr"] > 0 and math.isfinite(s["lr"])):
        raise RecipeError(f"--lr must be a positive number, not {s['lr']}")
    if s["schedulePer"] not in ("step", "epoch"):
        raise RecipeError(f"--schedule-per must be 'step' or 'epoch', not '{s['schedulePer']}'")
    if not (s["warmup"] >= 0 and math.isfinite(s["warmup"])):
        raise RecipeError(f"--warmup must be 0 or a positive number of epochs, not {s['warmup']}")
    if s["warmup"] > 0 and s["warmup"] >= epochs and s["schedule"] != "constant":
        raise RecipeError(f"--warmup {s['warmup']:g} must be shorter than the run (--epochs {epochs})")
    if s["schedule"] == "multistep" and not s["milestones"]:
        raise RecipeError("the multistep schedule needs --milestones, e.g. --milestones 30,60,80")
    if not (0 <= s["momentum"] < 1):
        raise RecipeError(f"--momentum must be in [0, 1), not {s['momentum']}")
    if s["nesterov"] and (s["optimizer"] != "sgd" or s["momentum"] == 0):
        raise RecipeError("--nesterov needs sgd with a momentum above 0")
    if not (0 <= s["labelSmoothing"] < 1):
        raise RecipeError(f"--label-smoothing must be in [0, 1), not {s['labelSmoothing']}")
    if s["ema"] is not None and not (0 < s["ema"] < 1):
        raise RecipeError(f"--ema must be a decay in (0, 1), e.g. 0.999, not {s['ema']}")
    if s["weightDecay"] < 0 or not math.isfinite(s["weightDecay"]):
        raise RecipeError(f"--weight-decay must be 0 or a positive number, not {s['weightDecay']}")
    s["augment"] = parse_augment(s["augment"]) if isinstance(s["augment"], str) else s["augment"]
    return s


def parse_augment(spec):
    """--augment words joined by '+' (src/data/augment.ts's parseAugment): crop[:PAD], rrc[:MIN],
    flip[:P], mixup[:ALPHA], cutmix[:ALPHA], none."""
    out = {}
    words = [w.strip() for w in spec.replace(",", "+").split("+") if w.strip()]
    defaults = {"crop": 4, "rrc": 0.08, "flip": 0.5, "mixup": 0.2, "cutmix": 1.0}
    for word in words:
        name, _, arg = word.partition(":")
        if name == "none":
            if len(words) > 1:
                raise RecipeError("--augment: 'none' cannot be combined with other words")
            continue
        if name not in defaults:
            raise RecipeError(f"--augment: unknown word '{name}'; use none, crop[:PAD], rrc[:MINSCALE], flip[:P], mixup[:ALPHA], cutmix[:ALPHA], joined by '+'")
        try:
            v = float(arg) if arg else defaults[name]
        except ValueError:
            raise RecipeError(f"--augment: '{word}' needs a number, not '{arg}'")
        ok = {"crop": v >= 0 and v == int(v), "rrc": 0 < v <= 1, "flip": 0 <= v <= 1, "mixup": v > 0, "cutmix": v > 0}[name]
        if not ok or not math.isfinite(v):
            raise RecipeError(f"--augment: '{word}' has an out-of-range value")
        out[name] = int(v) if name == "crop" else v
    if "crop" in out and "rrc" in out:
        raise RecipeError("--augment: choose one of 'crop' and 'rrc'")
    return out


def _cos_anneal(start, end, pct):
    return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)


def lr_at(s, step, epochs, steps_per_epoch):
    """The rate at global step `step` (0-based): src/training/schedule.ts's lrAt, line for line."""
    per = s["schedulePer"]
    S = max(1, steps_per_epoch)
    E = epochs
    lr = s["lr"]
    t = step // S if per == "epoch" else step / S
    W = s["warmup"]
    if s["schedule"] == "onecycle":
        total = E if per == "epoch" else E * S
        st = step // S if per == "epoch" else step
        pct = W / E if W > 0 else 0.3
        initial = lr / 25
        low = initial / 1e4
        end1 = pct * total - 1
        end2 = total - 1
        if st <= end1:
            return _cos_anneal(initial, lr, st / end1 if end1 > 0 else 1)
        return _cos_anneal(lr, low, min(1, (st - end1) / (end2 - end1)) if end2 != end1 else 1)
    if t < W:
        f = s["warmupFactor"]
        return lr * (f + (1 - f) * t / W)
    if s["schedule"] == "constant":
        return lr
    if s["schedule"] == "cosine":
        span = E - W
        return lr if span <= 0 else _cos_anneal(lr, 0.0, min(t - W, span) / span)
    if s["schedule"] == "step":
        return lr * s["lrGamma"] ** math.floor(t / s["lrStepSize"])
    return lr * s["lrGamma"] ** sum(1 for m in s["milestones"] if m <= t)  # multistep


def decays(s, param):
    """Whether weight decay applies: not on biases and norms (rank <= 1) unless decayAll (timm's groups)."""
    return s["weightDecay"] > 0 and (s["decayAll"] or param.ndim > 1)


def make_optimizer(s, model):
    named = list(model.named_parameters())
    groups = [
        {"params": [p for _, p in named if decays(s, p)], "weight_decay": s["weightDecay"]},
        {"params": [p for _, p in named if not decays(s, p)], "weight_decay": 0.0},
    ]
    if s["optimizer"] == "sgd":
        return torch.optim.SGD(groups, lr=s["lr"], momentum=s["momentum"], nesterov=s["nesterov"])
    if s["optimizer"] == "adam":
        return torch.optim.Adam(groups, lr=s["lr"])
    return torch.optim.AdamW(groups, lr=s["lr"])


class WeightEma:
    """timm's ModelEmaV2: ema = d * ema + (1 - d) * w after every step, buffers included (integer
    buffers copied). On the model's device; no host sync."""

    def __init__(self, model, decay, state=None, updates=0):
        self.decay = decay
        self.updates = updates
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if state is not None:
            for k, v in state.items():
                self.state[k].copy_(v)

    @torch.no_grad()
    def update(self, model):
        for k, v in model.state_dict().items():
            e = self.state[k]
            if e.is_floating_point():
                e.mul_(self.decay).add_(v.detach(), alpha=1 - self.decay)
            else:
                e.copy_(v)
        self.updates += 1


def _check_tensors(what, got, want):
    if not isinstance(got, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in got.items()):
        return f"{what} is not a mapping of names to tensors"
    if set(got) != set(want):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        return f"{what} does not fit the model (missing {missing[:3]}, unexpected {extra[:3]})"
    for k, v in want.items():
        if got[k].shape != v.shape or got[k].dtype != v.dtype:
            return f"{what}: {k} is {tuple(got[k].shape)} {got[k].dtype}, the model's {tuple(v.shape)} {v.dtype}"
    return None


CHECKPOINT_FORMAT = "skipgraph-torch-checkpoint/2"


def checkpoint_state(meta, model_state, optimizer_state, ema_state=None):
    """What checkpoint.pt holds: tensors, and everything else as one JSON string, so that it loads
    with torch.load(weights_only=True) (torch 1.13's safe unpickler has no floats) and nothing in
    it is ever unpickled as code. `meta`: epoch, name, history, settings, ... (JSON-safe)."""
    groups = optimizer_state["param_groups"]
    return {
        "format": CHECKPOINT_FORMAT,
        "meta": json.dumps({**meta, "paramGroups": groups}, allow_nan=False),
        "model": model_state,
        "optimizer": {int(k): dict(v) for k, v in optimizer_state["state"].items()},
        **({"ema": ema_state} if ema_state is not None else {}),
    }


def load_checkpoint(path, name, model):
    """OUT/checkpoint.pt loaded without unpickling code (weights_only=True), then checked before
    use: its format, its JSON part (epoch, name, history), and the model's names, shapes and dtypes.
    Returns {epoch, history, model, optimizer (a state_dict), ema, emaUpdates, ...}; raises
    RecipeError naming what is wrong."""
    try:
        with open_regular(path) as f:  # never a FIFO or device (it would block or stream forever)
            ck = torch.load(f, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError for anything but tensors and plain data; OSError; zip errors
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        first = first.split("WeightsUnpickler error:")[-1].strip()[:160]
        raise RecipeError(f"{path} is not a checkpoint skipgraph can load safely ({type(e).__name__}: {first})")
    bad = lambda why: RecipeError(f"{path} is not a skipgraph checkpoint: {why}")
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT or not isinstance(ck.get("meta"), str):
        raise bad(f"no format {CHECKPOINT_FORMAT!r} (written by another version or another program)")
    try:
        meta = json.loads(ck["meta"])
    except ValueError:
        raise bad("its JSON part does not parse")
    if not isinstance(meta, dict):
        raise bad("its JSON part is not an object")
    if meta.get("name") != name:
        raise RecipeError(f"the checkpoint {path} is of {meta.get('name')!r}, not {name!r}")
    epoch = meta.get("epoch")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise bad(f"its epoch is {epoch!r}")
    problem = _check_tensors("its model", ck.get("model"), model.state_dict())
    if problem is None and "ema" in ck:
        problem = _check_tensors("its EMA", ck["ema"], model.state_dict())
    if problem:
        raise bad(problem)
    opt, groups = ck.get("optimizer"), meta.get("paramGroups")
    if not isinstance(opt, dict) or not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise bad("its optimizer state is not torch.optim's")
    for k, v in opt.items():
        if not isinstance(k, int) or not isinstance(v, dict) or not all(isinstance(x, torch.Tensor) or x is None for x in v.values()):
            raise bad("its optimizer state holds something other than tensors")
    h = meta.get("history")
    if not isinstance(h, list) or len(h) != epoch or not all(isinstance(r, dict) and isinstance(r.get("epoch"), int) for r in h):
        raise bad("its history does not list one record per epoch")
    return {**meta, "model": ck["model"], "ema": ck.get("ema"), "optimizer": {"state": opt, "param_groups": groups}}
