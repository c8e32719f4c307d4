"""The input normalization torchvision's ImageNet weights expect, as a layer of the model (so it is exported too)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class ImageNetNormalize(nn.Module):
    """Map Ultralytics' input (RGB in [0, 1]) to what torchvision's classifiers were trained on: (x - mean) / std.

    The constants are non-persistent buffers: they follow `.to()`/`.half()` and are traced into exports, but stay out
    of the state dict, whose keys remain torchvision's.

    Args:
        mean: Per-channel mean, RGB order.
        std: Per-channel standard deviation, RGB order.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}"
