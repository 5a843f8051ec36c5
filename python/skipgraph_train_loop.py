"""The training loop of skipgraph's PyTorch trainer: one process's run (setup, epochs, held-out
evaluation, checkpoints) and the events it reports. Loss and accuracy add up on the device; the
host waits for them only when a progress event is due and at the end of an epoch."""
import json
import math
import os
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

from skipgraph_train_check import StopTraining
from skipgraph_train_data import Data, MicroBatches, mix_batch, mix_rng
from skipgraph_train_recipe import WeightEma, checkpoint_state, load_checkpoint, lr_at, make_optimizer

EVENT_PREFIX = "@skipgraph "
CHECKPOINT = "checkpoint.pt"
FINAL = "model.pt"
EMA_FINAL = "ema.pt"
HISTORY = "history.json"



def json_safe(v):
    """Non-finite floats become null: the event protocol is always JSON (allow_nan=False)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    return v


def _fmt(v, spec, scale=1.0):
    return "n/a" if v is None or not math.isfinite(v) else format(v * scale, spec)


def epoch_line(r, epochs):
    """The epoch line when the script runs alone (the CLI prints src/training/format.ts's, the same text)."""
    ema = f"EMA acc {_fmt(r.get('emaValAcc'), '.2f', 100)}% | " if r.get("emaValAcc") is not None else ""
    return (
        f"epoch {r['epoch']}/{epochs}: loss {_fmt(r['loss'], '.4f')} acc {_fmt(r['acc'], '.2f', 100)}% | "
        f"held-out loss {_fmt(r['valLoss'], '.4f')} acc {_fmt(r['valAcc'], '.2f', 100)}% top-5 {_fmt(r['valTop5'], '.2f', 100)}% | "
        f"{ema}{r['seconds']:.1f} s, {r['imagesPerSecond']:.0f} img/s"
    )


class Events:
    """Rank 0's report: `@skipgraph {json}` lines with --events, else plain lines."""

    def __init__(self, on, enabled, epochs):
        self.on, self.enabled, self.epochs = on, enabled, epochs
        self.last_line = time.perf_counter()

    def __call__(self, kind, **fields):
        if not self.on:
            return
        if self.enabled:
            print(EVENT_PREFIX + json.dumps(json_safe({"event": kind, **fields}), allow_nan=False), flush=True)
        elif kind == "log":
            print(fields["line"], flush=True)
        elif kind == "epoch":
            print(epoch_line(fields, self.epochs), flush=True)
        elif kind == "batch" and time.perf_counter() - self.last_line > 30:  # alone: a line every 30 s
            self.last_line = time.perf_counter()
            print(f"step {fields['step']}/{fields['steps']}: loss {_fmt(fields['loss'], '.4f')}, lr {fields['lr']:.4g}, {fields['imagesPerSecond']:.0f} img/s", flush=True)


def all_sum(values, device, world):
    t = torch.stack([v.double().to(device) if torch.is_tensor(v) else torch.tensor(float(v), dtype=torch.float64, device=device) for v in values])
    if world > 1:
        dist.all_reduce(t)
    return t.tolist()


def autocast(amp):
    # torch 1.13 checks bf16 support even with enabled=False, which fails on a CPU-only build
    return torch.autocast("cuda", dtype=torch.bfloat16) if amp else _Null()


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def evaluate(model, data, rank, world, device, ctx):
    """Top-1, top-5 and the loss on every held-out image once, over all processes (sums on the device)."""
    if world > 1:  # every process evaluates with rank 0's batch-norm statistics (the ones saved)
        for b in model.buffers():
            dist.broadcast(b, 0)
    model.eval()
    n = len(data.test)
    mine = list(range(rank, n, world))
    batches = [mine[s : s + ctx.eval_batch] for s in range(0, len(mine), ctx.eval_batch)]
    zero = lambda: torch.zeros((), dtype=torch.float64, device=device)
    loss, correct, top5 = zero(), zero(), zero()
    with torch.no_grad():
        workers = min(ctx.workers, len(batches)) if data.name.startswith("imagefolder:") else 0  # memory: no decoding to spread
        for xb, yb in data.loader(data.test, batches, workers, ctx.cuda, ctx.seed):
            x, y = data.on_device(xb, yb, device, ctx.channels_last)
            with autocast(ctx.amp):
                logits = model(x)
            loss += F.cross_entropy(logits.float(), y, reduction="sum")
            correct += (logits.argmax(1) == y).sum()
            top5 += (logits.topk(min(5, logits.shape[1]), 1).indices == y[:, None]).any(1).sum()
    loss, correct, top5, count = all_sum([loss, correct, top5, len(mine)], device, world)
    model.train()
    count = max(count, 1)
    return loss / count, correct / count, top5 / count


class Ctx:
    """What one process knows about the run: settings, device, world."""

    def __init__(self, args, s, rank, world, device, launcher):
        self.args, self.s, self.rank, self.world, self.device, self.launcher = args, s, rank, world, device, launcher
        self.cuda = device.type == "cuda"
        self.amp = self.cuda and args.amp
        self.channels_last = self.cuda and args.channels_last
        self.eval_batch, self.seed, self.epochs = args.eval_batch, args.seed, args.epochs
        self.is_main = rank == 0
        self.per_rank = s["batch"] // world
        self.local_world = int(os.environ.get("LOCAL_WORLD_SIZE", world))
        self.workers = args.workers if args.workers >= 0 else None  # None: default_workers decides
        self.class_names = None


def default_workers(ctx, data):
    if ctx.workers is not None:
        return ctx.workers
    cpus = max(1, (os.cpu_count() or 1) // ctx.local_world)
    if data.name.startswith("imagefolder:"):
        return min(8, cpus)  # decoding PNG/JPEG: the loop would wait on it
    return min(2, cpus) if data.train.transform is not None and cpus > 1 else 0  # memory: only augmentation to spread


def setup(ctx, module):
    """The model (resumed or new), DDP wrapper, optimizer, EMA and data of this process."""
    args, s, meta = ctx.args, ctx.s, module.SKIPGRAPH
    data = Data(args.data, meta["input"], s["augment"], (args.train_limit, args.test_limit))
    ctx.class_names = data.class_names
    c, h, w = meta["input"]
    if data.shape != [h, w, c] or data.classes != meta["classes"]:
        hh, ww, cc = data.shape
        raise StopTraining(f"{meta['name']} takes {h}x{w}x{c} images and {meta['classes']} classes, but the data has {hh}x{ww}x{cc} and {data.classes}")
    ctx.workers = default_workers(ctx, data)
    model = module.build_model(zero_init_residual=True) if args.zero_init_residual else module.build_model()
    os.makedirs(args.out, exist_ok=True)
    ck_path = os.path.join(args.out, CHECKPOINT)
    ck = None
    if os.path.exists(ck_path) and not args.resume:
        raise StopTraining(f"{args.out} already holds a training run ({CHECKPOINT}); add --resume to continue it, or choose another --out")
    if args.resume:
        if not os.path.exists(ck_path):
            raise StopTraining(f"--resume: no {CHECKPOINT} in {args.out}")
        ck = load_checkpoint(ck_path, meta["name"], model)
        model.load_state_dict(ck["model"], strict=True)
    params = sum(p.numel() for p in model.parameters())  # trainable, as torchvision and the TF.js engine count
    if args.sync_bn and ctx.world > 1:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(ctx.device)
    if ctx.channels_last:
        model.to(memory_format=torch.channels_last)
    net = nn.parallel.DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.cuda else None) if ctx.world > 1 else model
    if args.compile:
        net = torch.compile(net)
    optimizer = make_optimizer(s, model)
    if ck is not None:
        try:
            optimizer.load_state_dict(ck["optimizer"])
        except (ValueError, KeyError, TypeError) as e:
            raise StopTraining(f"the optimizer state in {ck_path} does not fit this run ({e}); train into a new --out")
    ema = None
    if s["ema"] is not None:
        ema = WeightEma(model, s["ema"], state=ck.get("ema") if ck else None, updates=int(ck.get("emaUpdates", 0)) if ck else 0)
    return data, model, net, optimizer, ema, ck, ck_path, params


def train_epoch(ctx, data, net, model, optimizer, ema, loader, micro, state, event):
    """One epoch; returns (loss sum, correct, seen) as device tensors and a count, and whether --max-steps stopped it."""
    args, s, device = ctx.args, ctx.s, ctx.device
    batches = micro.batches
    total = ctx.epochs * batches
    mixing = s["augment"].get("mixup", 0) > 0 or s["augment"].get("cutmix", 0) > 0
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.float64, device=device)
    first_bad = torch.full((), -1, dtype=torch.int64, device=device)
    seen, t0, last_event = 0, time.perf_counter(), 0.0
    it = iter(loader)
    for j in range(batches):
        step = state["step"]
        lr = lr_at(s, step, ctx.epochs, batches)
        for g in optimizer.param_groups:
            g["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        parts = micro.parts(j)
        n_step = sum(parts)
        for k, size in enumerate(parts):
            xb, yb = next(it)
            x, y = data.on_device(xb, yb, device, ctx.channels_last)
            target = y
            if mixing:
                x, target, _ = mix_batch(state["rng"], x, F.one_hot(y, data.classes).float(), s["augment"])
            ctx_sync = net.no_sync() if (ctx.world > 1 and k < len(parts) - 1) else _Null()
            with ctx_sync:
                with autocast(ctx.amp):
                    logits = net(x)
                    loss = F.cross_entropy(logits.float(), target, label_smoothing=s["labelSmoothing"])
                (loss * (size / n_step)).backward()
            loss = loss.detach()
            first_bad.masked_fill_((first_bad < 0) & ~torch.isfinite(loss), step)  # no host sync
            loss_sum += loss.double() * size
            correct += (logits.argmax(1) == (target.argmax(1) if mixing else y)).sum()
            seen += size
        if s["clipGrad"]:
            torch.nn.utils.clip_grad_norm_(model.parameters(), s["clipGrad"])
        optimizer.step()
        if ema is not None:
            ema.update(model)
        state["step"] = step + 1
        now = time.perf_counter()
        if ctx.is_main and (now - last_event > args.events_every or j == batches - 1):
            last_event = now
            check_finite(first_bad, batches, lambda k: lr_at(s, k, ctx.epochs, batches))  # the host waits here, and only here
            event("batch", done=j + 1, batches=batches, step=step + 1, steps=total, loss=loss_sum.item() / seen, acc=correct.item() / seen, lr=lr, imagesPerSecond=seen * ctx.world / max(now - t0, 1e-9))
        if args.max_steps and state["step"] >= args.max_steps:
            return loss_sum, correct, seen, first_bad, j + 1 < batches, j + 1
    return loss_sum, correct, seen, first_bad, False, batches


def check_finite(first_bad, batches, lr_of):
    """Raises StopTraining when a step's loss was not finite (first_bad: that step, or -1)."""
    bad = int(first_bad.item())
    if bad >= 0:
        lr = lr_of(bad)
        raise StopTraining(
            f"the training loss became NaN or infinite at step {bad + 1} (epoch {bad // batches + 1}); the run stopped, "
            f"its last checkpoint is the last whole epoch. Try a lower --lr (this step's was {lr:.4g}), --clip-grad 1, "
            "a warm-up (--warmup 1), or --no-amp"
        )


def run(ctx, module, event):
    """The whole run of this process: returns 0."""
    args, s, meta = ctx.args, ctx.s, module.SKIPGRAPH
    torch.manual_seed(args.seed)
    data, model, net, optimizer, ema, ck, ck_path, params = setup(ctx, module)
    start_epoch, history = (int(ck["epoch"]), list(ck["history"])) if ck else (0, [])
    world, rank = ctx.world, ctx.rank
    sampler = torch.utils.data.DistributedSampler(range(len(data.train)), num_replicas=world, rank=rank, shuffle=args.shuffle, seed=args.seed, drop_last=False)
    micro = MicroBatches(sampler, ctx.per_rank, args.accumulate, s["dropLast"])
    if micro.batches == 0:
        raise StopTraining(f"--drop-last with --batch {s['batch']} leaves no batch of the {len(data.train)} training images")
    loader = data.loader(data.train, micro, ctx.workers, ctx.cuda, args.seed * 1000 + rank)
    state = {"step": start_epoch * micro.batches, "rng": mix_rng(args.seed + start_epoch, rank)}
    cuda = ctx.cuda
    event(
        "start", name=meta["name"], params=params, data=data.name, train=len(data.train), test=len(data.test), classes=data.class_names,
        device=ctx.device.type, deviceName=torch.cuda.get_device_name(ctx.device) if cuda else "cpu", world=world, launcher=ctx.launcher,
        backend=dist.get_backend() if world > 1 else "none", torch=torch.__version__, amp="bf16" if ctx.amp else "off",
        channelsLast=bool(ctx.channels_last), threads=torch.get_num_threads(), workers=ctx.workers, compiled=bool(args.compile), settings=s,
    )
    if ck is not None:
        event("resume", epoch=start_epoch, path=ck_path)
    if start_epoch >= args.epochs:
        event("log", line=f"{args.out} already has {start_epoch} of {args.epochs} epochs; nothing to train")
    ema_model = None
    if ema is not None:
        ema_model = module.build_model().to(ctx.device)
    net.train()
    stopped = False
    for epoch in range(start_epoch, args.epochs):
        if stopped:
            break
        sampler.set_epoch(epoch)
        event("epochStart", epoch=epoch + 1, epochs=args.epochs, batches=micro.batches)
        t0 = time.perf_counter()
        loss_sum, correct, seen, first_bad, stopped, steps = train_epoch(ctx, data, net, model, optimizer, ema, loader, micro, state, event)
        seconds = time.perf_counter() - t0
        loss_all, correct_all, seen_all, bad_any = all_sum([loss_sum, correct, seen, (first_bad >= 0).double()], ctx.device, world)
        if bad_any > 0:  # every process stops here together
            check_finite(first_bad if first_bad.item() >= 0 else torch.tensor(state["step"] - 1), micro.batches, lambda k: lr_at(s, k, ctx.epochs, micro.batches))
        val_loss, val_acc, val_top5 = evaluate(model, data, rank, world, ctx.device, ctx)
        record = {"epoch": epoch + 1, "loss": loss_all / seen_all, "acc": correct_all / seen_all, "valLoss": val_loss, "valAcc": val_acc, "valTop5": val_top5,
                  "lr": lr_at(s, epoch * micro.batches, ctx.epochs, micro.batches), "seconds": seconds, "imagesPerSecond": seen_all / seconds}
        if ema_model is not None:
            ema_model.load_state_dict(ema.state)
            record["emaValLoss"], record["emaValAcc"], _ = evaluate(ema_model, data, rank, world, ctx.device, ctx)
        event("epochEnd")
        if stopped:
            record["steps"] = steps  # a partial epoch (--max-steps): not checkpointed as done
        history.append(record)
        event("epoch", **record)
        if ctx.is_main and not stopped:
            info = {"epoch": epoch + 1, "name": meta["name"], "history": history, "args": vars(args), "settings": s, "emaUpdates": ema.updates if ema else 0}
            save_atomic(checkpoint_state(json_safe(info), model.state_dict(), optimizer.state_dict(), ema.state if ema else None), ck_path)
    return finish(ctx, meta, model, ema, history, start_epoch, ck_path, state["step"], event)


def finish(ctx, meta, model, ema, history, start_epoch, ck_path, step, event):
    args = ctx.args
    final = os.path.join(args.out, FINAL)
    if ctx.is_main:
        save_atomic(model.state_dict(), final)  # `model`, not the DDP wrapper: no `module.` prefix
        if ema is not None:
            save_atomic(ema.state, os.path.join(args.out, EMA_FINAL))
        text = json.dumps(json_safe({"name": meta["name"], "source": meta.get("source"), "epochs": args.epochs, "history": history, "classes": ctx.class_names, "args": vars(args), "settings": ctx.s}), indent=2, allow_nan=False)
        write_atomic(lambda f: f.write(text.encode("utf-8")), os.path.join(args.out, HISTORY))
    last = history[-1] if history else None
    event(
        "done", valAcc=last["valAcc"] if last else None, valLoss=last["valLoss"] if last else None, epochs=len(history), startEpoch=start_epoch,
        steps=step, history=history, model=final, checkpoint=ck_path, world=ctx.world, device=ctx.device.type, launcher=ctx.launcher,
    )
    return 0


def write_atomic(write, path):
    """Writes a new file beside `path`, then renames it over `path` (the output policy of
    src/io/output_policy.ts, on the Python side): the temporary name is created exclusively and
    never through a link, and the rename replaces a link at `path` itself, never its target."""
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_atomic(obj, path):
    write_atomic(lambda f: torch.save(obj, f), path)
