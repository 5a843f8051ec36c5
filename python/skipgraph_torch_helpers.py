"""The Python that skipgraph's PyTorch target pastes into the modules it emits.

`skipgraph export --target torch` (src/targets/torch/helpers.ts) reads this file: the imports
below open every emitted module, and each class is pasted, as written here, into the modules that
use it. Every other top-level name of this file is one that an emitted class never takes. Being a
real file, it is compiled and linted by test/targets/torch/helpers_py.test.ts.
"""

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

# Optional is for the emitted modules (their blocks' optional downsample), not for this file.
__all__ = ["Optional", "Subsample", "ChannelPad", "DropPath", "Container"]


class Subsample(nn.Module):
    """x[:, :, ::s, ::s]: the parameter-free shortcut of CIFAR ResNets ("option A")."""

    def __init__(self, stride) -> None:
        super().__init__()
        self.stride = (stride, stride) if isinstance(stride, int) else tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride[0], :: self.stride[1]]


class ChannelPad(nn.Module):
    """Zero channels before and after the existing ones (option A's channel growth)."""

    def __init__(self, before: int, after: int) -> None:
        super().__init__()
        self.before = before
        self.after = after

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, (0, 0) * (x.dim() - 2) + (self.before, self.after))


class DropPath(nn.Module):
    """Stochastic depth (timm's DropPath): in training each sample's branch is kept with probability 1 - p and scaled by 1 / (1 - p)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class Container(nn.Module):
    """Holds modules that its parent's forward calls one by one (they do not run as one piece)."""

    def __init__(self, /, **modules: nn.Module) -> None:
        # self is positional-only, so that a module may be called "self".
        super().__init__()
        for name, m in modules.items():
            self._modules[name] = m
