"""Where ultralytics-light cannot apply (a release outside SUPPORTED, or a patch that failed), our models refuse.

None of the real patches is applied then; only these two small guards, so that `yolo train model=yolov5n-
shufflenetv2.yaml` or a YAML naming our modules stops with the message the user was warned with, rather than
Ultralytics' "does not exist" or a KeyError from its parser.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from torch import nn

from ultralytics_light.cfg import find_model_yaml
from ultralytics_light.families import FAMILIES
from ultralytics_light.patches import Patcher


class UnsupportedReleaseError(RuntimeError):
    """ultralytics-light cannot work with the installed Ultralytics or torchvision."""


def apply(tasks: ModuleType, patcher: Patcher, message: str) -> None:
    """Guard `tasks.yaml_model_load` and our module names."""
    stock = tasks.yaml_model_load

    def yaml_model_load(path):
        if find_model_yaml(Path(path)) is not None:
            raise UnsupportedReleaseError(message)
        return stock(path)

    def refuse(self, *args, **kwargs):
        raise UnsupportedReleaseError(message)

    yaml_model_load.__wrapped__ = stock
    patcher.replace(tasks, "yaml_model_load", yaml_model_load)
    for name in FAMILIES:
        patcher.replace(tasks, name, type(name, (nn.Module,), {"__init__": refuse, "__doc__": message}))
