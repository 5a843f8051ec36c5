#!/usr/bin/env python3
"""Reference data from PyTorch/torchvision for skipgraph's parity tests, and .pth -> safetensors.

Needs only torch and torchvision (Debian: apt-get install python3-torch python3-torchvision);
safetensors files are written with struct + json, so the `safetensors` package is not needed.

  fixtures  build models with fixed seeds and random weights (nothing is downloaded), randomise
            the batch-norm affine parameters and running statistics, and write per model:
              weights.safetensors   the state_dict (float32; num_batches_tracked as I64)
              io.safetensors        input (NCHW float32), logits_eval (eval mode),
                                    logits_train (one train-mode forward) and, for every BN,
                                    after.<bn>.running_mean / after.<bn>.running_var: the running
                                    statistics after that train-mode forward
            plus manifest.json (versions, seed, sizes, models).

  convert   a .pth/.pt checkpoint (a state_dict, or a dict holding one under state_dict/model,
            or a whole pickled module) -> safetensors, float32, `module.` prefixes stripped.

Usage:
  python3 tools/torch_reference.py fixtures --out DIR [--models resnet18,cifar_resnet20]
          [--size 64] [--batch 2] [--seed 0]
  python3 tools/torch_reference.py convert resnet50.pth resnet50.safetensors
  python3 tools/torch_reference.py convert --torchvision resnet50 resnet50.safetensors
          (a torchvision model with its default pretrained weights; downloads them)
"""

import argparse
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPES = {
    torch.float32: ("F32", 4),
    torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2),
    torch.float64: ("F64", 8),
    torch.int64: ("I64", 8),
    torch.int32: ("I32", 4),
    torch.uint8: ("U8", 1),
    torch.bool: ("BOOL", 1),
}

