"""Make our backbone modules nameable in model YAMLs: `parse_model` looks names up in its own module's globals."""

from types import ModuleType

from ultralytics_light.mobilenetv2 import MobileNetV2
from ultralytics_light.patches import Patcher
from ultralytics_light.shufflenetv2 import ShuffleNetV2

MODULES = (MobileNetV2, ShuffleNetV2)


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Add each module to `ultralytics.nn.tasks` under its class name."""
    for module in MODULES:
        patcher.replace(tasks, module.__name__, module)
