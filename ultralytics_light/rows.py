"""Every family's row class, made from its declaration in families.py.

Ultralytics' parser finds a YAML module by its class, and checkpoints pickle each row by its class's path
(`ultralytics_light.rows.MobileNetV3`), so every family needs a class; all it adds is its family. The classes of the
families declared with another module (MobileNetV2, ShuffleNetV2) are made there, by `row_classes`.
"""

from __future__ import annotations

from ultralytics_light.backbone import TorchvisionStage
from ultralytics_light.families import FAMILIES
from ultralytics_light.timm_backbone import TimmStage

STAGES = {"torchvision": TorchvisionStage, "timm": TimmStage}  # each library's row base class


def row_classes(module: str) -> dict[str, type]:
    """The row class of each family whose declared module is `module`, by name."""
    return {
        family.name: type(
            family.name,
            (STAGES[family.library],),
            {"family": family, "__module__": module, "__qualname__": family.name, "__doc__": family.doc},
        )
        for family in FAMILIES.values()
        if family.module == module
    }


globals().update(row_classes(__name__))
