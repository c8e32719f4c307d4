"""Keep torchvision's BatchNorm settings in our pretrained backbones.

Ultralytics' `initialize_weights` sets every `nn.BatchNorm2d` of a new model to eps=1e-3, momentum=0.03. Our
backbone's running statistics were computed with torchvision's eps=1e-5, so that rewrite changes its ImageNet
features; the momentum is torchvision's training recipe too.
"""

from __future__ import annotations

from types import ModuleType

from torch import nn

from ultralytics_light.backbone import TorchvisionStage
from ultralytics_light.patches import Patcher


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `tasks.initialize_weights`, which the model classes call by that global name."""
    stock = tasks.initialize_weights

    def initialize_weights(model: nn.Module) -> None:
        """Ultralytics' initialization, except for the BatchNorm layers of ultralytics-light backbones."""
        kept = [
            (norm, norm.eps, norm.momentum)
            for stage in model.modules()
            if isinstance(stage, TorchvisionStage)
            for norm in stage.batchnorms()
        ]
        stock(model)
        for norm, eps, momentum in kept:
            norm.eps, norm.momentum = eps, momentum

    initialize_weights.__wrapped__ = stock
    patcher.replace(tasks, "initialize_weights", initialize_weights)
