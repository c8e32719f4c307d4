"""Weights of our backbone rows: a torchvision tag (through torchvision's enums and hub cache), a file, or None.

Tags resolve to the files torchvision itself caches under `torch.hub.get_dir()/checkpoints` (so TORCH_HOME moves
them); a missing file is downloaded with torchvision's progress bar and hash check. Nothing here ever falls back to
random weights: a file that cannot be had or read is an error that says what to do.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Mapping
from urllib.error import URLError
from urllib.parse import urlparse

import torch
from torch import nn

IMPORT_COMMAND = "ultralytics-light weights import"


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights were asked for, but their file is neither cached nor downloadable."""


class WeightsFileError(ValueError):
    """A weights file exists but is not a state dict of the backbone it is meant for."""


def weights_enum(builder: str):
    """torchvision's weights enum of a builder, e.g. MobileNet_V2_Weights."""
    from torchvision.models import get_model_weights

    return get_model_weights(builder)


def weights_tags(builder: str) -> list[str]:
    """The tags torchvision knows for a builder, aliases included: ['DEFAULT', 'IMAGENET1K_V1', ...]."""
    return sorted(weights_enum(builder).__members__)


def is_weights_path(weights: object) -> bool:
    """Whether a weights spec names a file rather than a tag: it has a folder or a .pth/.pt suffix."""
    return isinstance(weights, (str, os.PathLike)) and (
        os.sep in str(weights) or "/" in str(weights) or Path(weights).suffix in {".pth", ".pt"}
    )


def check_weights(owner: str, builder: str, weights: object) -> None:
    """A ValueError naming the valid choices unless `weights` is a tag of `builder`, an existing file, or None."""
    if weights is None or (isinstance(weights, str) and weights in weights_tags(builder)):
        return
    if is_weights_path(weights):
        if not Path(weights).expanduser().is_file():
            raise ValueError(f"{owner}: weights file {str(weights)!r} does not exist.")
        return
    raise ValueError(
        f"{owner}: unknown weights {weights!r} for torchvision's {builder}; use one of {weights_tags(builder)}, "
        f"a path to a .pth state dict, or null to start from random weights."
    )


def cache_dir() -> Path:
    """Where torchvision keeps downloaded weights: torch.hub.get_dir()/checkpoints."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_file(entry) -> Path:
    """The cache path of a torchvision weights entry, named as torch.hub names it (the URL's file name)."""
    return cache_dir() / os.path.basename(urlparse(entry.url).path)


def resolve_tag(builder: str, tag: str):
    """The torchvision weights entry for a tag.

    'DEFAULT' means the best ImageNet weights at hand: torchvision's DEFAULT if cached, else another cached tag of
    the same builder (newest first, with a warning that says so), else torchvision's DEFAULT, to be downloaded.
    """
    enum = weights_enum(builder)
    entry = enum[tag]
    if tag != "DEFAULT" or cached_file(entry).is_file():
        return entry
    cached = [other for other in reversed(list(enum)) if cached_file(other).is_file()]
    if not cached:
        return entry
    warn_once(
        f"{builder}: torchvision's DEFAULT weights ({entry.name}, {cached_file(entry).name}) are not cached; using "
        f"the cached {cached[0].name} ({cached_file(cached[0])}). Run 'ultralytics-light weights fetch "
        f"variant={builder}' to get {entry.name}."
    )
    return cached[0]


def copy_atomically(source: Path, target: Path) -> None:
    """Copy `source` to `target` through a temporary file beside it, so that a cache never holds half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copyfile(source, partial)
    partial.replace(target)


@lru_cache(maxsize=None)
def warn_once(message: str) -> None:
    """Log a warning through Ultralytics' logger, once per process (a model has three rows per backbone)."""
    from ultralytics.utils import LOGGER

    LOGGER.warning(message)


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A state dict read from a file, or a WeightsFileError naming the file and what is wrong with it."""
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for truncated/corrupt files; all mean the same to a user
        raise WeightsFileError(
            f"{path} cannot be read as a PyTorch state dict ({type(error).__name__}: {str(error).splitlines()[0]}). "
            f"It is probably truncated or corrupt: delete it and fetch or import it again."
        ) from None
    if not isinstance(state_dict, Mapping) or not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise WeightsFileError(
            f"{path} is not a state dict (a mapping of names to tensors): it holds a {type(state_dict).__name__}."
        )
    return state_dict  # as loaded: its `_metadata` carries module versions (MNASNet's load needs them)


def state_dict_mismatch(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> str:
    """'' if `state_dict` fits `model` exactly; otherwise its missing and unexpected keys and shape mismatches."""

    def first(items: list[str]) -> str:
        return ", ".join(items[:5]) + (f" … ({len(items)} in all)" if len(items) > 5 else "")

    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    shapes = [
        f"{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    problems = [
        f"{label}: {first(items)}"
        for label, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches (file vs model)", shapes),
        )
        if items
    ]
    return "; ".join(problems)


def load_checked(model: nn.Module, builder: str, state_dict: Mapping[str, torch.Tensor], source: object) -> None:
    """Load a state dict into torchvision's `builder` model, or a WeightsFileError naming the file and the mismatch."""
    mismatch = state_dict_mismatch(model, state_dict)
    if mismatch:
        raise WeightsFileError(f"{source} is not a state dict of torchvision's {builder}: {mismatch}.")
    model.load_state_dict(state_dict)


def download(entry, builder: str) -> dict[str, torch.Tensor]:
    """Download a tag's file into the cache as torchvision does (progress bar, hash check) and return its tensors.

    torch.hub's loader, which `entry.get_state_dict` wraps: before torchvision 0.16 that wrapper takes no `check_hash`.
    """
    try:
        return torch.hub.load_state_dict_from_url(entry.url, progress=True, check_hash=True)
    except (URLError, OSError) as error:
        raise WeightsNotAvailableError(not_available_message(entry, builder, error)) from None


def not_available_message(entry, builder: str, error: Exception) -> str:
    """Everything a user offline needs: what is missing, where it was looked for, where to get it, what else to do."""
    file = cached_file(entry)
    return (
        f"ImageNet weights {type(entry).__name__}.{entry.name} for {builder} are not cached and could not be "
        f"downloaded ({error}).\n"
        f"  file:      {file.name}\n"
        f"  looked in: {file.parent} (set TORCH_HOME to use another cache)\n"
        f"  get it:    {entry.url}\n"
        f"Then put it in the cache with: {IMPORT_COMMAND} file=/path/to/{file.name}\n"
        f"Or train from scratch, reading no ImageNet file: yolo train ... pretrained=False"
    )


def build_torchvision_model(builder: str, weights: str | os.PathLike | None) -> tuple[nn.Module, str | None]:
    """torchvision's `builder` model with `weights` loaded exactly, and a description of where they came from."""
    from torchvision.models import get_model

    model = get_model(builder, weights=None)
    if weights is None:
        return model, None
    if is_weights_path(weights):
        path = Path(weights).expanduser()
        load_checked(model, builder, read_state_dict(path), path)
        return model, str(path)
    entry = resolve_tag(builder, weights)
    file = cached_file(entry)
    state_dict = read_state_dict(file) if file.is_file() else download(entry, builder)
    load_checked(model, builder, state_dict, file)
    return model, entry.name
