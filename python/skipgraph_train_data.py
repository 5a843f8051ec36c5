"""Data for skipgraph's PyTorch trainer: the data file skipgraph writes (safetensors, checked
before use), image folders read here with torchvision (the class map of the TF.js engine's
src/data/imagefolder.ts), torchvision's transforms, and DataLoaders that shard by rank.

Every batch leaves the loader as uint8 (or float) NCHW pixels and int64 labels; normalisation,
channels_last and mixup/cutmix run on the device (see on_device and mix_batch).
"""
import json
import math
import os
import random
import struct

import torch
import torchvision
from torchvision import transforms as T

_DTYPES = {"F32": (torch.float32, 4), "U8": (torch.uint8, 1), "I32": (torch.int32, 4), "I64": (torch.int64, 8)}
_MAX_HEADER = 100 << 20
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
EXTENSIONS = (".jpg", ".jpeg", ".png")


class DataError(Exception):
    """Data that cannot be trained on: one line for the user."""


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _finite_list(v, n):
    return isinstance(v, list) and len(v) == n and all(isinstance(a, (int, float)) and not isinstance(a, bool) and math.isfinite(a) for a in v)


def read_data(path):
    """The safetensors file skipgraph writes: tensors train_x, train_y, test_x, test_y (NHWC pixels,
    uint8 or float32; uint8/int32/int64 labels) and metadata "info" (JSON: name, classes, scale,
    mean, std). Every field is checked before a tensor is made; DataError names the first problem."""
    bad = lambda why: DataError(f"{path} is not a valid skipgraph data file: {why}")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"cannot read the data file {path}: {e.strerror}")
    if len(raw) < 8:
        raise bad("too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8 or n > _MAX_HEADER:
        raise bad(f"its header length {n} is past the end of the file")
    try:
        header = json.loads(raw[8 : 8 + n].decode("utf8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"its header is not JSON ({e})")
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not isinstance(meta.get("info", "{}"), str):
        raise bad("__metadata__ is not a map of strings")
    data = memoryview(raw)[8 + n :]
    specs = {}
    for name, t in header.items():
        if not isinstance(t, dict) or set(t) != {"dtype", "shape", "data_offsets"}:
            raise bad(f"tensor {name!r} is not {{dtype, shape, data_offsets}}")
        if t["dtype"] not in _DTYPES:
            raise bad(f"tensor {name!r} has dtype {t['dtype']!r}; expected one of {', '.join(_DTYPES)}")
        shape, offs = t["shape"], t["data_offsets"]
        if not isinstance(shape, list) or not all(_int(d) and d >= 0 for d in shape):
            raise bad(f"tensor {name!r} has shape {shape!r}; dimensions must be whole numbers of 0 or more")
        if not (isinstance(offs, list) and len(offs) == 2 and all(_int(o) for o in offs) and 0 <= offs[0] <= offs[1] <= len(data)):
            raise bad(f"tensor {name!r} has data_offsets {offs!r} outside the {len(data)} bytes of data")
        size = math.prod(shape) * _DTYPES[t["dtype"]][1]
        if offs[1] - offs[0] != size:
            raise bad(f"tensor {name!r}: shape {shape} needs {size} bytes, its offsets hold {offs[1] - offs[0]}")
        specs[name] = t
    for key, dtypes, rank in (("train_x", ("U8", "F32"), 4), ("test_x", ("U8", "F32"), 4), ("train_y", ("U8", "I32", "I64"), 1), ("test_y", ("U8", "I32", "I64"), 1)):
        if key not in specs:
            raise bad(f"no tensor {key!r}")
        if specs[key]["dtype"] not in dtypes or len(specs[key]["shape"]) != rank:
            raise bad(f"{key} must be a {rank}-D tensor of {' or '.join(dtypes)}, not {len(specs[key]['shape'])}-D {specs[key]['dtype']}")
    for split in ("train", "test"):
        if specs[f"{split}_x"]["shape"][0] != specs[f"{split}_y"]["shape"][0]:
            raise bad(f"{split}_x has {specs[f'{split}_x']['shape'][0]} images but {split}_y {specs[f'{split}_y']['shape'][0]} labels")
    if specs["train_x"]["shape"][1:] != specs["test_x"]["shape"][1:]:
        raise bad(f"train_x images are {specs['train_x']['shape'][1:]}, test_x {specs['test_x']['shape'][1:]}")
    if specs["train_x"]["shape"][0] == 0:
        raise bad("train_x holds no images")
    try:
        info = json.loads(meta.get("info", "{}"))
    except ValueError:
        raise bad("its info metadata is not JSON")
    if not isinstance(info, dict):
        raise bad("its info metadata is not a JSON object")
    c = specs["train_x"]["shape"][3]
    if not (_int(info.get("classes")) and info["classes"] >= 1):
        raise bad(f"info.classes is {info.get('classes')!r}, not a positive whole number")
    scale = info.setdefault("scale", 1.0)
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise bad(f"info.scale is {scale!r}, not a positive number")
    mean, std = info.setdefault("mean", [0.0] * c), info.setdefault("std", [1.0] * c)
    if not (_finite_list(mean, c) and _finite_list(std, c) and all(v > 0 for v in std)):
        raise bad(f"info.mean and info.std must be {c} finite numbers each (std above 0)")
    out = {}
    for name in ("train_x", "train_y", "test_x", "test_y"):
        t = specs[name]
        dtype = _DTYPES[t["dtype"]][0]
        b, e = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=dtype).reshape(t["shape"]) if e > b else torch.zeros(t["shape"], dtype=dtype)
    for split in ("train", "test"):
        y = out[f"{split}_y"]
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= info["classes"]):
            raise bad(f"{split}_y has labels {int(y.min())}..{int(y.max())}, outside 0..{info['classes'] - 1} (info.classes {info['classes']})")
        x = out[f"{split}_x"]
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise bad(f"{split}_x holds NaN or infinite pixels")
    return out, info


def check_data(path):
    """`--check-data FILE`: the summary line of a valid file (DataError otherwise)."""
    t, info = read_data(path)
    n, h, w, c = t["train_x"].shape
    return f"{path}: {info.get('name', 'data')}, {n} training and {t['test_x'].shape[0]} held-out {h}x{w}x{c} images ({t['train_x'].dtype}), {info['classes']} classes"


# ---------------------------------------------------------------- image folders


def list_classes(root, classes=None):
    """The class folders (sorted, hidden ones skipped) and their .jpg/.jpeg/.png files (sorted),
    exactly as the TF.js engine's listImageFolder (torchvision's find_classes + make_dataset,
    without recursion into sub-folders)."""
    if not os.path.isdir(root):
        raise DataError(f"image folder not found: {root}")
    found = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    names = classes if classes is not None else found
    if not names:
        raise DataError(f"{root} has no class folders; expected {root}/<class>/<image>.jpg|.png (torchvision's ImageFolder layout)")
    extra = [f for f in found if f not in names]
    if extra:
        raise DataError(f"{root} has class folder{'s' if len(extra) > 1 else ''} {', '.join(repr(e) for e in extra)} that the training folder lacks")
    samples = []
    for label, name in enumerate(names):
        sub = os.path.join(root, name)
        if not os.path.isdir(sub):
            raise DataError(f"{root} has no folder for class '{name}' (the training folder has one)")
        for f in sorted(os.listdir(sub)):
            if os.path.splitext(f)[1].lower() in EXTENSIONS and os.path.isfile(os.path.join(sub, f)):
                samples.append((os.path.join(sub, f), label))
    if not samples:
        raise DataError(f"{root} has class folders but no .jpg, .jpeg or .png files in them")
    return names, samples


class ImageFolder(torchvision.datasets.ImageFolder):
    """torchvision's ImageFolder with the TF.js engine's listing (list_classes): the same classes,
    class-to-index map and files, so a model trained by either engine reports the same labels."""

    def __init__(self, root, transform, classes=None):
        self._fixed_classes = classes
        super().__init__(root, transform=transform)

    def find_classes(self, directory):
        names, _ = list_classes(directory, self._fixed_classes)
        return names, {n: i for i, n in enumerate(names)}

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, **_):
        return list_classes(directory, sorted(class_to_idx, key=class_to_idx.get))[1]


