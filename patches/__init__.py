"""Everything ultralytics-light changes in Ultralytics, applied once `ultralytics.nn.tasks` has been imported.

Each patch is one small module with an `apply(tasks)` function. They are tested against the Ultralytics releases in
SUPPORTED; on any other release none is applied: the user is warned once, and using our models fails with the
same message (patches/unsupported_release.py).
"""

from __future__ import annotations

from types import ModuleType

SUPPORTED = {"ultralytics": ">=8.4.0,<8.5", "torchvision": ">=0.15"}


def unsupported_message(package: str, version: str) -> str:
    """The one message a user sees when an installed package is outside SUPPORTED."""
    return (
        f"ultralytics-light supports {package}{SUPPORTED[package]}, but {package} {version} is installed, so its "
        f"MobileNetV2/ShuffleNetV2 models are unavailable. Install a supported release: "
        f"pip install '{package}{SUPPORTED[package]}'"
    )


def unsupported_packages() -> list[tuple[str, str]]:
    """(package, installed version) of each package outside the releases our patches were written and tested for."""
    from importlib.metadata import version

    from ultralytics.utils.checks import check_version

    installed = {package: version(package) for package in SUPPORTED}
    return [
        (package, v)
        for package, v in installed.items()
        if not check_version(v, SUPPORTED[package], name=package, hard=False, verbose=False)
    ]


def apply(tasks: ModuleType) -> None:
    """Patch Ultralytics through its freshly imported task-parser module. Idempotent."""
    if getattr(tasks, "_ultralytics_light_patched", False):
        return
    tasks._ultralytics_light_patched = True  # also marks an unsupported release as handled: warn once

    from ultralytics.utils import LOGGER

    unsupported = unsupported_packages()
    if unsupported:
        message = unsupported_message(*unsupported[0])
        LOGGER.warning(message)
        from ultralytics_light.patches import unsupported_release

        unsupported_release.apply(tasks, message)
        return

    from ultralytics_light.patches import (
        checkpoint_rebuild,
        fuse_backbone,
        model_yaml,
        module_names,
        parse_model,
        pretrained_batchnorm,
        safe_load,
    )

    module_names.apply(tasks)
    parse_model.apply(tasks)
    model_yaml.apply(tasks)
    pretrained_batchnorm.apply(tasks)
    checkpoint_rebuild.apply(tasks)
    fuse_backbone.apply(tasks)
    safe_load.apply(tasks)
