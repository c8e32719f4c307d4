"""Which runs `bench-accuracy` makes: each model, and its from-scratch twin, at each seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STOCK = ("yolo11n.yaml", "yolo26n.yaml")  # the default list's stock models; the ratio column uses the first present


@dataclass(frozen=True)
class Variant:
    """One way a model is trained: what it is built from, and where its backbone starts.

    Args:
        model: What YOLO() is given: a YAML name or path, or a .pt checkpoint.
        name: The architecture's name in the table, e.g. 'yolo11n-lite-mobilenetv2'; a scratch twin shares it.
        init: Where the backbone starts: 'ImageNet', 'scratch', 'scratch (no ImageNet file)' or 'checkpoint'.
        pretrained: Ultralytics' `pretrained` for its runs: False trains our backbone rows from random weights.
        scratch_twin: Whether it is the from-random-weights twin of the same model started from ImageNet.
    """

    model: str
    name: str
    init: str
    pretrained: bool = True
    scratch_twin: bool = False

    @property
    def label(self) -> str:
        """How the table names it: a scratch twin is 'NAME (scratch)'."""
        return f"{self.name} (scratch)" if self.scratch_twin else self.name


@dataclass(frozen=True)
class Run:
    """One training run: a variant at a seed, in its own Ultralytics save directory."""

    variant: Variant
    seed: int
    folder: Path


def default_models() -> list[str]:
    """The lite head of every shipped detect family at scale n, then stock yolo11n and yolo26n."""
    from ultralytics_light.cfg import model_names

    lite = [name for name in model_names() if name.startswith("yolo11-lite-")]
    return [name.replace("-", "n-", 1) for name in lite] + list(STOCK)


def asks_for_imagenet(yaml: dict) -> bool:
    """Whether a model YAML dict has backbone rows of ours that load pretrained weights."""
    from ultralytics_light.patches.checkpoint_rebuild import drop_pretrained

    copy = json.loads(json.dumps(yaml))
    drop_pretrained(copy)
    return copy != yaml


def imagenet_missing(name: str) -> str | None:
    """Why `name` cannot start from ImageNet weights here (the file is neither cached nor downloadable), else None."""
    from ultralytics import YOLO

    from ultralytics_light.weights import WeightsNotAvailableError

    try:
        YOLO(name)
    except WeightsNotAvailableError as error:
        return str(error).splitlines()[0]
    return None


def checkpoint_label(path: Path) -> str:
    """How the table names a checkpoint: its run's folder for Ultralytics' runs/…/NAME/weights/best.pt."""
    return f"{path.parents[1].name}/{path.stem}" if path.parent.name == "weights" else path.stem


def run_folder(project: Path, name: str, seed: int, scratch_twin: bool = False) -> Path:
    """Where a run trains, e.g. project/yolo11n-lite-mobilenetv2-scratch-seed0 for the twin at seed 0."""
    return project / f"{name.replace('/', '-')}{'-scratch' if scratch_twin else ''}-seed{seed}"


def variants(models: list[str], twins: bool) -> list[Variant]:
    """Each model as it starts (from ImageNet where its file is at hand), and its scratch twin if `twins`."""
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml

    found = []
    for model in models:
        name = checkpoint_label(Path(model)) if model.endswith(".pt") else Path(model).stem
        source = find_model_yaml(model) or (Path(model) if Path(model).suffix == ".yaml" else None)
        yaml = YAML.load(source) if source is not None and source.is_file() else {}
        if not asks_for_imagenet(yaml):
            found.append(Variant(model, name, "checkpoint" if model.endswith(".pt") else "scratch"))
            continue
        missing = imagenet_missing(model)
        if missing:
            print(f"{name}: no ImageNet weights here, so it trains from scratch ({missing})")
            found.append(Variant(model, name, "scratch (no ImageNet file)", pretrained=False))
            continue
        found.append(Variant(model, name, "ImageNet"))
        if twins:
            found.append(Variant(model, name, "scratch", pretrained=False, scratch_twin=True))
    return found


def plan(models: list[str], seeds: list[int], twins: bool, project: Path, spread_seeds: list[int] = ()) -> list[Run]:
    """Every run, in order: each model (and its from-scratch twin) at each seed.

    The first model that starts from ImageNet (else the first model) also runs at `spread_seeds` (seeds not among
    `seeds`): its seed-to-seed spread is the noise level beside the whole table.
    """
    every = variants(models, twins)
    spread = next((variant for variant in every if variant.init == "ImageNet"), every[0])
    return [
        Run(variant, seed, run_folder(project, variant.name, seed, variant.scratch_twin))
        for variant in every
        for seed in seeds + (list(spread_seeds) if variant is spread else [])
    ]
