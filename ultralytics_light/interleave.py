"""ShuffleNetV2's concatenate-then-shuffle, computed at inference as one interleave of the two branches."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.shufflenetv2 import InvertedResidual


class InterleavedInvertedResidual(InvertedResidual):
    """torchvision's ShuffleNetV2 block with `channel_shuffle(cat((a, b)), 2)` computed as `stack((a, b), 2)`
    flattened: the same channels in the same order, bit for bit. OpenVINO runs torchvision's
    reshape-transpose-reshape as a ShuffleChannels copy after the concatenation, and the stack as one concatenation;
    how much faster that makes the lite ShuffleNetV2 is measured in experiments/interleave.md.
    """

    def branches(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The two halves torchvision concatenates: the identity half and branch2's output, or both branches'."""
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            return x1, self.branch2(x2)
        return self.branch1(x), self.branch2(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.branches(x)
        return torch.stack((a, b), dim=2).flatten(1, 2)


def interleave_shuffles(module: nn.Module) -> None:
    """Give every torchvision ShuffleNetV2 block in `module` the interleaving forward; parameters and state-dict keys
    stay as they are, so this applies to a built (and fused) model in place."""
    for block in module.modules():
        if type(block) is InvertedResidual:
            block.__class__ = InterleavedInvertedResidual
