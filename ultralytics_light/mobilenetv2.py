"""torchvision's MobileNetV2 as YOLO backbone rows."""

from __future__ import annotations

from torch import nn

from ultralytics_light.backbone import TorchvisionStage

BUILDER = "mobilenet_v2"  # width 1.0: the only MobileNetV2 torchvision has ImageNet weights for


class MobileNetV2(TorchvisionStage):
    """One stage of torchvision's MobileNetV2 (`features[:7]`, `[7:14]`, `[14:18]` for P3, P4, P5).

    YAML: `[-1, 1, MobileNetV2, [P3, DEFAULT]]`; channels are filled in by the parser from the declaration.

    Args:
        c1: Input channels (3 for P3, else the previous tap's).
        c2: Output channels, as declared for `tap`.
        tap: 'P3', 'P4' or 'P5'.
        weights: torchvision weights tag ('DEFAULT', 'IMAGENET1K_V1', 'IMAGENET1K_V2'), or None for random weights.
    """

    builders = (BUILDER,)

    def __init__(self, c1: int, c2: int, tap: str, weights: str | None = "DEFAULT"):
        super().__init__(c1, c2, BUILDER, tap, weights)

    @classmethod
    def spec(cls, tap: str, weights: str | None = "DEFAULT") -> tuple[str, str]:
        """(builder, tap) of the YAML row `[tap, weights]`."""
        return BUILDER, tap

    @staticmethod
    def stages(model: nn.Module) -> dict[str, dict[str, nn.Module]]:
        """Cut `features` where torchvision's detection extractor does: before its last two stride-2 blocks.

        The final 1x1 convolution to 1280 channels (`features[-1]`) belongs to the classifier and is left out.
        """
        features = model.features
        downsampling = [i for i, block in enumerate(features) if getattr(block, "_is_cn", False)]
        p4_start, p5_start, end = downsampling[-2], downsampling[-1], len(features) - 1
        return {
            "P3": {"features": features[:p4_start]},
            "P4": {"features": features[p4_start:p5_start]},
            "P5": {"features": features[p5_start:end]},
        }
