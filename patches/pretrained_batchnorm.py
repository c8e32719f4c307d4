"""Keep torchvision's BatchNorm settings in our pretrained backbones.

Ultralytics' `initialize_weights` sets every `nn.BatchNorm2d` of a new model to eps=1e-3, momentum=0.03. Our
backbone's running statistics were computed with torchvision's eps, so that rewrite changes its ImageNet features:
the eps stays torchvision's. The momentum stays torchvision's too, unless it is slower than Ultralytics': MNASNet's
0.0003 (and MobileNetV3's 0.01) leave the running statistics far behind the weights over a fine-tune of a few
thousand steps, and a MNASNet trained from scratch then fails to detect (docs/weights.md).
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
        """Ultralytics' initialization; our backbones' BatchNorm layers keep torchvision's eps and momentum, the
        momentum at least Ultralytics'."""
        kept = [
            (norm, norm.eps, norm.momentum)
            for stage in model.modules()
            if isinstance(stage, TorchvisionStage)
            for norm in stage.batchnorms()
        ]
        stock(model)
        for norm, eps, momentum in kept:
            norm.eps, norm.momentum = eps, max(momentum, norm.momentum)

    initialize_weights.__wrapped__ = stock
    patcher.replace(tasks, "initialize_weights", initialize_weights)