def folder_split(root):
    train = os.path.join(root, "train")
    test = next((os.path.join(root, d) for d in ("val", "test") if os.path.isdir(os.path.join(root, d))), None)
    if not os.path.isdir(train) or test is None:
        raise DataError(f"{root} must hold train/ and val/ (or test/) folders, each with one folder per class (torchvision's ImageFolder layout)")
    return train, test


def _pil_open(path, grey):
    from PIL import Image

    try:
        with open(path, "rb") as f:
            img = Image.open(f)
            return img.convert("L" if grey else "RGB")
    except Exception as e:
        raise DataError(f"{path}: not a readable image ({type(e).__name__}: {e})")


# ---------------------------------------------------------------- transforms


def train_transform(aug, size, pil):
    """torchvision's transforms for the per-sample part of --augment, in its order: a crop
    (RandomCrop with zero padding, or RandomResizedCrop) to the input size, then the flip. On PIL
    images (folders: rrc from the whole image, else Resize first) or on CHW tensors (memory)."""
    steps = []
    if "rrc" in aug:
        kw = {} if pil else {"antialias": False}  # the TF.js engine's bilinear resize has no antialias
        steps.append(T.RandomResizedCrop(size, scale=(aug["rrc"], 1.0), **kw))
    else:
        if pil:
            steps.append(T.Resize(size))
        if "crop" in aug:
            steps.append(T.RandomCrop(size, padding=aug["crop"], fill=0))
    if aug.get("flip", 0) > 0:
        steps.append(T.RandomHorizontalFlip(aug["flip"]))
    if pil:
        steps.append(T.PILToTensor())
    return T.Compose(steps) if steps else None


