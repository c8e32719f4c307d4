"""What `bench-accuracy` compares our models against: the stock checkpoints a user would otherwise fine-tune.

A user of Ultralytics fine-tunes a COCO-pretrained release (`yolo26n.pt`, `yolo11n.pt`), which Ultralytics finds in the
working directory or its weights folder, or downloads. Where it cannot be had (offline), the reference is the same
architecture trained from scratch, and the table says so: never a silent substitute.
"""

from __future__ import annotations

import re
from pathlib import Path

REFERENCES = ("yolo26n.pt", "yolo11n.pt")  # the default list's references, the first present is the ratio's
NO_COCO = "scratch: no COCO checkpoint here"
RELEASE_NAME = re.compile(r"yolo(v\d+|\d+)[nsmlx]u?\.pt")  # how Ultralytics names its COCO detection releases


def is_release(model: str) -> bool:
    """Whether `model` is the bare name of a checkpoint Ultralytics releases (yolo26n.pt, yolo11n.pt, ...)."""
    if Path(model).name != model:
        return False
    try:
        from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES
    except ImportError:  # a release that renamed its list: judge by the name, which is what that list holds
        return RELEASE_NAME.fullmatch(model) is not None
    return model in GITHUB_ASSETS_NAMES


def release_checkpoint(model: str) -> tuple[Path | None, str]:
    """(path, '') of the released checkpoint `model`, found or downloaded as `YOLO(model)` finds it; (None, why) where
    it cannot be had here."""
    try:
        from ultralytics.utils.downloads import attempt_download_asset

        path = Path(attempt_download_asset(model))
    except Exception as error:  # offline, refused, or a release without this function: any failure means "not here"
        return None, str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (path, "") if path.is_file() else (None, f"{model} was neither found nor downloaded")


def checkpoint_is_ours(path: Path) -> bool:
    """Whether a checkpoint's model has backbone rows of ours (else it is a stock architecture: a reference)."""
    import torch

    from ultralytics_light.families import drop_pretrained

    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    model = checkpoint.get("ema") or checkpoint.get("model")
    yaml = getattr(model, "yaml", None)
    return isinstance(yaml, dict) and drop_pretrained(dict(yaml, backbone=[list(row) for row in yaml["backbone"]]))
