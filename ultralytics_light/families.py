"""The backbone families ultralytics-light offers as YAML rows, and how a row's args are read: one declaration each.

Everything that names our backbones reads FAMILIES: the parser registration, checkpoint rebuilding, the weights CLI,
the restricted-loading allow-list and the error messages. Torch-free, so that the start-up hook stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

TAPS = ("P3", "P4", "P5")


class RowArgs(NamedTuple):
    """What a backbone row's YAML args say: which classifier (builder), which tap, which weights."""

    builder: str
    tap: str
    weights: object


@dataclass(frozen=True)
class Family:
    """One backbone module name for YAMLs, and how its row's args map to a classifier of torchvision or timm.

    Args:
        name: The module name in YAMLs, which is also its class name, e.g. 'ShuffleNetV2'.
        module: Where the class lives. Checkpoints pickle it by this path: never move a class once released.
        variants: Variant -> the classifier's name in `library` (its builder). With one variant the row has no
            variant arg.
        scales: Model scale letter -> variant, so a YAML can pass `scale` (ShuffleNetV2: n -> x0_5, ...).
        any_builder: The variant is any classifier's name in `library` (TorchvisionBackbone, TimmBackbone).
        library: Where the classifiers come from: 'torchvision', or 'timm' (an optional dependency).
        doc: What the family is, for its class's docstring.
    """

    name: str
    module: str
    variants: Mapping[str, str] = field(default_factory=dict)
    scales: Mapping[str, str] = field(default_factory=dict)
    any_builder: bool = False
    library: str = "torchvision"
    doc: str = ""

    @property
    def arg_names(self) -> tuple[str, ...]:
        """The row's args, in YAML order; the last, weights, is optional (DEFAULT)."""
        if self.any_builder:
            return ("builder", "tap", "weights")
        return ("tap", "weights") if len(self.variants) == 1 else ("variant", "tap", "weights")

    @property
    def builders(self) -> tuple[str, ...]:
        """The classifiers this family names (none listed for any_builder)."""
        return tuple(dict.fromkeys(self.variants.values()))

    def read(self, args: Sequence) -> RowArgs:
        """(builder, tap, weights) of a YAML row's args; a ValueError naming the valid choices otherwise."""
        names = self.arg_names
        if not len(names) - 1 <= len(args) <= len(names):
            raise ValueError(f"{self.name}: a YAML row's args are [{', '.join(names)}], got {list(args)}.")
        values = dict(zip(names, args))
        if self.any_builder:
            builder = values["builder"]
            if not isinstance(builder, str):
                raise ValueError(f"{self.name}: builder must be a {self.library} classifier's name, got {builder!r}.")
        elif "variant" in values:
            builder = self.builder_for(values["variant"])
        else:
            builder = next(iter(self.variants.values()))
        return RowArgs(builder, values["tap"], values.get("weights", "DEFAULT"))

    def builder_for(self, variant: object) -> str:
        """The classifier of a variant or scale letter; a ValueError naming the valid choices otherwise."""
        if isinstance(variant, int) and not isinstance(variant, bool):  # YAML reads ResNet's `18` as a number
            variant = str(variant)
        variant = self.scales.get(variant, variant) if isinstance(variant, str) else variant
        if not isinstance(variant, str) or variant not in self.variants:
            scales = f" or a model scale {list(self.scales)}" if self.scales else ""
            raise ValueError(f"{self.name}: unknown variant {variant!r}; use one of {list(self.variants)}{scales}.")
        return self.variants[variant]

    def without_pretrained(self, args: Sequence) -> list:
        """A row's args with weights null, for rebuilding a model whose own weights are then loaded."""
        args = [*args, *[None] * (len(self.arg_names) - len(args))]
        args[self.arg_names.index("weights")] = None
        return args


# Where each family's row class is made (rows.py). MobileNetV2 and ShuffleNetV2, the first two, have modules of their
# own: checkpoints pickle their classes by those paths.
ROWS = "ultralytics_light.rows"


def by_name(*families: Family) -> dict[str, Family]:
    """Families by name; a second family of a name is refused (as torchvision's `register_model` refuses a second
    model of a name), since a YAML row names its module and only one class can answer to it."""
    named = {}
    for family in families:
        if family.name in named:
            raise ValueError(f"two backbone families are named {family.name!r}: a YAML module name names one family")
        named[family.name] = family
    return named