def eval_transform(size):
    return T.Compose([T.Resize(size), T.PILToTensor()])


class MemorySet(torch.utils.data.Dataset):
    """NHWC pixels in memory; indexed by a list of sample indices (one micro-batch), it returns that
    batch as NCHW pixels (each sample through `transform`) and its labels."""

    def __init__(self, x, y, transform=None):
        self.x, self.y, self.transform = x, y.long(), transform

    def __len__(self):
        return self.y.shape[0]

    def __getitem__(self, idx):
        idx = torch.as_tensor(idx, dtype=torch.long)
        x = self.x[idx].permute(0, 3, 1, 2)
        if self.transform is not None:
            x = torch.stack([self.transform(s) for s in x])
        return x.contiguous(), self.y[idx]


class FolderSet(torch.utils.data.Dataset):
    """An ImageFolder indexed by a list of sample indices: that micro-batch, stacked."""

    def __init__(self, folder, grey, limit=None):
        self.folder, self.grey = folder, grey
        if limit is not None:
            folder.samples = folder.imgs = folder.samples[:limit]
            folder.targets = folder.targets[:limit]
        self.y = torch.tensor(folder.targets, dtype=torch.long)

    def __len__(self):
        return len(self.folder.samples)

    def __getitem__(self, idx):
        xs = [self.folder.transform(_pil_open(self.folder.samples[i][0], self.grey)) for i in idx]
        return torch.stack(xs), self.y[torch.as_tensor(idx, dtype=torch.long)]


class MicroBatches(torch.utils.data.Sampler):
    """Per step, this rank's `per_rank` samples of the DistributedSampler's order, as `accumulate`
    interleaved micro-batches (idx[k::accumulate]: the same split as accumulate x processes)."""

    def __init__(self, sampler, per_rank, accumulate, drop_last):
        self.sampler, self.per_rank, self.accumulate = sampler, per_rank, accumulate
        n = len(sampler)
        self.batches = n // per_rank if drop_last else math.ceil(n / per_rank)

    def parts(self, j):
        """The sizes of step j's micro-batches."""
        size = min(self.per_rank, len(self.sampler) - j * self.per_rank)
        return [len(range(k, size, self.accumulate)) for k in range(min(self.accumulate, size))]

    def __len__(self):
        return sum(len(self.parts(j)) for j in range(self.batches))

    def __iter__(self):
        order = list(self.sampler)
        for j in range(self.batches):
            idx = order[j * self.per_rank : (j + 1) * self.per_rank]
            for k in range(min(self.accumulate, len(idx))):
                yield idx[k :: self.accumulate]


