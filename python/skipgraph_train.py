#!/usr/bin/env python3
"""skipgraph's PyTorch trainer: trains a module that `skipgraph export --target torch` emitted.

    python3 skipgraph_train.py --model model.py --data data.safetensors --out runs/x [--nproc N]

Used by `skipgraph train FILE --engine torch`, and usable alone (on a machine without Node: carry
the folder `skipgraph train --engine torch --prepare` writes). It imports only torch, torchvision
and the standard library, and its four sibling modules (skipgraph_train_{check,data,recipe,loop}.py)
and the recipe file recipes.json (beside it, or the package's src/training/recipes.json).

- One process: trains in this process.
- N processes on one machine: `python -m torch.distributed.run --standalone` where torchrun works,
  else torch.multiprocessing.spawn with an env rendezvous on 127.0.0.1 (Debian's torch 1.13 on
  Python 3.11: its elastic agent fails at start, see torchrun_works()).
- Several machines: start this script under torchrun yourself (it then reads RANK, WORLD_SIZE,
  LOCAL_RANK and MASTER_ADDR/PORT from torchrun's environment).

DDP with gloo on CPU and nccl on CUDA; a DistributedSampler with set_epoch; --batch is the global
batch (as in the TF.js engine), split evenly over the processes; rank 0 writes OUT/checkpoint.pt
(without DDP's `module.` prefix) after every epoch, and --resume continues from it. On CUDA:
bf16 autocast and channels_last (both on by default), optional SyncBN.

Entry points besides training (for tools and fuzzers): `--check-data FILE` checks a data file
(dtypes, offsets, shapes, labels against the classes) and prints one summary line, or one error
line and exit 1 (skipgraph_train_check.py, which a fuzzer may also import: its header checks need no
torch). Any failure is one `error: ...` line on stderr and exit 1; SKIPGRAPH_DEBUG=1
adds the Python traceback.

With --events, rank 0 prints machine-readable lines `@skipgraph {json}` on stdout (what the
skipgraph CLI reads to draw the same progress bar and epoch lines as its TF.js engine); without
it, plain epoch lines.
"""
import argparse
import math
import os
import socket
import sys
import traceback
import warnings

# DDP's reducer warns about the weight of a 1-channel convolution (its strides are ambiguous); harmless
warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")


class UsageError(Exception):
    """A mistake in what was asked: printed as one line, exit 1, no stack trace."""


def _milestones(v):
    try:
        out = [float(p) for p in v.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"needs positive epochs separated by commas, not {v!r}")
    if not out or any(not (m > 0) for m in out):
        raise argparse.ArgumentTypeError(f"needs positive epochs separated by commas, not {v!r}")
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 1, as every other refusal
        raise UsageError(message)


