"""What our backbone rows start from: Ultralytics' `pretrained=` applied to them, and the log line that says so.

Torch-free at import: the `yolo` CLI's entry point uses it (patches/cli_pretrained.py) before Ultralytics loads torch.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_pretrained = contextvars.ContextVar("ultralytics_light_pretrained", default=True)


@contextmanager
def pretrained(enabled: bool) -> Iterator[None]:
    """Build our backbone rows from their YAML's weights (True, the default) or from random weights, reading no
    ImageNet file (False), inside this block: `with pretrained(False): model = YOLO("yolo11n-lite-mobilenetv2.yaml")`.

    Args:
        enabled: Whether rows load the weights their YAML names.
    """
    token = _pretrained.set(bool(enabled))
    try:
        yield
    finally:
        _pretrained.reset(token)


def pretrained_enabled() -> bool:
    """Whether rows built now load the weights their YAML names."""
    return _pretrained.get()
