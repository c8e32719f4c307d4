"""Which runs `bench-accuracy` makes: each model, its from-scratch twin, and its distilled twins, at each seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ultralytics_light.accuracy.references import (
    NO_COCO,
    REFERENCES,
    checkpoint_is_ours,
    is_release,
    release_checkpoint,
)


@dataclass(frozen=True)
class Variant:
    """One way a model is trained: what it is built from, where its backbone starts, and what it learns from.

    Args:
        model: What YOLO() is given: a YAML name or path, or a .pt checkpoint.
        name: The architecture's name in the table, e.g. 'yolo11n-lite-mobilenetv2'; its twins share it.
        init: Where the backbone starts: 'ImageNet', 'COCO', 'scratch', 'scratch (no ImageNet file)' or 'checkpoint'.
        pretrained: Ultralytics' `pretrained` for its runs: False trains our backbone rows from random weights.
        scratch_twin: Whether it is the from-random-weights twin of the same model started from ImageNet.
        reference: Whether it is a stock architecture (no backbone rows of ours): what a user would otherwise pick.
        note: Said after the name in the table, e.g. 'scratch: no COCO checkpoint here'.
        teacher: The label of the fine-tuned model it distils from (`distill_model=`); empty for none.
        distill_args: The distillation settings passed for its runs (e.g. (('dis', 1.0),)); named in its label.
    """

    model: str
    name: str
    init: str
    pretrained: bool = True
    scratch_twin: bool = False
    reference: bool = False
    note: str = ""
    teacher: str = ""
    distill_args: tuple[tuple[str, object], ...] = ()

    @property
    def label(self) -> str:
        """How the table names it: 'NAME (scratch)', 'NAME (distilled from TEACHER, dis=1.0)', 'yolo26n (NOTE)'."""
        notes = ["scratch"] * self.scratch_twin + [self.note] * bool(self.note)
        settings = "".join(f", {key}={value}" for key, value in self.distill_args)
        notes += [f"distilled from {self.teacher}{settings}"] * bool(self.teacher)
        return self.name + "".join(f" ({note})" for note in notes)

    @property
    def slug(self) -> str:
        """Its runs' folder name before the seed: a started and a scratch reference, or two teachers, never share."""
        parts = [self.name.replace("/", "-")] + ["coco"] * (self.init == "COCO") + ["scratch"] * self.scratch_twin
        parts += [f"distilled-from-{self.teacher.replace('/', '-').replace(' ', '')}"] * bool(self.teacher)
        parts += [f"{key}{value}" for key, value in self.distill_args]
        return "-".join(parts)


@dataclass(frozen=True)
class Run:
    """One training run: a variant at a seed, in its own Ultralytics save directory.

    Args:
        variant: What trains.
        seed: Its training seed.
        folder: Its Ultralytics save directory.
        teacher: The fine-tuned teacher's best.pt it distils from, for a distilled variant.
    """

    variant: Variant
    seed: int
    folder: Path
    teacher: Path | None = None


def default_models() -> list[str]:
    """The lite head of every shipped detect family at scale n, then the COCO-pretrained yolo26n.pt and yolo11n.pt."""
    from ultralytics_light.cfg import model_names

    lite = [name for name in model_names() if name.startswith("yolo11-lite-")]
    return [name.replace("-", "n-", 1) for name in lite] + list(REFERENCES)


def our_rows(yaml: dict) -> tuple[bool, bool]:
    """(whether a model YAML dict has backbone rows of ours, whether any of them loads pretrained weights)."""
    from ultralytics_light.families import drop_pretrained

    copy = json.loads(json.dumps(yaml))
    ours = drop_pretrained(copy)
    return ours, copy != yaml


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
    """How the table names a checkpoint: RUN/best for Ultralytics' runs/…/RUN/weights/best.pt, else its file's stem."""
    in_run = path.parent.name == "weights" and (path.parents[1] / "args.yaml").is_file()
    return f"{path.parents[1].name}/{path.stem}" if in_run else path.stem


def run_folder(project: Path, slug: str, seed: int) -> Path:
    """Where a run trains, e.g. project/yolo11n-lite-mobilenetv2-scratch-seed0 for the twin at seed 0."""
    return project / f"{slug}-seed{seed}"


def reference_variant(model: str) -> Variant:
    """A stock checkpoint as a reference: a released one from COCO (or its YAML from scratch, said so, where the
    checkpoint cannot be had here), any other .pt as the checkpoint it is."""
    if is_release(model):
        stem = Path(model).stem
        path, why = release_checkpoint(model)
        if path is not None:
            return Variant(str(path), stem, "COCO", reference=True)
        print(f"{stem}: no COCO checkpoint here, so this reference trains {stem}.yaml from scratch ({why})")
        return Variant(f"{stem}.yaml", stem, "scratch", reference=True, note=NO_COCO)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"bench-accuracy: {model} not found. Give a checkpoint's path, or a model YAML.")
    return Variant(model, checkpoint_label(path), "checkpoint", reference=not checkpoint_is_ours(path))


def variants(models: list[str], twins: bool, skip_missing: bool = False) -> list[Variant]:
    """Each model as it starts (from ImageNet where its file is at hand, else from scratch, or left out if
    `skip_missing`), and its scratch twin if `twins`."""
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml

    found = []
    for model in models:
        if model.endswith(".pt"):
            found.append(reference_variant(model))
            continue
        name = Path(model).stem
        source = find_model_yaml(model) or (Path(model) if Path(model).suffix == ".yaml" else None)
        ours, asks = our_rows(YAML.load(source) if source is not None and source.is_file() else {})
        if not asks:
            found.append(Variant(model, name, "scratch", reference=not ours))
            continue
        missing = imagenet_missing(model)
        if missing and skip_missing:
            print(f"{name}: no ImageNet weights here, so it is left out (no_imagenet=skip; {missing})")
            continue
        if missing:
            print(f"{name}: no ImageNet weights here, so it trains from scratch ({missing})")
            found.append(Variant(model, name, "scratch (no ImageNet file)", pretrained=False))
            continue
        found.append(Variant(model, name, "ImageNet"))
        if twins:
            found.append(Variant(model, name, "scratch", pretrained=False, scratch_twin=True))
    return found


def plan(models: list[str], seeds: list[int], twins: bool, project: Path, spread_seeds: list[int] = (),
         skip_missing: bool = False) -> list[Run]:  # fmt: skip
    """Every run, in order: each model (and its from-scratch twin) at each seed; a model without its ImageNet file
    here trains from scratch, or is left out if `skip_missing`.

    The first model that starts from ImageNet (else the first model) also runs at `spread_seeds` (seeds not among
    `seeds`): its seed-to-seed spread is the noise level beside the whole table.
    """
    every = variants(models, twins, skip_missing)
    spread = next((variant for variant in every if variant.init == "ImageNet"), every[0] if every else None)
    return [
        Run(variant, seed, run_folder(project, variant.slug, seed))
        for variant in every
        for seed in seeds + (list(spread_seeds) if variant is spread else [])
    ]