def parse_args(argv):
    p = _Parser(description="Train a skipgraph-emitted PyTorch module.")
    p.add_argument("--model", help="the emitted module file (build_model, SKIPGRAPH)")
    p.add_argument("--data", help="the data file skipgraph wrote (safetensors: train_x, train_y, test_x, test_y), or imagefolder:DIR (DIR/train/<class>/*.png|jpg and DIR/val/...)")
    p.add_argument("--out", help="folder for checkpoint.pt, model.pt and history.json")
    p.add_argument("--check-data", metavar="FILE", help="only check a data file and print one line about it")
    p.add_argument("--epochs", type=int, default=3, help="total epochs (a resumed run continues up to this many)")
    p.add_argument("--recipe", help="a recipe of recipes.json (cifar-resnet, imagenet-resnet); flags given override it")
    p.add_argument("--recipes", help="the recipe file (default: recipes.json beside this script, else the package's)")
    p.add_argument("--batch", type=int, help="global batch, split evenly over the processes (default 64)")
    p.add_argument("--accumulate", type=int, default=1, help="micro-batches per step in each process (gradient accumulation)")
    p.add_argument("--lr", type=float, help="peak learning rate (default 0.1)")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"])
    p.add_argument("--momentum", type=float, help="SGD momentum (PyTorch's form; default 0.9)")
    p.add_argument("--nesterov", action="store_true", default=None, help="Nesterov momentum (sgd)")
    p.add_argument("--weight-decay", type=float, help="L2 (sgd, adam) or decoupled (adamw); not on biases and norms unless --decay-all")
    p.add_argument("--decay-all", action="store_true", default=None, help="decay every parameter, rank <= 1 included")
    p.add_argument("--label-smoothing", type=float)
    p.add_argument("--clip-grad", type=float, help="clip the global gradient norm to this")
    p.add_argument("--schedule", choices=["cosine", "constant", "step", "multistep", "onecycle"], help="default cosine")
    p.add_argument("--warmup", type=float, help="linear warm-up epochs from 0.01 of --lr")
    p.add_argument("--schedule-per", choices=["step", "epoch"], help="the rate changes every step (default) or every epoch")
    p.add_argument("--lr-step-size", type=float, help="step schedule: every this many epochs (default 30)")
    p.add_argument("--lr-gamma", type=float, help="step and multistep: the factor (default 0.1)")
    p.add_argument("--milestones", type=_milestones, help="multistep: epochs, e.g. 30,60,80")
    p.add_argument("--augment", help="crop[:PAD], rrc[:MINSCALE], flip[:P], mixup[:ALPHA], cutmix[:ALPHA] joined by +, or none")
    p.add_argument("--ema", type=float, help="keep an EMA of the weights with this decay (e.g. 0.999); saved as OUT/ema.pt")
    p.add_argument("--drop-last", action="store_true", default=None, help="drop the last partial batch")
    p.add_argument("--train-limit", type=int, help="train on the first n training images only")
    p.add_argument("--test-limit", type=int, help="evaluate on the first n held-out images only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--nproc", type=int, default=1, help="processes on this machine (ignored under torchrun)")
    p.add_argument("--launcher", choices=["auto", "torchrun", "spawn"], default="auto", help="how to start --nproc > 1 processes")
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (default: the cores / processes)")
    p.add_argument("--workers", type=int, default=-1, help="DataLoader workers per process (default: by data kind and cores)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm across processes (CUDA only)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (torch 2.x)")
    p.add_argument("--no-amp", dest="amp", action="store_false", help="no bf16 autocast on CUDA")
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false", help="keep NCHW-contiguous memory on CUDA")
    p.add_argument("--zero-init-residual", action="store_true", help="build_model(zero_init_residual=True)")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="train in data order")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (tests, smoke runs)")
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--events", action="store_true", help="machine-readable @skipgraph lines on stdout (for the CLI)")
    p.add_argument("--events-every", type=float, default=0.5, help="seconds between progress events (each one waits for the device)")
    a = p.parse_args(argv)
    if a.check_data:
        return a
    for name in ("model", "data", "out"):
        if not getattr(a, name):
            raise UsageError(f"--{name} is required")
    for name in ("epochs", "batch", "accumulate", "nproc", "eval_batch", "train_limit", "test_limit"):
        v = getattr(a, name)
        if v is not None and v < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive whole number, not {v}")
    if a.lr is not None and not (a.lr > 0 and math.isfinite(a.lr)):
        raise UsageError(f"--lr must be a positive number, not {a.lr}")
    if a.compile:
        import torch

        if not hasattr(torch, "compile"):
            raise UsageError(f"--compile needs torch 2.0 or later (torch.compile); this is torch {torch.__version__}. Leave --compile off")
    return a


def settings_of(args):
    """The recipe settings: flags given over --recipe over the defaults (skipgraph_train_recipe.resolve)."""
    from skipgraph_train_recipe import resolve

    given = {
        "recipe": args.recipe, "batch": args.batch, "lr": args.lr, "optimizer": args.optimizer, "momentum": args.momentum,
        "nesterov": args.nesterov, "weightDecay": args.weight_decay, "decayAll": args.decay_all, "clipGrad": args.clip_grad,
        "schedule": args.schedule, "warmup": args.warmup, "schedulePer": args.schedule_per, "lrStepSize": args.lr_step_size,
        "lrGamma": args.lr_gamma, "milestones": args.milestones, "labelSmoothing": args.label_smoothing, "augment": args.augment,
        "ema": args.ema, "dropLast": args.drop_last,
    }
    return resolve(given, args.epochs, args.recipes)


# ---------------------------------------------------------------- launching


def torchrun_works():
    """Whether `python -m torch.distributed.run` can start here.

    torch 1.13 predates Python 3.11; there Std.from_str("0") (the default --redirects) returns None
    and the elastic agent fails in to_map with an AttributeError. This is that exact check.
    """
    try:
        from torch.distributed.elastic.multiprocessing.api import Std

        return Std.from_str("0") is not None
    except Exception:
        return False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned(local_rank, argv, world):
    os.environ.update(RANK=str(local_rank), LOCAL_RANK=str(local_rank), WORLD_SIZE=str(world), LOCAL_WORLD_SIZE=str(world))
    run_guarded(lambda: worker(parse_args(argv)))


