"""torchvision's ShuffleNetV2 as YOLO backbone rows."""

from __future__ import annotations

from torch import nn

from ultralytics_light.backbone import TorchvisionStage

VARIANTS = ("x0_5", "x1_0", "x1_5", "x2_0")  # torchvision has ImageNet weights for all four
# The YAMLs pass the model scale (`scale` resolves to n/s/m/l/x in Ultralytics' parser): it picks the width.
SCALE_VARIANTS = {"n": "x0_5", "s": "x1_0", "m": "x1_5", "l": "x2_0", "x": "x2_0"}


class ShuffleNetV2(TorchvisionStage):
    """One stage of torchvision's ShuffleNetV2 (`conv1+maxpool+stage2`, `stage3`, `stage4` for P3, P4, P5).

    YAML: `[-1, 1, ShuffleNetV2, [scale, P3, DEFAULT]]` or `[-1, 1, ShuffleNetV2, [x1_0, P3, DEFAULT]]`.

    Args:
        c1: Input channels (3 for P3, else the previous tap's).
        c2: Output channels, as declared for `tap`.
        variant: Width, 'x0_5', 'x1_0', 'x1_5' or 'x2_0', or a model scale letter (n/s/m/l/x) mapped by SCALE_VARIANTS.
        tap: 'P3', 'P4' or 'P5'.
        weights: torchvision weights tag ('DEFAULT', 'IMAGENET1K_V1'), or None for random weights.
    """

    builders = tuple(f"shufflenet_v2_{variant}" for variant in VARIANTS)

    def __init__(self, c1: int, c2: int, variant: str, tap: str, weights: str | None = "DEFAULT"):
        super().__init__(c1, c2, self.builder_for(variant), tap, weights)

    @classmethod
    def spec(cls, variant: str, tap: str, weights: str | None = "DEFAULT") -> tuple[str, str]:
        """(builder, tap) of the YAML row `[variant, tap, weights]`."""
        return cls.builder_for(variant), tap

    @staticmethod
    def builder_for(variant: str) -> str:
        """torchvision's builder name for a width or scale letter; a ValueError naming the valid choices otherwise."""
        width = SCALE_VARIANTS.get(variant, variant) if isinstance(variant, str) else variant
        if width not in VARIANTS:
            raise ValueError(
                f"ShuffleNetV2: unknown variant {variant!r}; use one of {list(VARIANTS)} "
                f"or a model scale {list(SCALE_VARIANTS)}."
            )
        return f"shufflenet_v2_{width}"

    @staticmethod
    def stages(model: nn.Module) -> dict[str, dict[str, nn.Module]]:
        """torchvision's own stage modules, by their attribute names."""
        return {
            "P3": {"conv1": model.conv1, "maxpool": model.maxpool, "stage2": model.stage2},
            "P4": {"stage3": model.stage3},
            "P5": {"stage4": model.stage4},
        }
