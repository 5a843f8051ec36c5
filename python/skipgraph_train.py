#!/usr/bin/env python3
"""skipgraph's PyTorch trainer: trains a module that `skipgraph export --target torch` emitted.

    python3 skipgraph_train.py --model model.py --data data.safetensors --out runs/x [--nproc N]

Used by `skipgraph train FILE --engine torch`, and usable alone (on a machine without Node: carry
the folder `skipgraph train --engine torch --prepare` writes). It imports only torch and the
standard library.

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

With --events, rank 0 prints machine-readable lines `@skipgraph {json}` on stdout (what the
skipgraph CLI reads to draw the same progress bar and epoch lines as its TF.js engine); without
it, plain epoch lines.
"""
import argparse
import importlib.util
import json
import math
import os
import socket
import struct
import sys
import time
import warnings

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

# DDP's reducer warns about the weight of a 1-channel convolution (its strides are ambiguous); harmless
warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")

EVENT_PREFIX = "@skipgraph "
CHECKPOINT = "checkpoint.pt"
FINAL = "model.pt"
HISTORY = "history.json"


class UsageError(Exception):
    """A mistake in what was asked: printed as one line, exit 1, no stack trace."""


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train a skipgraph-emitted PyTorch module.")
    p.add_argument("--model", required=True, help="the emitted module file (build_model, SKIPGRAPH)")
    p.add_argument("--data", required=True, help="the data file skipgraph wrote (safetensors: train_x, train_y, test_x, test_y)")
    p.add_argument("--out", required=True, help="folder for checkpoint.pt, model.pt and history.json")
    p.add_argument("--epochs", type=int, default=3, help="total epochs (a resumed run continues up to this many)")
    p.add_argument("--batch", type=int, default=64, help="global batch, split evenly over the processes")
    p.add_argument("--accumulate", type=int, default=1, help="micro-batches per step in each process (gradient accumulation)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate (the peak of the cosine schedule)")
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], default="sgd")
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (PyTorch's form)")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (sgd)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 (sgd, adam) or decoupled (adamw); not on biases and batch-norm parameters unless --decay-all")
    p.add_argument("--decay-all", action="store_true", help="decay every parameter, rank <= 1 included")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--clip-grad", type=float, default=0.0, help="clip the global gradient norm to this (0: off)")
    p.add_argument("--schedule", choices=["cosine", "constant"], default="cosine", help="cosine: to 0 over all steps, per step")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--nproc", type=int, default=1, help="processes on this machine (ignored under torchrun)")
    p.add_argument("--launcher", choices=["auto", "torchrun", "spawn"], default="auto", help="how to start --nproc > 1 processes")
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (default: the cores / processes)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm across processes (CUDA only)")
    p.add_argument("--no-amp", dest="amp", action="store_false", help="no bf16 autocast on CUDA")
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false", help="keep NCHW-contiguous memory on CUDA")
    p.add_argument("--zero-init-residual", action="store_true", help="build_model(zero_init_residual=True)")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="train in data order")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (tests, smoke runs)")
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--events", action="store_true", help="machine-readable @skipgraph lines on stdout (for the CLI)")
    a = p.parse_args(argv)
    for name in ("epochs", "batch", "accumulate", "nproc", "eval_batch"):
        if getattr(a, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive whole number, not {getattr(a, name)}")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        raise UsageError(f"--lr must be a positive number, not {a.lr}")
    return a


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


# ---------------------------------------------------------------- data


_DTYPES = {"F32": torch.float32, "U8": torch.uint8, "I64": torch.int64, "I32": torch.int32}


def read_data(path):
    """The safetensors file skipgraph writes: tensors train_x, train_y, test_x, test_y (NHWC pixels,
    uint8 or float32; uint8 labels) and metadata "info" (JSON: name, mean, std, scale, classes)."""
    try:
        with open(path, "rb") as f:
            raw = bytearray(f.read())
    except OSError as e:
        raise UsageError(f"cannot read the data file {path}: {e.strerror}")
    if len(raw) < 8:
        raise UsageError(f"{path} is not a skipgraph data file (too short)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise UsageError(f"{path} is not a skipgraph data file (header length {n})")
    header = json.loads(raw[8 : 8 + n].decode("utf8"))
    meta = header.pop("__metadata__", {})
    data = memoryview(raw)[8 + n :]
    out = {}
    for name, t in header.items():
        dtype = _DTYPES[t["dtype"]]
        b, e = t["data_offsets"]
        numel = math.prod(t["shape"])
        if numel == 0:
            out[name] = torch.zeros(t["shape"], dtype=dtype)
            continue
        out[name] = torch.frombuffer(data[b:e], dtype=dtype).reshape(t["shape"]).clone()
    for key in ("train_x", "train_y", "test_x", "test_y"):
        if key not in out:
            raise UsageError(f"{path} has no tensor {key!r}")
    info = json.loads(meta.get("info", "{}"))
    return out, info


class ImageSet:
    """NHWC pixels in memory, normalised per batch into NCHW float32 (as the TF.js engine does)."""

    def __init__(self, x, y, info):
        self.x, self.y = x, y.long()
        c = x.shape[3]
        scale = float(info.get("scale", 1.0))
        std = torch.tensor(info.get("std", [1.0] * c), dtype=torch.float32)
        mean = torch.tensor(info.get("mean", [0.0] * c), dtype=torch.float32)
        self.mult = (scale / std).view(1, c, 1, 1)
        self.shift = (mean / std).view(1, c, 1, 1)

    def __len__(self):
        return self.y.shape[0]

    def batch(self, idx, device, channels_last):
        x = self.x[idx].to(device, non_blocking=True).permute(0, 3, 1, 2).float()
        x = x * self.mult.to(device) - self.shift.to(device)
        x = x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        return x, self.y[idx].to(device, non_blocking=True)


class IndexSet(torch.utils.data.Dataset):
    """What the DistributedSampler samples: the indices themselves."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


# ---------------------------------------------------------------- model


def load_module(path):
    if not os.path.isfile(path):
        raise UsageError(f"model file not found: {path}")
    spec = importlib.util.spec_from_file_location("skipgraph_model", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    if not callable(getattr(m, "build_model", None)) or not isinstance(getattr(m, "SKIPGRAPH", None), dict):
        raise UsageError(f"{path} is not a skipgraph-emitted module (it needs build_model() and SKIPGRAPH)")
    return m


def lr_at(args, step, total):
    if args.schedule == "constant" or total <= 0:
        return args.lr
    return 0.5 * args.lr * (1 + math.cos(math.pi * min(step, total) / total))


def make_optimizer(args, model):
    # As the TF.js engine (timm's param_groups_weight_decay): no decay on rank <= 1 unless --decay-all.
    decay = [p for p in model.parameters() if args.decay_all or p.ndim > 1]
    rest = [p for p in model.parameters() if not (args.decay_all or p.ndim > 1)]
    params = [{"params": decay, "weight_decay": args.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    if args.optimizer == "sgd":
        return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov)
    if args.optimizer == "adam":
        return torch.optim.Adam(params, lr=args.lr)
    return torch.optim.AdamW(params, lr=args.lr)


def save_atomic(obj, path):
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save(obj, tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------- training


def worker(args):
    rank = int(os.environ.get("RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    launcher = os.environ.get("SKIPGRAPH_LAUNCHER", "torchrun" if "TORCHELASTIC_RUN_ID" in os.environ else "none")
    is_main = rank == 0

    def event(kind, **fields):
        if not is_main:
            return
        if args.events:
            print(EVENT_PREFIX + json.dumps({"event": kind, **fields}), flush=True)
        elif kind == "log":
            print(fields["line"], flush=True)
        elif kind == "epoch":
            print(epoch_line(fields, args.epochs), flush=True)

    device_kind = args.device
    if device_kind == "auto":
        device_kind = "cuda" if torch.cuda.is_available() else "cpu"
    if device_kind == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: this torch sees no CUDA device (torch.cuda.is_available() is False)")
    if args.sync_bn and device_kind != "cuda":
        raise UsageError("--sync-bn needs CUDA (SyncBatchNorm runs on GPUs only); leave it off on the CPU")
    if args.batch % world != 0:
        raise UsageError(f"--batch {args.batch} does not split evenly over {world} processes")
    per_rank = args.batch // world
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
        return train(args, rank, world, device, launcher, event)
    finally:
        if world > 1:
            dist.destroy_process_group()


def epoch_line(r, epochs):
    return (
        f"epoch {r['epoch']}/{epochs}: loss {r['loss']:.4f} acc {100 * r['acc']:.2f}% | "
        f"held-out loss {r['valLoss']:.4f} acc {100 * r['valAcc']:.2f}% top-5 {100 * r['valTop5']:.2f}% | "
        f"{r['seconds']:.1f} s, {r['imagesPerSecond']:.0f} img/s"
    )


def all_sum(values, device, world):
    t = torch.tensor(values, dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(t)
    return t.tolist()


def evaluate(model, data, rank, world, device, args, cuda, amp):
    if world > 1:  # every process evaluates with rank 0's batch-norm statistics (the ones saved)
        for b in model.buffers():
            dist.broadcast(b, 0)
    model.eval()
    idx = torch.arange(rank, len(data), world)  # every held-out image once, over all processes
    loss = correct = top5 = 0.0
    with torch.no_grad():
        for s in range(0, len(idx), args.eval_batch):
            x, y = data.batch(idx[s : s + args.eval_batch], device, cuda and args.channels_last)
            with autocast(amp):
                logits = model(x)
            loss += F.cross_entropy(logits.float(), y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            top5 += (logits.topk(min(5, logits.shape[1]), 1).indices == y[:, None]).any(1).sum().item()
    loss, correct, top5, n = all_sum([loss, correct, top5, float(len(idx))], device, world)
    model.train()
    return loss / max(n, 1), correct / max(n, 1), top5 / max(n, 1)


def train(args, rank, world, device, launcher, event):
    cuda = device.type == "cuda"
    amp = cuda and args.amp
    is_main = rank == 0
    torch.manual_seed(args.seed)
    module = load_module(args.model)
    meta = module.SKIPGRAPH
    tensors, info = read_data(args.data)
    train_set = ImageSet(tensors["train_x"], tensors["train_y"], info)
    test_set = ImageSet(tensors["test_x"], tensors["test_y"], info)
    c, h, w = meta["input"]
    if list(train_set.x.shape[1:]) != [h, w, c] or int(info.get("classes", meta["classes"])) != meta["classes"]:
        hh, ww, cc = train_set.x.shape[1:]
        raise UsageError(
            f"{meta['name']} takes {h}x{w}x{c} images and {meta['classes']} classes, but the data has {hh}x{ww}x{cc} and {info.get('classes')}"
        )

    model = module.build_model(zero_init_residual=True) if args.zero_init_residual else module.build_model()
    os.makedirs(args.out, exist_ok=True)
    ck_path = os.path.join(args.out, CHECKPOINT)
    start_epoch, history, ck = 0, [], None
    if os.path.exists(ck_path) and not args.resume:
        raise UsageError(f"{args.out} already holds a training run ({CHECKPOINT}); add --resume to continue it, or choose another --out")
    if args.resume:
        if not os.path.exists(ck_path):
            raise UsageError(f"--resume: no {CHECKPOINT} in {args.out}")
        ck = torch.load(ck_path, map_location="cpu")
        if ck.get("name") != meta["name"]:
            raise UsageError(f"the checkpoint in {args.out} is of {ck.get('name')!r}, not {meta['name']!r}")
        try:
            model.load_state_dict(ck["model"], strict=True)
        except RuntimeError as e:
            raise UsageError(f"the checkpoint in {args.out} does not fit {args.model}: {str(e).splitlines()[0]}")
        start_epoch, history = int(ck["epoch"]), list(ck["history"])

    # Counted as the compiler counts (and the TF.js engine prints): parameters and batch-norm statistics.
    params = sum(p.numel() for p in model.parameters())  # trainable, as torchvision and the TF.js engine count
    if args.sync_bn and world > 1:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    if cuda and args.channels_last:
        model.to(memory_format=torch.channels_last)
    net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if cuda else None) if world > 1 else model
    optimizer = make_optimizer(args, model)
    if ck is not None and ck.get("optimizer"):
        optimizer.load_state_dict(ck["optimizer"])

    sampler = torch.utils.data.DistributedSampler(IndexSet(len(train_set)), num_replicas=world, rank=rank, shuffle=args.shuffle, seed=args.seed, drop_last=False)
    per_rank = args.batch // world
    micro = per_rank // args.accumulate
    batches = math.ceil(len(sampler) / per_rank)
    total_steps = args.epochs * batches
    step = start_epoch * batches
    event(
        "start",
        name=meta["name"],
        params=params,
        data=info.get("name", "data"),
        train=len(train_set),
        test=len(test_set),
        device=device.type,
        deviceName=torch.cuda.get_device_name(device) if cuda else "cpu",
        world=world,
        launcher=launcher,
        backend=dist.get_backend() if world > 1 else "none",
        torch=torch.__version__,
        amp="bf16" if amp else "off",
        channelsLast=bool(cuda and args.channels_last),
        threads=torch.get_num_threads(),
    )
    if ck is not None:
        event("resume", epoch=start_epoch, path=ck_path)
    if start_epoch >= args.epochs:
        event("log", line=f"{args.out} already has {start_epoch} of {args.epochs} epochs; nothing to train")

    stopped = False
    net.train()
    for epoch in range(start_epoch, args.epochs):
        if stopped:
            break
        sampler.set_epoch(epoch)
        order = torch.tensor(list(sampler), dtype=torch.long)
        event("epochStart", epoch=epoch + 1, epochs=args.epochs, batches=batches)
        t0 = time.perf_counter()
        last_event = 0.0
        seen = loss_sum = correct = 0.0
        for j in range(batches):
            idx = order[j * per_rank : (j + 1) * per_rank]
            lr = lr_at(args, step, total_steps)
            for g in optimizer.param_groups:
                g["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            parts = [idx[k :: args.accumulate] for k in range(args.accumulate)]  # the same micro-batches as accumulate x processes
            for k, part in enumerate(parts):
                x, y = train_set.batch(part, device, cuda and args.channels_last)
                sync = k == len(parts) - 1 or world == 1
                ctx = net.no_sync() if not sync else _null()
                with ctx:
                    with autocast(amp):
                        logits = net(x)
                        loss = F.cross_entropy(logits.float(), y, label_smoothing=args.label_smoothing)
                    (loss * (len(part) / len(idx))).backward()
                loss_sum += loss.item() * len(part)
                correct += (logits.argmax(1) == y).sum().item()
                seen += len(part)
            if args.clip_grad > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
            optimizer.step()
            step += 1
            now = time.perf_counter()
            if now - last_event > 0.25 or j == batches - 1:
                last_event = now
                event("batch", done=j + 1, loss=loss_sum / seen, acc=correct / seen, imagesPerSecond=seen * world / max(now - t0, 1e-9))
            if args.max_steps and step >= args.max_steps:
                stopped = True
                break
        seconds = time.perf_counter() - t0
        loss_all, correct_all, seen_all = all_sum([loss_sum, correct, seen], device, world)
        val_loss, val_acc, val_top5 = evaluate(model, test_set, rank, world, device, args, cuda, amp)
        record = {
            "epoch": epoch + 1,
            "loss": loss_all / seen_all,
            "acc": correct_all / seen_all,
            "valLoss": val_loss,
            "valAcc": val_acc,
            "valTop5": val_top5,
            "seconds": seconds,
            "imagesPerSecond": seen_all / seconds,
        }
        event("epochEnd")
        if stopped and j < batches - 1:
            record["steps"] = j + 1  # a partial epoch (--max-steps): not checkpointed as done
        history.append(record)
        event("epoch", **record)
        if is_main and "steps" not in record:
            state = {"epoch": epoch + 1, "name": meta["name"], "model": model.state_dict(), "optimizer": optimizer.state_dict(), "history": history, "args": vars(args)}
            save_atomic(state, ck_path)

    final = os.path.join(args.out, FINAL)
    if is_main:
        save_atomic(model.state_dict(), final)  # `model`, not the DDP wrapper: no `module.` prefix
        with open(os.path.join(args.out, HISTORY), "w") as f:
            json.dump({"name": meta["name"], "source": meta.get("source"), "epochs": args.epochs, "history": history, "args": vars(args)}, f, indent=2)
    last = history[-1] if history else None
    event(
        "done",
        valAcc=last["valAcc"] if last else None,
        valLoss=last["valLoss"] if last else None,
        epochs=len(history),
        startEpoch=start_epoch,
        steps=step,
        history=history,
        model=final,
        checkpoint=ck_path,
        world=world,
        device=device.type,
        launcher=launcher,
    )
    return 0


def autocast(amp):
    # torch 1.13 checks bf16 support even with enabled=False, which fails on a CPU-only build
    return torch.autocast("cuda", dtype=torch.bfloat16) if amp else _null()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def run_guarded(fn):
    try:
        code = fn()
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(code or 0)


if __name__ == "__main__":
    run_guarded(lambda: main(sys.argv[1:]))
