"""torchvision's MobileNetV2 as YOLO backbone rows."""

from __future__ import annotations

from ultralytics_light.backbone import TorchvisionStage
from ultralytics_light.families import FAMILIES


class MobileNetV2(TorchvisionStage):
    """One stage of torchvision's MobileNetV2 (width 1.0, the only one with ImageNet weights): `features[:7]`,
    `[7:14]`, `[14:18]` for P3, P4, P5; the final 1x1 convolution to 1280 channels belongs to the classifier.

    YAML: `[-1, 1, MobileNetV2, [P3, DEFAULT]]` (args: tap, weights); channels are filled in by the parser.
    """

    family = FAMILIES["MobileNetV2"]