# The ImageNet models the parity suite checks (torchvision builder names = skipgraph YAML names).
IMAGENET_MODELS = ["resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "resnet50_os8", "resnet50_os16", "preact_resnet18", "seresnet50", "regnet_y_400mf"]
# Dilated ResNet-50s (DeepLab's backbones): torchvision's resnet50 with replace_stride_with_dilation.
DILATED = {"resnet50_os8": [False, True, True], "resnet50_os16": [False, False, True]}
ALL_MODELS = IMAGENET_MODELS + ["cifar_resnet20", "tiny_flatten"]


def write_safetensors(path, tensors, metadata=None):
    """Write {name: tensor} as safetensors: u64 LE header length, JSON header, raw LE data."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype not in DTYPES:
            raise ValueError(f"{name}: dtype {t.dtype} is not supported")
        dtype, size = DTYPES[t.dtype]
        if t.dtype == torch.bfloat16:
            data = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            data = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        assert len(data) == t.numel() * size
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # pad so the data section starts 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---- CIFAR ResNet-20 (He et al. 2015, section 4.2), option A shortcuts ----------------------


class ShortcutA(nn.Module):
    """x[:, :, ::s, ::s], then zero channels: floor(extra / 2) before, the rest after (no params)."""

    def __init__(self, stride, extra):
        super().__init__()
        self.stride = stride
        self.before = extra // 2
        self.after = extra - extra // 2

    def forward(self, x):
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))


class CifarBasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = ShortcutA(stride, cout - cin) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """State-dict names as skipgraph's cifar_resnet*.yaml: conv1, bn1, layerS.B.{conv,bn}{1,2}, fc."""

    def __init__(self, n=3, num_classes=10, widths=(16, 32, 64)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        for i, w in enumerate(widths):
            blocks = []
            for b in range(n):
                blocks.append(CifarBasicBlock(cin, w, 2 if (i > 0 and b == 0) else 1))
                cin = w
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


# ---- pre-activation ResNet-18 (He et al. 2016): the projection reads the pre-activated input ----


class PreActBasicBlock(nn.Module):
    """bn1-relu1 first; the 1x1 projection (no BN) taps relu(bn1(x)), as the paper's code does."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False)) if stride != 1 or cin != cout else None

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(pre))))
        return out + (self.downsample(pre) if self.downsample is not None else x)


class PreActResNet18(nn.Module):
    """State-dict names as architectures/preact_resnet18.yaml: conv1, layerS.B.*, final_bn, fc."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, w in enumerate((64, 128, 256, 512)):
            blocks = [PreActBasicBlock(cin, w, 1 if i == 0 else 2), PreActBasicBlock(w, w, 1)]
            cin = w
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.final_bn = nn.BatchNorm2d(512)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = F.relu(self.final_bn(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


# ---- SE-ResNet-50 (Hu et al. 2018): squeeze-excitation after bn3, before the residual add -------


def se_resnet50(num_classes=1000):
    import torchvision
    from torchvision.models.resnet import Bottleneck
    from torchvision.ops import SqueezeExcitation

    class SEBottleneck(Bottleneck):
        def __init__(self, inplanes, planes, *args, **kwargs):
            super().__init__(inplanes, planes, *args, **kwargs)
            width = planes * self.expansion
            self.se = SqueezeExcitation(width, width // 16)

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.se(self.bn3(self.conv3(out)))
            identity = self.downsample(x) if self.downsample is not None else x
            return self.relu(out + identity)

    return torchvision.models.resnet.ResNet(SEBottleneck, [3, 4, 6, 3], num_classes=num_classes)


# ---- tiny_flatten: conv bias, grouped conv, projection shortcut, flatten head ---------------


class TinyFlatten(nn.Module):
    """8x8 input; flattening a 4x4x32 map (PyTorch order C, H, W) into the classifier.

    The matching skipgraph YAML is in test/parity/fixtures.ts (TINY_FLATTEN_YAML).
    """

    def __init__(self, num_classes=5):
        super().__init__()
        from torchvision.models.resnet import Bottleneck

        self.conv1 = nn.Conv2d(3, 8, 3, 1, 1, bias=True)
        self.bn1 = nn.BatchNorm2d(8)
        down = nn.Sequential(nn.Conv2d(8, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
        self.layer1 = nn.Sequential(
            Bottleneck(8, 8, stride=2, downsample=down, groups=2, base_width=32),
            Bottleneck(32, 8, groups=2, base_width=32),
        )
        self.fc = nn.Linear(32 * 4 * 4, num_classes)

    def forward(self, x):
        x = self.layer1(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(x, 1))


# ---- fixtures --------------------------------------------------------------------------------


def build(name):
    if name == "cifar_resnet20":
        return CifarResNet(n=3, num_classes=10)
    if name == "tiny_flatten":
        return TinyFlatten()
    if name == "preact_resnet18":
        return PreActResNet18()
    if name == "seresnet50":
        return se_resnet50()
    import torchvision

    if name in DILATED:
        return torchvision.models.resnet50(weights=None, num_classes=1000, replace_stride_with_dilation=DILATED[name])
    return getattr(torchvision.models, name)(weights=None, num_classes=1000)


def randomise_bn(model, gen):
    """Random BN affine parameters and running statistics: an identity BN would hide mapping bugs."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.num_batches_tracked.fill_(int(torch.randint(0, 1000, (1,), generator=gen)))


def fixtures(args):
    import torchvision

    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    os.makedirs(args.out, exist_ok=True)
    models = [m for m in args.models.split(",") if m]
    manifest = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "seed": args.seed,
        "batch": args.batch,
        "models": {},
    }
    for i, name in enumerate(models):
        if name not in ALL_MODELS:
            sys.exit(f"unknown model {name}; known: {', '.join(ALL_MODELS)}")
        torch.manual_seed(args.seed + i)
        gen = torch.Generator().manual_seed(1000 + args.seed + i)
        model = build(name)
        randomise_bn(model, gen)
        size = {"cifar_resnet20": 32, "tiny_flatten": 8}.get(name, args.size)
        x = torch.randn(args.batch, 3, size, size, generator=gen)
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        sd = model.state_dict()
        write_safetensors(os.path.join(d, "weights.safetensors"), sd, {"format": "pt", "model": name})

        model.eval()
        with torch.no_grad():
            logits_eval = model(x)
        model.train()
        with torch.no_grad():
            logits_train = model(x)  # one train-mode forward: updates the running statistics
        io = {"input": x, "logits_eval": logits_eval, "logits_train": logits_train}
        for mod_name, m in model.named_modules():
            if isinstance(m, nn.BatchNorm2d):
                io[f"after.{mod_name}.running_mean"] = m.running_mean
                io[f"after.{mod_name}.running_var"] = m.running_var
        write_safetensors(os.path.join(d, "io.safetensors"), io, {"model": name})
        manifest["models"][name] = {
            "size": size,
            "classes": int(logits_eval.shape[1]),
            "params": sum(p.numel() for p in model.parameters()),
            "logits_scale": float(logits_eval.abs().max()),
        }
        print(f"{name}: {manifest['models'][name]}", file=sys.stderr)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)


# ---- convert ---------------------------------------------------------------------------------


def extract_state_dict(obj):
    if isinstance(obj, nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict", "state_dict_ema"):
            if key in obj and isinstance(obj[key], (dict, nn.Module)):
                return extract_state_dict(obj[key])
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
    raise SystemExit("the checkpoint holds no state_dict (expected a dict of tensors, or one under state_dict/model)")


def convert(args):
    if args.torchvision:
        import torchvision

        model = torchvision.models.get_model(args.source, weights="DEFAULT") if hasattr(torchvision.models, "get_model") \
            else getattr(torchvision.models, args.source)(weights="DEFAULT")
        sd = model.state_dict()
    else:
        try:
            obj = torch.load(args.source, map_location="cpu", weights_only=True)
        except TypeError:  # torch < 1.13 has no weights_only
            obj = torch.load(args.source, map_location="cpu")
        sd = extract_state_dict(obj)
    out = {}
    for k, v in sd.items():
        if k.startswith("module."):
            k = k[len("module."):]
        if v.is_floating_point():
            v = v.float()
        out[k] = v
    write_safetensors(args.dest, out, {"format": "pt", "source": os.path.basename(args.source)})
    print(f"wrote {len(out)} tensors to {args.dest}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixtures", help="random-weight reference models, inputs and outputs")
    f.add_argument("--out", required=True)
    f.add_argument("--models", default=",".join(ALL_MODELS))
    f.add_argument("--size", type=int, default=64, help="input height and width of the ImageNet models")
    f.add_argument("--batch", type=int, default=2)
    f.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("convert", help=".pth -> safetensors")
    c.add_argument("source", help="a .pth/.pt file, or with --torchvision a torchvision model name")
    c.add_argument("dest")
    c.add_argument("--torchvision", action="store_true", help="take the torchvision model's pretrained weights")
    args = p.parse_args()
    (fixtures if args.cmd == "fixtures" else convert)(args)


if __name__ == "__main__":
    main()
