"""The backbone families ultralytics-light offers as YAML rows, and how a row's args are read: one declaration each.

Everything that names our backbones reads FAMILIES: the parser registration, checkpoint rebuilding, the weights CLI,
the restricted-loading allow-list and the error messages. Torch-free, so that the start-up hook stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, NamedTuple, Sequence

TAPS = ("P3", "P4", "P5")


class RowArgs(NamedTuple):
    """What a backbone row's YAML args say: which torchvision builder, which tap, which weights."""

    builder: str
    tap: str
    weights: object


@dataclass(frozen=True)
class Family:
    """One backbone module name for YAMLs, and how its row's args map to torchvision.

    Args:
        name: The module name in YAMLs, which is also its class name, e.g. 'ShuffleNetV2'.
        module: Where the class lives. Checkpoints pickle it by this path: never move a class once released.
        variants: Variant -> torchvision builder. With one variant the row has no variant arg.
        scales: Model scale letter -> variant, so a YAML can pass `scale` (ShuffleNetV2: n -> x0_5, ...).
        any_builder: The variant is any torchvision classifier's builder name (TorchvisionBackbone).
    """

    name: str
    module: str
    variants: Mapping[str, str] = field(default_factory=dict)
    scales: Mapping[str, str] = field(default_factory=dict)
    any_builder: bool = False

    @property
    def arg_names(self) -> tuple[str, ...]:
        """The row's args, in YAML order; the last, weights, is optional (DEFAULT)."""
        if self.any_builder:
            return ("builder", "tap", "weights")
        return ("tap", "weights") if len(self.variants) == 1 else ("variant", "tap", "weights")

    @property
    def builders(self) -> tuple[str, ...]:
        """The torchvision builders this family names (none listed for any_builder)."""
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
                raise ValueError(f"{self.name}: builder must be a torchvision classifier's name, got {builder!r}.")
        elif "variant" in values:
            builder = self.builder_for(values["variant"])
        else:
            builder = next(iter(self.variants.values()))
        return RowArgs(builder, values["tap"], values.get("weights", "DEFAULT"))

    def builder_for(self, variant: object) -> str:
        """torchvision's builder for a variant or scale letter; a ValueError naming the valid choices otherwise."""
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


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("MobileNetV2", "ultralytics_light.mobilenetv2", {"1_0": "mobilenet_v2"}),
        Family(
            "ShuffleNetV2",
            "ultralytics_light.shufflenetv2",
            {v: f"shufflenet_v2_{v}" for v in ("x0_5", "x1_0", "x1_5", "x2_0")},
            scales={"n": "x0_5", "s": "x1_0", "m": "x1_5", "l": "x2_0", "x": "x2_0"},
        ),
        Family("TorchvisionBackbone", "ultralytics_light.torchvision_backbone", any_builder=True),
    )
}


def family_class(family: Family) -> type:
    """The row class of a family (imports torch)."""
    from importlib import import_module

    return getattr(import_module(family.module), family.name)
