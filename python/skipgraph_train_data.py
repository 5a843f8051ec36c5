"""Data for skipgraph's PyTorch trainer: the data file skipgraph writes (safetensors, checked
before use), image folders read here with torchvision (the class map of the TF.js engine's
src/data/imagefolder.ts), torchvision's transforms, and DataLoaders that shard by rank.

Every batch leaves the loader as uint8 (or float) NCHW pixels and int64 labels; normalisation,
channels_last and mixup/cutmix run on the device (see on_device and mix_batch).
"""
import math
import os
import random

import torch
import torchvision
from torchvision import transforms as T

from skipgraph_train_check import DataError, open_regular, read_data

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
EXTENSIONS = (".jpg", ".jpeg", ".png")


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
        with open_regular(path) as f:  # a FIFO named x.png must not block a loader worker
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
