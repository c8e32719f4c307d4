"""Find our model YAMLs by bare name from any working directory, and read the scale from the file name only.

Stock `yaml_model_load` searches bare names only inside the ultralytics package, and strips the scale letter with a
regex over the whole path, so a folder such as `runs2s/` breaks a path to a scaled name. Our version handles our
bare names and local files itself, and leaves everything else (Ultralytics' own names) to the stock function.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from ultralytics_light.cfg import find_model_yaml, model_names, unscaled_name


def local_or_shipped_yaml(path: Path) -> Path | None:
    """The file to read for `path`: the file itself, its unscaled sibling, or our shipped YAML of that name."""
    for candidate in (path, path.with_name(unscaled_name(path.name))):
        if candidate.is_file():
            return candidate
    return find_model_yaml(path)


def apply(tasks: ModuleType) -> None:
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
        d = tasks.YAML.load(yaml_file)
        d["scale"] = tasks.guess_model_scale(path)
        d["yaml_file"] = str(path)
        return d

    yaml_model_load.__wrapped__ = stock
    tasks.yaml_model_load = yaml_model_load
