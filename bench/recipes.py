"""Fine-tuning recipe trials: each setting against the plain recipe, one at a time, on the ImageNet-pretrained model.

Every trial is a `bench-accuracy` run of one model (default: yolo11n-lite-mobilenetv2.yaml, no from-scratch twin) at
the same epochs, image size and seeds, with settings changed from the plain recipe: Ultralytics' defaults
(optimizer=auto, which picks AdamW for runs this short, nbs=64, warmup_epochs=3); the last trial is bench-accuracy's
own recipe. Settings that are `yolo train` arguments are passed as such; the two that need code (BatchNorm statistics
frozen, as mmdet's norm_eval, and unfreezing the backbone after K epochs) are Ultralytics callbacks, added for that
trial only. Writes recipes.md (setting, mAP50, mAP50-95, ratio to plain, ± half the seed-to-seed range) and leaves
every run under --project, so a rerun resumes.

    python -m bench.person_split ../shared/datasets/coco128 build/person
    python -m bench.recipes --data build/person/data.yaml --out bench/recipes.md
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from pathlib import Path

from torch import nn

FREEZE_ROWS = 3  # the backbone rows of our YAMLs: model.0 to model.2
UNFREEZE_EPOCH = 10


def norm_eval(trainer) -> None:
    """Keep the backbone rows' BatchNorm layers in eval mode (running statistics stay ImageNet's)."""
    for row in trainer.model.model[:FREEZE_ROWS]:
        for module in row.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()


def unfreeze_backbone(trainer) -> None:
    """At epoch UNFREEZE_EPOCH, train the rows that `freeze=3` froze."""
    if trainer.epoch == UNFREEZE_EPOCH:
        for name, parameter in trainer.model.named_parameters():
            if parameter.dtype.is_floating_point and ".dfl" not in name:
                parameter.requires_grad = True
        trainer.freeze_layer_names = [".dfl"]


# Ultralytics' defaults, which bench-accuracy's recipe changes
PLAIN = {"optimizer": "auto", "lr0": 0.01, "nbs": 64, "warmup_epochs": 3}
# key: (what the table calls it, yolo train arguments on top of PLAIN, {callback event: function})
TRIALS: dict[str, tuple[str, dict, dict[str, Callable]]] = {
    "plain": ("plain (Ultralytics' defaults)", {}, {}),
    "sgd": ("optimizer=SGD lr0=0.01", {"optimizer": "SGD", "lr0": 0.01}, {}),
    "nbs16": ("nbs=16 (no gradient accumulation at batch 16)", {"nbs": 16}, {}),
    "warmup0": ("warmup_epochs=0 (no learning-rate warm-up)", {"warmup_epochs": 0}, {}),
    "shipped": ("nbs=16 warmup_epochs=0 (bench-accuracy's recipe)", {"nbs": 16, "warmup_epochs": 0}, {}),
    "freeze": (f"freeze={FREEZE_ROWS} (backbone frozen throughout)", {"freeze": FREEZE_ROWS}, {}),
    "unfreeze": (
        f"freeze={FREEZE_ROWS}, unfrozen at epoch {UNFREEZE_EPOCH}",
        {"freeze": FREEZE_ROWS},
        {"on_train_epoch_start": unfreeze_backbone},
    ),
    "norm_eval": ("norm_eval (backbone BatchNorm statistics frozen)", {}, {"on_train_batch_start": norm_eval}),
}


def run_trial(key: str, common: list[str], project: Path) -> dict:
    """One bench-accuracy run with `args` on top of `common`, `callbacks` added to every trainer; its CSV row."""
    from ultralytics.utils.callbacks.base import default_callbacks

    from ultralytics_light.accuracy import benchmark, parse

    _, args, callbacks = TRIALS[key]
    folder = project / key
    argv = [*common, *(f"{k}={v}" for k, v in {**PLAIN, **args}.items()), f"project={folder}"]
    for event, callback in callbacks.items():
        default_callbacks[event].append(callback)
    try:
        if benchmark(*parse(argv)) != 0:
            raise RuntimeError(f"trial {key!r} failed")
    finally:
        for event, callback in callbacks.items():
            default_callbacks[event].remove(callback)
    with open(folder / "accuracy.csv") as f:
        return next(csv.DictReader(f))


def main(argv: list[str] | None = None) -> None:
    from ultralytics_light.accuracy import parse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--model", default="yolo11n-lite-mobilenetv2.yaml")
    parser.add_argument("--trials", nargs="+", choices=list(TRIALS), default=list(TRIALS))
    parser.add_argument("--project", type=Path, default=Path("build/recipes"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "recipes.md")
    parser.add_argument("common", nargs="*", help="KEY=VALUE for every trial (bench-accuracy's; default seeds=0,1)")
    args = parser.parse_args(argv)
    common = [f"data={args.data}", f"models={args.model}", "scratch_twin=False", "seeds=0,1", "runs=2", "warmup=0"]
    common += args.common
    rows = {key: run_trial(key, common, args.project.resolve()) for key in args.trials}
    plain = rows.get("plain")
    options, recipe = parse(common)
    recipe = " ".join(f"{k}={v}" for k, v in recipe.items() if k not in PLAIN)
    seeds = ",".join(map(str, options["seeds"]))
    plain_args = " ".join(f"{k}={v}" for k, v in PLAIN.items())
    lines = [
        f"Recipe trials on `{args.model}`, data `{args.data}`, seeds {seeds}, mAP on the val split after the last "
        f"epoch. Every trial: {recipe}, then Ultralytics' defaults ({plain_args}) with the setting changed. ± is half "
        "the seed-to-seed range.",
        "",
        "| setting | mAP50 | mAP50-95 | mAP50 ÷ plain |",
        "|---|---|---|---|",
    ]
    for key, row in rows.items():
        ratio = f"{float(row['map50']) / float(plain['map50']):.2f}" if plain and float(plain["map50"]) else ""
        cells = [f"{float(row[m]):.3f} ± {float(row[f'{m}_spread']) / 2:.3f}" for m in ("map50", "map50_95")]
        lines.append(f"| {TRIALS[key][0]} | {cells[0]} | {cells[1]} | {ratio} |")
    args.out.write_text("# Fine-tuning recipe trials\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
