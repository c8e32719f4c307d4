"""Cut a torchvision classifier into the stages that end at strides 8, 16 and 32, found from the model itself.

A shape-only pass (on the meta device, nothing computed) runs the classifier's modules in order and records each
output's stride. A module inside which a cut must fall is opened, if it is a plain `nn.Sequential`, and its children
take its place, as deep as needed; that is how `features[:7]` of MobileNetV2 or `trunk_output.block2` of RegNet are
found without a table. Each tap ends at the last module whose output has its stride. The trunk ends at the first
module whose output is not such a feature map (pooling, flatten, a transformer's token sequence).

Torchvision's classifiers end their trunk with a 1x1 convolution that widens the last stage for the classifier
(MobileNetV2 320 -> 1280, ShuffleNetV2 464 -> 1024, EfficientNet, MobileNetV3, MNASNet); it is left out of P5.

Stages are `nn.Sequential`s whose children keep torchvision's names (a sliced container becomes a Sequential of the
slice, with the same names), so the state-dict keys of the three stages together are torchvision's own.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from typing import NamedTuple

import torch
from torch import nn

from ultralytics_light.families import TAPS

STRIDES = dict(zip(TAPS, (8, 16, 32)))
PROBE = (256, 192)  # height, width: non-square, so a transposed or channels-last output is not taken for a map
EXPANSION_LAYERS = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.GELU)


class NotAPyramidError(ValueError):
    """A classifier that cannot be cut into sequential stages ending at strides 8, 16 and 32."""


class Unit(NamedTuple):
    """A module of the trunk at the granularity the cuts need, by its path from the model, with its output."""

    path: tuple[str, ...]
    module: nn.Module
    stride: int
    channels: int


@contextlib.contextmanager
def no_init():
    """Skip torch.nn.init's in-place initializers (a shape-only model never reads its values)."""
    initializers = {name: f for name, f in vars(nn.init).items() if name.endswith("_") and callable(f)}
    try:
        for name in initializers:
            setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, f in initializers.items():
            setattr(nn.init, name, f)


def shape_only_model(builder: str) -> nn.Module:
    """torchvision's `builder` on the meta device: no memory, nothing computed."""
    from torchvision.models import get_model

    try:
        with torch.device("meta"):
            return get_model(builder, weights=None)
    except NotImplementedError:  # RegNet computes its layout with tensors, which meta tensors cannot give back
        with no_init():
            return get_model(builder, weights=None).to("meta")


def feature_stride(x: torch.Tensor) -> int | None:
    """The stride of a (1, C, H, W) feature map of the probe image; None for anything else."""
    if x.dim() != 4 or x.shape[-2] == 0 or PROBE[0] % x.shape[-2] or PROBE[1] % x.shape[-1]:
        return None
    stride = PROBE[0] // x.shape[-2]
    return stride if stride == PROBE[1] // x.shape[-1] and stride < min(PROBE) else None


def is_plain_sequential(module: nn.Module) -> bool:
    """A container whose forward is exactly its children in order, so it may be cut."""
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward and len(module) > 1


def trunk(model: nn.Module) -> list[Unit]:
    """The classifier's modules in forward order, opened where a cut falls inside, up to the end of its trunk."""
    units: list[Unit] = []

    def walk(parent: nn.Module, prefix: tuple[str, ...], x: torch.Tensor, stride: int) -> tuple[torch.Tensor, bool]:
        for name, child in parent.named_children():
            try:
                y = child(x)
            except Exception:  # e.g. a transformer encoder given a feature map: the trunk of maps ends here
                return x, False
            out = feature_stride(y) if isinstance(y, torch.Tensor) else None
            if out is None or out < stride:
                return x, False
            cut_inside = any(stride < s < out for s in STRIDES.values())
            if cut_inside and is_plain_sequential(child):
                y, complete = walk(child, (*prefix, name), x, stride)
                if not complete:
                    return y, False
            else:
                units.append(Unit((*prefix, name), child, out, y.shape[1]))
            x, stride = y, out
        return x, True

    with torch.no_grad():
        walk(model.eval(), (), torch.empty(1, 3, *PROBE, device=next(model.parameters()).device), 1)
    return units


