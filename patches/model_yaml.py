"""Find our model YAMLs by bare name from any working directory, and read the scale from the file name only.

Stock `yaml_model_load` searches bare names only inside the ultralytics package, and strips the scale letter with a
regex over the whole path, so a folder such as `runs2s/` breaks a path to a scaled name. Our version handles our
bare names and local files itself, and leaves everything else (Ultralytics' own names) to the stock function.

It also refuses a model of ours that sets a Detect argument the installed release's Detect cannot take (`reg_max`, the
lite heads; `end2end`, the NMS-free ones: 8.3 has neither), rather than silently building a different head than the
YAML describes.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType

from ultralytics_light.cfg import find_model_yaml, model_names, unscaled_name
from ultralytics_light.families import FAMILIES
from ultralytics_light.patches import NEWEST_VERIFIED, Patcher, installed_version, warn_if_unverified


def local_or_shipped_yaml(path: Path) -> Path | None:
    """The file to read for `path`: the file itself, its unscaled sibling, or our shipped YAML of that name."""
    for candidate in (path, path.with_name(unscaled_name(path.name))):
        if candidate.is_file():
            return candidate
    return find_model_yaml(path)


def uses_our_modules(d: dict) -> bool:
    return any(isinstance(row, list) and len(row) > 2 and row[2] in FAMILIES for row in d.get("backbone") or [])


# The Detect arguments our YAMLs set that Ultralytics' Detect takes only from 8.4.0, and what 8.3's Detect does instead
HEAD_ARGUMENTS = {"reg_max": "always has 16 DFL bins", "end2end": "has no one-to-one (NMS-free) branch"}


class HeadUnsupportedError(ValueError):
    """A model of ours sets a Detect argument (reg_max, end2end) the installed Ultralytics' Detect does not take."""


def check_head_arguments(tasks: ModuleType, d: dict, path: Path) -> None:
    """A HeadUnsupportedError if a model of ours sets a HEAD_ARGUMENTS key this release's Detect has no argument for."""
    if not uses_our_modules(d):
        return
    parameters = inspect.signature(tasks.Detect.__init__).parameters
    missing = [key for key in HEAD_ARGUMENTS if key in d and key not in parameters]
    if missing:
        settings = " and ".join(f"{key}: {d[key]}" for key in missing)
        raise HeadUnsupportedError(
            f"{path.name} sets {settings}, which the Detect head of the installed ultralytics "
            f"{installed_version('ultralytics')} does not take: its Detect "
            f"{' and '.join(HEAD_ARGUMENTS[key] for key in missing)} ({' and '.join(missing)} came in ultralytics "
            f"8.4.0). Use a model without them (the non-lite ones, e.g. yolo11n-mobilenetv2.yaml), or upgrade: "
            f"pip install 'ultralytics>=8.4.0,<={NEWEST_VERIFIED}'"
        )


OURS = {"scale", "yaml_file"}  # the keys our yaml_model_load adds to a YAML's own, as stock's does
SAMPLE = "yolo11.yaml"  # a stock model YAML, to see which keys stock's yaml_model_load adds
_stock_adds: set[str] | None = None


def check_same_keys(stock) -> None:
    """A RuntimeError if stock `yaml_model_load` adds keys to a YAML's own that ours does not (checked once a process,
    when our first model loads): a release that adds one would otherwise build our models from a different dict."""
    global _stock_adds
    if _stock_adds is None:
        from ultralytics.utils import YAML
        from ultralytics.utils.checks import check_yaml

        _stock_adds = set(stock(SAMPLE)) - set(YAML.load(check_yaml(SAMPLE)))
    if _stock_adds - OURS:
        raise RuntimeError(
            f"ultralytics-light cannot load its model YAMLs on ultralytics {installed_version('ultralytics')}: its "
            f"yaml_model_load now adds {', '.join(sorted(_stock_adds - OURS))} to a model's dict, which ours does not "
            f"(it adds {', '.join(sorted(OURS))}). Install a verified release: pip install "
            f"'ultralytics<={NEWEST_VERIFIED}', or report this message to ultralytics-light."
        )


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `tasks.yaml_model_load`; callers that import it from tasks afterwards get the wrapper."""
    stock = tasks.yaml_model_load

    def yaml_model_load(path):
        """Load a model YAML dictionary, like Ultralytics, also finding ultralytics-light's models by bare name."""
        path = Path(path)
        yaml_file = local_or_shipped_yaml(path)
        if yaml_file is None:
            try:
                return stock(path)
            except FileNotFoundError:
                if path.parent != Path("."):
                    raise
                raise FileNotFoundError(
                    f"'{path}' is not a model YAML of ultralytics-light, nor of Ultralytics, nor a file here. "
                    f"ultralytics-light's models (scale n/s/m/l/x after the version, e.g. yolo11n-mobilenetv2.yaml): "
                    f"{', '.join(model_names())}"
                ) from None
        check_same_keys(stock)
        d = tasks.YAML.load(yaml_file)
        if uses_our_modules(d):
            warn_if_unverified()
        check_head_arguments(tasks, d, path)
        d["scale"] = tasks.guess_model_scale(path)
        d["yaml_file"] = str(path)
        return d

    yaml_model_load.__wrapped__ = stock
    patcher.replace(tasks, "yaml_model_load", yaml_model_load)
