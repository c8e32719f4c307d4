"""`model.fuse()` (called by `yolo val/predict/export`) also folds the BatchNorm layers of our backbones.

Stock `BaseModel.fuse` folds BatchNorm only inside Ultralytics' own `Conv` blocks, and `is_fused` looks only at
those; torchvision's blocks would keep every BatchNorm at inference time.
"""

from __future__ import annotations

from types import ModuleType

from ultralytics_light.backbone import stages
from ultralytics_light.patches import Patcher


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `BaseModel.fuse` and `BaseModel.is_fused`, which every task model inherits."""
    stock_fuse, stock_is_fused = tasks.BaseModel.fuse, tasks.BaseModel.is_fused

    def fuse(self, *args, **kwargs):
        """Fuse our backbones' BatchNorm, then Ultralytics' own layers (which prints the fused summary)."""
        for stage in stages(self):
            stage.fuse()
        return stock_fuse(self, *args, **kwargs)

    def is_fused(self) -> bool:
        """Ultralytics' check, and no BatchNorm left in our backbones."""
        return stock_is_fused(self) and all(stage.is_fused() for stage in stages(self))

    fuse.__wrapped__, is_fused.__wrapped__ = stock_fuse, stock_is_fused
    patcher.replace(tasks.BaseModel, "fuse", fuse)
    patcher.replace(tasks.BaseModel, "is_fused", is_fused)