FAMILIES: dict[str, Family] = by_name(
    Family(
        "MobileNetV2",
        "ultralytics_light.mobilenetv2",
        {"1_0": "mobilenet_v2"},
        doc="torchvision's MobileNetV2 at width 1.0, the only one with ImageNet weights (its final 1x1 convolution "
        "to 1280 channels belongs to the classifier). YAML: `[-1, 1, MobileNetV2, [P3, DEFAULT]]`.",
    ),
    Family(
        "ShuffleNetV2",
        "ultralytics_light.shufflenetv2",
        {v: f"shufflenet_v2_{v}" for v in ("x0_5", "x1_0", "x1_5", "x2_0")},
        scales={"n": "x0_5", "s": "x1_0", "m": "x1_5", "l": "x2_0", "x": "x2_0"},
        doc="torchvision's ShuffleNetV2 x0.5 to x2.0, or the model scale's (n x0_5, s x1_0, m x1_5, l/x x2_0). "
        "YAML: `[-1, 1, ShuffleNetV2, [scale, P3, DEFAULT]]`.",
    ),
    Family(
        "MobileNetV3",
        ROWS,
        {"large": "mobilenet_v3_large", "small": "mobilenet_v3_small"},
        doc="torchvision's MobileNetV3-Large or -Small. YAML: `[-1, 1, MobileNetV3, [large, P3, DEFAULT]]`.",
    ),
    Family(
        "EfficientNet",
        ROWS,
        {f"b{i}": f"efficientnet_b{i}" for i in range(8)},
        doc="torchvision's EfficientNet-B0 to B7. YAML: `[-1, 1, EfficientNet, [b0, P3, DEFAULT]]`.",
    ),
    Family(
        "RegNet",
        ROWS,
        {f"{kind}_{size}": f"regnet_{kind}_{size}" for kind in "xy" for size in ("400mf", "800mf", "1_6gf")},
        doc="torchvision's RegNetX/RegNetY at 400MF-1.6GF. YAML: `[-1, 1, RegNet, [y_400mf, P3, DEFAULT]]`.",
    ),
    Family(
        "MNASNet",
        ROWS,
        {f"x{w}": f"mnasnet{w}" for w in ("0_5", "0_75", "1_0", "1_3")},
        doc="torchvision's MNASNet at widths 0.5-1.3. YAML: `[-1, 1, MNASNet, [x1_0, P3, DEFAULT]]`.",
    ),
    Family(
        "ResNet",
        ROWS,
        {str(depth): f"resnet{depth}" for depth in (18, 34, 50)},
        doc="torchvision's ResNet-18/34/50. YAML: `[-1, 1, ResNet, [18, P3, DEFAULT]]`.",
    ),
    Family(
        "MobileNetV4",
        ROWS,
        {"conv_small": "mobilenetv4_conv_small", "conv_medium": "mobilenetv4_conv_medium"},
        library="timm",
        doc="timm's MobileNetV4-Conv-Small or -Medium (needs `pip install 'ultralytics-light[timm]'`). YAML: "
        "`[-1, 1, MobileNetV4, [conv_small, P3, DEFAULT]]`.",
    ),
    Family(
        "LCNet",
        ROWS,
        {"x0_5": "lcnet_050", "x0_75": "lcnet_075", "x1_0": "lcnet_100"},
        scales={"n": "x0_5", "s": "x0_75", "m": "x1_0", "l": "x1_0", "x": "x1_0"},
        library="timm",
        doc="timm's PP-LCNet x0.5 to x1.0, or the model scale's (n x0_5, s x0_75, m/l/x x1_0; needs "
        "`pip install 'ultralytics-light[timm]'`). YAML: `[-1, 1, LCNet, [scale, P3, DEFAULT]]`.",
    ),
    Family(
        "RepViT",
        ROWS,
        {v: f"repvit_{v}" for v in ("m0_9", "m1_0", "m1_1", "m1_5", "m2_3")},
        library="timm",
        doc="timm's RepViT-M0.9 to M2.3, switched to its inference form by `fuse()` (needs "
        "`pip install 'ultralytics-light[timm]'`). YAML: `[-1, 1, RepViT, [m0_9, P3, DEFAULT]]`.",
    ),
    Family(
        "GhostNetV2",
        ROWS,
        {"x1_0": "ghostnetv2_100", "x1_3": "ghostnetv2_130", "x1_6": "ghostnetv2_160"},
        library="timm",
        doc="timm's GhostNetV2 at widths 1.0-1.6 (needs `pip install 'ultralytics-light[timm]'`). YAML: "
        "`[-1, 1, GhostNetV2, [x1_0, P3, DEFAULT]]`.",
    ),
    Family(
        "TorchvisionBackbone",
        ROWS,
        any_builder=True,
        doc="Any torchvision classifier whose modules form a stride 8/16/32 pyramid of sequential stages, by "
        "builder name. YAML: `[-1, 1, TorchvisionBackbone, [regnet_y_800mf, P3, DEFAULT]]`.",
    ),
    Family(
        "TimmBackbone",
        ROWS,
        any_builder=True,
        library="timm",
        doc="Any timm classifier whose features reach stride 32 with a stride-8 stage, by model name, cut where "
        "its feature_info says (needs `pip install 'ultralytics-light[timm]'`). YAML: "
        "`[-1, 1, TimmBackbone, [mobilenetv4_conv_small, P3, DEFAULT]]`.",
    ),
)


def drop_pretrained(yaml: dict) -> bool:
    """Set weights null in the backbone rows of a model YAML dict, in place; whether it has any of our rows."""
    ours = False
    for row in yaml.get("backbone", []):
        family = FAMILIES.get(row[2]) if len(row) == 4 else None
        if family is not None:
            row[3] = family.without_pretrained(list(row[3]))
            ours = True
    return ours


def family_class(family: Family) -> type:
    """The row class of a family (imports torch)."""
    from importlib import import_module

    return getattr(import_module(family.module), family.name)
