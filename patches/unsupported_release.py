"""On an unsupported Ultralytics or torchvision, using our models fails with the version message.

None of the real patches is applied then; only these two small guards, so that `yolo train model=yolov5n-
shufflenetv2.yaml` or a YAML naming our modules stops with that message rather than Ultralytics' "does not exist" or a
KeyError from its parser.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from torch import nn

from ultralytics_light.cfg import find_model_yaml
from ultralytics_light.patches.module_names import MODULES


class UnsupportedReleaseError(RuntimeError):
    """An installed package is outside the releases ultralytics-light supports."""


def apply(tasks: ModuleType, message: str) -> None:
    """Guard `tasks.yaml_model_load` and our module names."""
    stock = tasks.yaml_model_load

    def yaml_model_load(path):
        if find_model_yaml(Path(path)) is not None:
            raise UnsupportedReleaseError(message)
        return stock(path)

    def refuse(self, *args, **kwargs):
        raise UnsupportedReleaseError(message)

    yaml_model_load.__wrapped__ = stock
    tasks.yaml_model_load = yaml_model_load
    for module in MODULES:
        name = module.__name__
        setattr(tasks, name, type(name, (nn.Module,), {"__init__": refuse, "__doc__": message}))
