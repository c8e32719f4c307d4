"""`ultralytics-light checks`: what a bug report needs, as `yolo checks` gives Ultralytics'."""

from __future__ import annotations

import sys
from pathlib import Path

from ultralytics_light.command import Command


def release_status(version: str) -> str:
    """Where the installed Ultralytics release stands against the verified range."""
    from ultralytics.utils.checks import check_version

    from ultralytics_light.patches import NEWEST_VERIFIED, OLDEST_VERIFIED

    if not check_version(version, f">={OLDEST_VERIFIED}", hard=False, verbose=False):
        return f"older than {OLDEST_VERIFIED}: refused"
    if check_version(version, f">{NEWEST_VERIFIED}", hard=False, verbose=False):
        return f"newer than the newest verified ({NEWEST_VERIFIED}): tried"
    return f"verified ({OLDEST_VERIFIED} to {NEWEST_VERIFIED})"


def timm_line() -> str:
    """timm's version and the hub cache its weights are read from, or how to install it."""
    import importlib.util

    from ultralytics_light import patches
    from ultralytics_light.timm_backbone import INSTALL

    if importlib.util.find_spec("timm") is None:
        return f"timm: not installed, for timm's backbones: {INSTALL}"
    from ultralytics_light.timm_weights import cache_dir

    return f"timm {patches.installed_version('timm')}: weights in the Hugging Face hub cache {cache_dir()}"


def report(_: dict) -> int:
    """Print versions, the release's status, whether our patches applied and each one's state (applied, not needed
    on this release, or a feature of ours that is off, and why), the start-up hook and the weights caches (timm's
    too, where the optional timm is installed)."""
    import ultralytics.cfg  # the yolo command's module: applies cli_pretrained
    import ultralytics.nn.tasks  # noqa: F401  (applies the patches, through the start-up hook or the import below)

    import ultralytics_light
    from ultralytics_light import patches
    from ultralytics_light.weights import cache_dir

    hook = Path(ultralytics_light.__file__).parents[1] / "ultralytics_light.pth"
    cache = cache_dir()
    version = patches.installed_version("ultralytics")
    lines = [
        f"ultralytics-light {ultralytics_light.__version__} ({Path(ultralytics_light.__file__).parent})",
        f"Python {sys.version.split()[0]}, {patches.versions()}",
        f"ultralytics {version}: {release_status(version)}",
        f"patches: {'refused: ' + patches.refusal if patches.refusal else 'applied'}",
        *(f"  {name}: {patches.STATES.get(name, 'not applied')}" for name in (*patches.PATCHES, "cli_pretrained")),
        f"start-up hook: {hook if hook.is_file() else 'missing (editable install: import ultralytics_light first)'}",
        f"weights cache: {cache} ({len(list(cache.glob('*.pth'))) if cache.is_dir() else 0} files)",
        timm_line(),
    ]
    print("\n".join(lines))
    return 1 if patches.refusal else 0


COMMAND = Command(
    ("checks",),
    "Versions, the Ultralytics release's status, whether our patches applied, the weights cache: for bug reports.",
    report,
    examples=("checks",),
)
