"""Rebuilding a model from a checkpoint never needs the ImageNet file.

Fine-tuning from `best.pt`, resuming from `last.pt` and DDP workers all rebuild the model from the YAML dict stored in
the checkpoint, then load the checkpoint's weights over it. That YAML still says `DEFAULT`, so the rebuild would read
(or download) ImageNet weights only to overwrite them. Every loaded checkpoint passes through `load_checkpoint`: there
we set the weights of our backbone rows in its YAML to null.
"""

from __future__ import annotations

from types import ModuleType

from ultralytics_light.families import FAMILIES
from ultralytics_light.patches import Patcher


def drop_pretrained(yaml: dict) -> None:
    """Set weights null in the backbone rows of a model YAML dict, in place."""
    for row in yaml.get("backbone", []):
        family = FAMILIES.get(row[2]) if len(row) == 4 else None
        if family is not None:
            row[3] = family.without_pretrained(list(row[3]))


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `tasks.load_checkpoint`, which Ultralytics' model, trainer and exporter import by name."""
    stock = tasks.load_checkpoint

    def load_checkpoint(weight, *args, **kwargs):
        """Load a checkpoint like Ultralytics; its YAML then rebuilds our backbones without ImageNet files."""
        model, ckpt = stock(weight, *args, **kwargs)
        if isinstance(getattr(model, "yaml", None), dict):
            drop_pretrained(model.yaml)
        return model, ckpt

    load_checkpoint.__wrapped__ = stock
    patcher.replace(tasks, "load_checkpoint", load_checkpoint)
