"""`yolo train model=<our yaml> pretrained=False` reads no ImageNet file, not even for the model the CLI builds first.

The `yolo` CLI builds `YOLO(model)` before it trains, and training builds the model again (patches/pretrained_arg.py
applies `pretrained` there). That first build would read the ImageNet file, or stop where it is missing (offline),
although training from random weights needs none. So while the CLI runs a command given `pretrained=False`, our rows
build from random weights.

Applied when `ultralytics.cfg` is imported (the `yolo` script binds its entry point right after), apart from the
all-or-nothing patches of `ultralytics.nn.tasks`: it changes nothing but what our own rows read, and if the entry
point is not what we expect it is left alone, and one warning says which feature is off.
"""

from __future__ import annotations

import functools
import sys
from types import ModuleType

from ultralytics_light.backbone_init import pretrained
from ultralytics_light.patches import applied, feature_off


def pretrained_argument(cfg: ModuleType, args: list[str]) -> object:
    """The value of `pretrained=` among CLI arguments, as Ultralytics reads it (True when absent)."""
    merge = getattr(cfg, "merge_equals_args", lambda args: args)  # `pretrained = False` -> `pretrained=False`
    for arg in merge(args):
        key, sep, value = arg.lstrip("-").partition("=")
        if sep and key == "pretrained":
            return cfg.smart_value(value)
    return True


def apply(cfg: ModuleType) -> None:
    """Wrap `cfg.entrypoint`, the `yolo` command."""
    stock = getattr(cfg, "entrypoint", None)
    if hasattr(stock, "__wrapped__"):
        return  # already wrapped
    if not callable(stock) or not callable(getattr(cfg, "smart_value", None)):
        return feature_off(
            "cli_pretrained",
            "`pretrained=False` on the yolo command line for the model the command builds first",
            "ultralytics.cfg has no entrypoint and smart_value as we know them, so `yolo train ... pretrained=False` "
            "reads the ImageNet file (or stops offline) before training, which itself starts from random weights",
        )

    @functools.wraps(stock)
    def entrypoint(debug: str = ""):
        try:
            args = (debug.split(" ") if debug else getattr(cfg, "ARGV", sys.argv))[1:]
            enabled = pretrained_argument(cfg, args) is not False
        except Exception:  # never let our reading of the arguments stop the command
            enabled = True
        with pretrained(enabled):
            return stock(debug)

    cfg.entrypoint = entrypoint
    applied("cli_pretrained")
