"""torchvision's ShuffleNetV2 as YOLO backbone rows."""

from __future__ import annotations

from ultralytics_light.backbone import TorchvisionStage
from ultralytics_light.families import FAMILIES


class ShuffleNetV2(TorchvisionStage):
    """One stage of torchvision's ShuffleNetV2 (`conv1+maxpool+stage2`, `stage3`, `stage4` for P3, P4, P5).

    YAML: `[-1, 1, ShuffleNetV2, [scale, P3, DEFAULT]]` or `[-1, 1, ShuffleNetV2, [x1_0, P3, DEFAULT]]` (args:
    variant x0_5/x1_0/x1_5/x2_0 or a model scale letter, tap, weights).
    """

    family = FAMILIES["ShuffleNetV2"]
