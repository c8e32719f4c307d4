"""Ultralytics' restricted loading (`ULTRALYTICS_SAFE_LOAD=1`, `weights_only=True`) accepts our checkpoints.

Its allow-list admits only classes from torch.nn and Ultralytics; a checkpoint of ours also pickles our backbone
rows and the torchvision (or timm) blocks inside them. We add exactly those classes to the list it builds, nothing
else.
"""

from __future__ import annotations

from types import ModuleType

from ultralytics_light.patches import Patcher, installed_version, target_missing

RESTRICTED_LOADING = "8.4.67"  # the release that brought tasks._SafeLoad


def module_classes(module: ModuleType) -> set[type]:
    """The torch module classes a module defines itself (not those it imports)."""
    import inspect

    from torch import nn

    return {
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, nn.Module) and c.__module__ == module.__name__
    }


def timm_classes() -> set[type]:
    """The module classes timm defines its models and layers with (timm.models.*, timm.layers.*), if timm is
    installed: what a TimmBackbone row pickles. Nothing without timm."""
    import sys

    try:
        import timm  # noqa: F401  (importing timm imports every model module)
    except ImportError:
        return set()
    return {
        c
        for name, module in list(sys.modules.items())
        if name.startswith(("timm.models.", "timm.layers.")) and module is not None
        for c in module_classes(module)
    }


def our_classes() -> list[type]:
    """Our backbone rows, normalization and fused ShuffleNetV2 block (a model saved after `fuse()`), and the module
    classes torchvision builds its classifiers from (the modules that define its classification builders, and
    torchvision.ops' blocks they use)."""
    from importlib import import_module

    from torchvision.models import get_model_builder

    from ultralytics_light.backbone import classifier_builders
    from ultralytics_light.families import FAMILIES, family_class
    from ultralytics_light.interleave import InterleavedInvertedResidual
    from ultralytics_light.normalize import ImageNetNormalize

    names = {get_model_builder(b).__module__ for b in classifier_builders()} | {
        "torchvision.ops.misc",
        "torchvision.ops.stochastic_depth",
    }
    blocks = {c for name in names for c in module_classes(import_module(name))} | timm_classes()
    rows = [family_class(family) for family in FAMILIES.values()]
    blocks = sorted(blocks, key=lambda c: f"{c.__module__}.{c.__qualname__}")
    return [*rows, ImageNetNormalize, InterleavedInvertedResidual, *blocks]


def with_our_classes(allowed: dict | list) -> dict | list:
    """Stock's allow-list plus our classes, in the shape this release builds it: a registry {"module.Name": class}
    (8.4.126 on) or a list for `torch.serialization.safe_globals` (8.4.67 to 8.4.125)."""
    ours = our_classes()
    if isinstance(allowed, dict):
        return {**allowed, **{f"{c.__module__}.{c.__qualname__}": c for c in ours}}
    if isinstance(allowed, list):
        return [*allowed, *ours]
    raise TypeError(f"unknown allow-list type {type(allowed).__name__}")


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Extend `_SafeLoad._build`, which builds the allow-list once per process on the first restricted load."""
    if not hasattr(tasks, "_SafeLoad"):
        return target_missing(  # before it, checkpoints load unrestricted and need nothing
            "safe_load",
            "restricted loading",
            RESTRICTED_LOADING,
            "restricted loading of our checkpoints (ULTRALYTICS_SAFE_LOAD=1)",
            f"ultralytics {installed_version('ultralytics')} has no tasks._SafeLoad, whose allow-list we extend, so "
            "restricted loading may refuse our checkpoints",
        )
    stock_build = tasks._SafeLoad._build.__func__

    def _build(cls) -> dict | list:
        allowed = stock_build(cls)
        try:
            return with_our_classes(allowed)
        except Exception as error:  # runs at load time, long after patching: never fail a stock checkpoint's load
            from ultralytics.utils import LOGGER

            LOGGER.warning(f"ultralytics-light: restricted loading will refuse our checkpoints ({error}).")
            return allowed

    _build.__wrapped__ = stock_build
    patcher.replace(tasks._SafeLoad, "_build", classmethod(_build))
