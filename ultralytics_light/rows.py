"""The row classes of the families in families.py that live here, made from their declarations.

Ultralytics' parser finds a YAML module by its class, and checkpoints pickle each row by its class's path
(`ultralytics_light.rows.MobileNetV3`), so every family needs a class; all it adds is its family.
"""

from __future__ import annotations

from ultralytics_light.backbone import TorchvisionStage
from ultralytics_light.families import FAMILIES

for _family in FAMILIES.values():
    if _family.module == __name__:
        globals()[_family.name] = type(
            _family.name,
            (TorchvisionStage,),
            {"family": _family, "__module__": __name__, "__qualname__": _family.name, "__doc__": _family.doc},
        )
