"""Any torchvision ImageNet classifier as YOLO backbone rows, by builder name."""

from __future__ import annotations

from ultralytics_light.backbone import TorchvisionStage
from ultralytics_light.families import FAMILIES


class TorchvisionBackbone(TorchvisionStage):
    """One stage of any torchvision classifier whose modules form a stride 8/16/32 pyramid of sequential stages,
    found from the model itself (ResNets, RegNets, EfficientNets, MobileNets, ConvNeXt, ...; not vision transformers).

    YAML: `[-1, 1, TorchvisionBackbone, [regnet_y_800mf, P3, DEFAULT]]` (args: builder, tap, weights).
    """

    family = FAMILIES["TorchvisionBackbone"]
