"""The model YAMLs ultralytics-light ships, found by bare name like Ultralytics' own (`yolo11n-mobilenetv2.yaml`)."""

from __future__ import annotations

import re
from pathlib import Path

MODELS_DIR = Path(__file__).parent / "models"
# The scale letter after the version digits, as Ultralytics strips it: yolo11n-mobilenetv2 -> yolo11-mobilenetv2.
SCALE_LETTER = re.compile(r"(\d+)([nslmx])(.+)?$")


def unscaled_name(name: str) -> str:
    """The file name a scaled model name is read from: 'yolov5n-shufflenetv2.yaml' -> 'yolov5-shufflenetv2.yaml'."""
    return SCALE_LETTER.sub(r"\1\3", name)


def model_names() -> list[str]:
    """Names of the YAMLs we ship (each also usable with a scale letter n/s/m/l/x)."""
    return sorted(path.name for path in MODELS_DIR.glob("*.yaml"))


def find_model_yaml(name: str | Path) -> Path | None:
    """Our YAML for a bare model name, scaled or not; None if the name is not ours or is a path."""
    name = Path(name)
    if name.parent != Path("."):
        return None
    for candidate in (name.name, unscaled_name(name.name)):
        path = MODELS_DIR / candidate
        if path.is_file():
            return path
    return None
