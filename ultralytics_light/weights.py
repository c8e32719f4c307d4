"""Weights specs of our backbone rows, resolved through torchvision's own weights enums and hub cache."""

from __future__ import annotations

from pathlib import Path
from urllib.error import URLError

from torch import nn


class WeightsNotAvailableError(RuntimeError):
    """Pretrained weights were asked for, but the file is neither cached nor downloadable."""


def weights_tags(builder: str) -> list[str]:
    """The tags torchvision knows for a builder, aliases included: ['DEFAULT', 'IMAGENET1K_V1', ...]."""
    from torchvision.models import get_model_weights

    return sorted(get_model_weights(builder).__members__)


def check_weights(owner: str, builder: str, weights: str | None) -> None:
    """Raise a ValueError naming the valid choices unless `weights` is a torchvision tag of `builder` or None."""
    tags = weights_tags(builder)
    if weights is not None and weights not in tags:
        raise ValueError(
            f"{owner}: unknown weights {weights!r} for torchvision's {builder}; use one of {tags}, "
            f"or null to start from random weights."
        )


def build_torchvision_model(builder: str, weights: str | None) -> nn.Module:
    """torchvision's `builder` model, with its `weights` tag loaded from the hub cache (downloaded if missing)."""
    import torch
    from torchvision.models import get_model, get_model_weights

    model = get_model(builder, weights=None)
    if weights is None:
        return model
    entry = get_model_weights(builder)[weights]
    try:
        state_dict = entry.get_state_dict(progress=True, check_hash=True)
    except (URLError, OSError) as error:
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        file_name = entry.url.rsplit("/", 1)[-1]
        raise WeightsNotAvailableError(
            f"ImageNet weights {type(entry).__name__}.{entry.name} for {builder} are not in the cache and could "
            f"not be downloaded ({error}).\n"
            f"  looked for: {cache / file_name}\n"
            f"  download:   {entry.url}\n"
            f"Put that file in {cache} (set TORCH_HOME to move the cache), or train from scratch with weights null "
            f"in the model YAML's backbone rows."
        ) from None
    model.load_state_dict(state_dict)
    return model
