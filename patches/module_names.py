"""Make our backbone modules nameable in model YAMLs: `parse_model` looks names up in its own module's globals."""

from types import ModuleType

from ultralytics_light.families import FAMILIES, family_class
from ultralytics_light.patches import Patcher


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Add each family's row class to `ultralytics.nn.tasks` under its name."""
    for family in FAMILIES.values():
        patcher.replace(tasks, family.name, family_class(family))
