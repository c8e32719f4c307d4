"""Rebuilding a model from a checkpoint never needs the ImageNet file.

Fine-tuning from `best.pt`, resuming from `last.pt` and DDP workers all rebuild the model from the YAML dict stored in
the checkpoint, then load the checkpoint's weights over it. That YAML still says `DEFAULT`, so the rebuild would read
(or download) ImageNet weights only to overwrite them. Every loaded checkpoint passes through `load_checkpoint`: there
we set the weights of our backbone rows in its YAML to null. A checkpoint of ours loaded on a release newer than every
verified one also warns that it is not verified yet (once per process, as building one of our YAMLs does).
"""

from __future__ import annotations

from types import ModuleType

from ultralytics_light.families import drop_pretrained
from ultralytics_light.patches import Patcher, warn_if_unverified


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `tasks.load_checkpoint`, which Ultralytics' model, trainer and exporter import by name."""
    stock = tasks.load_checkpoint

    def load_checkpoint(weight, *args, **kwargs):
        """Load a checkpoint like Ultralytics; its YAML then rebuilds our backbones without ImageNet files."""
        model, ckpt = stock(weight, *args, **kwargs)
        if isinstance(getattr(model, "yaml", None), dict) and drop_pretrained(model.yaml):
            warn_if_unverified()
        return model, ckpt

    load_checkpoint.__wrapped__ = stock
    patcher.replace(tasks, "load_checkpoint", load_checkpoint)