def is_expansion(unit: Unit) -> bool:
    """A 1x1 convolution (with its norm and activation) at the end of the trunk, there for the classifier."""
    layers = [unit.module] if not isinstance(unit.module, nn.Sequential) else list(unit.module.children())
    convs = [m for m in layers if isinstance(m, nn.Conv2d)]
    return all(isinstance(m, EXPANSION_LAYERS) for m in layers) and all(c.kernel_size == (1, 1) for c in convs)


def stage_units(model: nn.Module, name: str = "") -> dict[str, list[Unit]]:
    """For each tap, the trunk's units that compute it from the previous tap; NotAPyramidError if there are none."""
    name = name or type(model).__name__
    if hasattr(model, "transform_input"):  # GoogLeNet, Inception v3
        raise NotAPyramidError(
            f"{name} re-normalizes its input inside its forward (transform_input) and branches off auxiliary "
            f"classifiers, so it cannot be cut into sequential stages."
        )
    units = trunk(model)
    strides = [unit.stride for unit in units]
    missing = [s for s in STRIDES.values() if s not in strides]
    if missing:
        reached = ", ".join(f"{'.'.join(u.path)}: {u.stride}" for u in units) or "none"
        raise NotAPyramidError(
            f"{name} has no sequential stages ending at stride {' and '.join(map(str, missing))} (its modules in "
            f"order, with the stride of their output maps: {reached})."
        )
    ends = [max(i for i, s in enumerate(strides) if s == STRIDES[tap]) + 1 for tap in TAPS]
    while ends[2] - ends[1] > 1 and is_expansion(units[ends[2] - 1]):
        ends[2] -= 1
    starts = [0, *ends[:2]]
    return {tap: units[start:end] for tap, start, end in zip(TAPS, starts, ends)}


def nest(units: list[Unit], model: nn.Module) -> OrderedDict[str, nn.Module]:
    """Units as named children: whole modules under their own names, slices of a container as a Sequential of the
    slice under the container's name (recursively), so that every state-dict key stays torchvision's."""
    children: OrderedDict[str, list[Unit]] = OrderedDict()
    for unit in units:
        children.setdefault(unit.path[0], []).append(unit)
    nested = OrderedDict()
    for name, group in children.items():
        child = getattr(model, name)
        if len(group) == 1 and len(group[0].path) == 1:
            nested[name] = child
        else:
            inner = [Unit(u.path[1:], u.module, u.stride, u.channels) for u in group]
            nested[name] = nn.Sequential(nest(inner, child))
    return nested


def check_sequential(model: nn.Module, cut: dict[str, OrderedDict[str, nn.Module]], name: str = "") -> None:
    """NotAPyramidError unless the stages, run one after another, compute what the classifier itself computes at the
    end of P5 (a classifier that transforms its input or branches in its forward cannot be cut)."""
    last = list(cut["P5"].values())[-1]
    while isinstance(last, nn.Sequential) and type(last) is nn.Sequential:
        last = last[-1]
    captured = []
    hook = last.register_forward_hook(lambda module, args, output: captured.append(output))
    training = model.training
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    try:
        with torch.no_grad():
            model.eval()(x)
            y = x
            for modules in cut.values():
                for module in modules.values():
                    y = module(y)
    finally:
        hook.remove()
        model.train(training)
    if not captured or not torch.allclose(captured[0], y, rtol=1e-4, atol=1e-5):
        raise NotAPyramidError(
            f"{name or type(model).__name__}: its modules run in order do not compute what its own forward does "
            f"(it transforms its input or branches), so it cannot be cut into sequential stages."
        )