def main(argv):
    args = parse_args(argv)
    if args.check_data:
        from skipgraph_train_check import check_data  # no torch: fast, for fuzzers too

        print(check_data(args.check_data), flush=True)
        return 0
    settings_of(args)  # refuse bad settings before starting processes
    if "WORLD_SIZE" in os.environ and "RANK" in os.environ:  # under torchrun (or spawned)
        return worker(args)
    if args.nproc == 1:
        return worker(args)
    launcher = args.launcher
    if launcher == "auto":
        launcher = "torchrun" if torchrun_works() else "spawn"
    os.environ["SKIPGRAPH_LAUNCHER"] = launcher
    if launcher == "torchrun":
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.nproc}", os.path.abspath(__file__), *argv]
        sys.stdout.flush()
        os.execv(sys.executable, cmd)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port()))
    import torch.multiprocessing as mp

    try:
        mp.spawn(_spawned, args=(argv, args.nproc), nprocs=args.nproc, join=True)
    except mp.ProcessExitedException as e:  # the process printed its own error
        return e.exit_code if e.exit_code and e.exit_code > 0 else 1
    return 0


# ---------------------------------------------------------------- one process


def load_module(path):
    import importlib.util

    if not os.path.isfile(path):
        raise UsageError(f"model file not found: {path}")
    spec = importlib.util.spec_from_file_location("skipgraph_model", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    if not callable(getattr(m, "build_model", None)) or not isinstance(getattr(m, "SKIPGRAPH", None), dict):
        raise UsageError(f"{path} is not a skipgraph-emitted module (it needs build_model() and SKIPGRAPH)")
    return m


def worker(args):
    import torch
    import torch.distributed as dist
    from skipgraph_train_loop import Ctx, Events, run

    rank = int(os.environ.get("RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    launcher = os.environ.get("SKIPGRAPH_LAUNCHER", "torchrun" if "TORCHELASTIC_RUN_ID" in os.environ else "none")
    s = settings_of(args)
    device_kind = args.device
    if device_kind == "auto":
        device_kind = "cuda" if torch.cuda.is_available() else "cpu"
    if device_kind == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: this torch sees no CUDA device (torch.cuda.is_available() is False)")
    if args.sync_bn and device_kind != "cuda":
        raise UsageError("--sync-bn needs CUDA (SyncBatchNorm runs on GPUs only); leave it off on the CPU")
    if s["batch"] % world != 0:
        raise UsageError(f"--batch {s['batch']} does not split evenly over {world} processes")
    per_rank = s["batch"] // world
    if per_rank % args.accumulate != 0:
        raise UsageError(f"each process's batch ({per_rank}) does not split into --accumulate {args.accumulate} micro-batches")
    if device_kind == "cuda":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
        torch.backends.cudnn.benchmark = True
    else:
        device = torch.device("cpu")
        torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    if world > 1:
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo", init_method="env://", rank=rank, world_size=world)
    try:
        ctx = Ctx(args, s, rank, world, device, launcher)
        return run(ctx, load_module(args.model), Events(rank == 0, args.events, args.epochs))
    finally:
        if world > 1:
            dist.destroy_process_group()


def run_guarded(fn):
    """Every failure as one `error: ...` line on stderr and exit 1 (SKIPGRAPH_DEBUG=1: the traceback too)."""
    known = (UsageError,)
    try:
        from skipgraph_train_check import DataError, RecipeError, StopTraining

        known = (UsageError, DataError, RecipeError, StopTraining)
    except ImportError as e:  # a missing sibling module: said below as any other failure
        missing = e
    else:
        missing = None
    try:
        if missing is not None:
            raise missing
        code = fn()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr, flush=True)
        sys.exit(130)
    except BaseException as e:  # noqa: BLE001 -- the one place every error becomes a line
        if os.environ.get("SKIPGRAPH_DEBUG") == "1":
            traceback.print_exc()
        if isinstance(e, known):
            msg = str(e)
        else:
            first = (str(e).strip().splitlines() or [""])[0][:300]
            msg = f"the PyTorch trainer failed: {type(e).__name__}{': ' + first if first else ''} (SKIPGRAPH_DEBUG=1 shows the traceback)"
        print(f"error: {' '.join(msg.split())}", file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(code or 0)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    run_guarded(lambda: main(sys.argv[1:]))