class Data:
    """Both splits, their normalisation and the number of classes, from the data file or a folder."""

    def __init__(self, spec, input_chw, aug, limits=(None, None)):
        c, h, w = input_chw
        self.size = (h, w)
        if spec.startswith("imagefolder:"):
            root = spec[len("imagefolder:") :]
            if not root:
                raise DataError("--data imagefolder:DIR needs the folder of train/ and val/ class folders")
            if c not in (1, 3):
                raise DataError(f"image folders give 1 or 3 channels, not {c}")
            train_dir, test_dir = folder_split(root)
            grey = c == 1
            tr = ImageFolder(train_dir, train_transform(aug, self.size, pil=True))
            te = ImageFolder(test_dir, eval_transform(self.size), classes=tr.classes)
            self.train, self.test = FolderSet(tr, grey, limits[0]), FolderSet(te, grey, limits[1])
            self.classes, self.class_names, self.name = len(tr.classes), list(tr.classes), f"imagefolder:{root}"
            luma = lambda v: [0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]]
            mean, std = (luma(IMAGENET_MEAN), luma(IMAGENET_STD)) if grey else (IMAGENET_MEAN, IMAGENET_STD)
            scale = 1 / 255
            self.shape = [h, w, c]
        else:
            t, info = read_data(spec)
            lim = lambda k, n: t[k][:n] if n is not None else t[k]
            self.train = MemorySet(lim("train_x", limits[0]), lim("train_y", limits[0]), train_transform(aug, self.size, pil=False))
            self.test = MemorySet(lim("test_x", limits[1]), lim("test_y", limits[1]))
            self.classes, self.class_names, self.name = info["classes"], info.get("classNames"), info.get("name", "data")
            mean, std, scale = info["mean"], info["std"], float(info["scale"])
            self.shape = list(t["train_x"].shape[1:])
        std_t = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
        self.mult = scale / std_t
        self.shift = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1) / std_t

    def loader(self, dataset, batch_sampler, workers, cuda, seed):
        return torch.utils.data.DataLoader(
            dataset,
            batch_size=None,  # the sampler yields whole micro-batches; the dataset stacks them
            sampler=batch_sampler,
            num_workers=workers,
            pin_memory=cuda,
            persistent_workers=workers > 0,
            generator=torch.Generator().manual_seed(seed),
        )

    def on_device(self, x, y, device, channels_last):
        """Pixels to normalised float32 on the device (NCHW values, channels_last memory on CUDA)."""
        x = x.to(device, non_blocking=True).float()
        x = x * self.mult.to(device) - self.shift.to(device)
        x = x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        return x, y.to(device, non_blocking=True)


def mix_batch(rng, x, y, aug):
    """timm's Mixup/CutMix in 'batch' mode on the device (src/data/augment.ts's mixBatch): lam ~
    Beta(alpha, alpha), each sample mixed with the batch reversed; cutmix pastes timm's rand_bbox
    and corrects lam to the pasted area. `y` is one-hot (or soft); returns (x, y, lam)."""
    mixup, cutmix = aug.get("mixup", 0), aug.get("cutmix", 0)
    n = x.shape[0]
    if (mixup <= 0 and cutmix <= 0) or n < 2:
        return x, y, 1.0
    use_cutmix = rng.random() < 0.5 if mixup > 0 and cutmix > 0 else cutmix > 0
    lam = rng.betavariate(cutmix, cutmix) if use_cutmix else rng.betavariate(mixup, mixup)
    flipped = x.flip(0)
    if use_cutmix:
        h, w = x.shape[2], x.shape[3]
        rat = math.sqrt(1 - lam)
        cut_h, cut_w = int(h * rat), int(w * rat)
        cy, cx = rng.randrange(h), rng.randrange(w)
        yl, yh = min(max(cy - cut_h // 2, 0), h), min(max(cy + cut_h // 2, 0), h)
        xl, xh = min(max(cx - cut_w // 2, 0), w), min(max(cx + cut_w // 2, 0), w)
        x = x.clone()
        x[:, :, yl:yh, xl:xh] = flipped[:, :, yl:yh, xl:xh]
        lam = 1 - (yh - yl) * (xh - xl) / (h * w)
    else:
        x = x * lam + flipped * (1 - lam)
    return x, y * lam + y.flip(0) * (1 - lam), lam


def mix_rng(seed, rank):
    return random.Random(seed * 1009 + rank)
