"""Everything ultralytics-light changes in Ultralytics, applied once `ultralytics.nn.tasks` has been imported.

Each patch is one small module with an `apply(tasks)` function. They are tested against the Ultralytics releases in
SUPPORTED; on any other release none is applied and the user is told why, once.
"""

from __future__ import annotations

from types import ModuleType

SUPPORTED = ">=8.4.0,<8.5"


def unsupported_ultralytics_message(version: str) -> str:
    """The one message a user sees when the installed Ultralytics is outside SUPPORTED."""
    return (
        f"ultralytics-light supports ultralytics{SUPPORTED}, but ultralytics {version} is installed, so its "
        f"MobileNetV2/ShuffleNetV2 models are unavailable. Install a supported release: "
        f"pip install 'ultralytics{SUPPORTED}'"
    )


def is_supported(version: str) -> bool:
    """Whether `version` of Ultralytics is one our patches were written and tested for."""
    from ultralytics.utils.checks import check_version

    return check_version(version, SUPPORTED, name="ultralytics", hard=False, verbose=False)


def apply(tasks: ModuleType) -> None:
    """Patch Ultralytics through its freshly imported task-parser module. Idempotent."""
    if getattr(tasks, "_ultralytics_light_patched", False):
        return
    tasks._ultralytics_light_patched = True  # also marks an unsupported release as handled: warn once

    import ultralytics
    from ultralytics.utils import LOGGER

    if not is_supported(ultralytics.__version__):
        LOGGER.warning(unsupported_ultralytics_message(ultralytics.__version__))
        return

    from ultralytics_light.patches import (
        checkpoint_rebuild,
        declared_channels,
        fuse_backbone,
        model_yaml,
        module_names,
        pretrained_batchnorm,
    )

    module_names.apply(tasks)
    declared_channels.apply(tasks)
    model_yaml.apply(tasks)
    pretrained_batchnorm.apply(tasks)
    checkpoint_rebuild.apply(tasks)
    fuse_backbone.apply(tasks)
