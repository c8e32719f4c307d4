"""Which fine-tuning recipe to recommend: optimizer settings tried on data sets that differ in class count and kind.

Every trial is a `bench-accuracy` run of one model (default: yolo11n-lite-mobilenetv2.yaml from ImageNet, no
from-scratch twin) at bench-accuracy's budget (epochs, image size, batch) and two seeds, on each data set:

- person: COCO128's person class, 1 class; objects: its 5 most frequent classes after person; coco80: all 80 classes
  (each 96 train / 32 held-out images, `coco_splits.py`);
- shapes12: the 12-class synthetic set of `shapes.py` (crops of COCO128's photographs as backgrounds), as many images
  as the COCO128 splits, at the training size.

The trials: Ultralytics' defaults (`plain`: optimizer=auto, nbs=64, warmup_epochs=3), and with one optimizer step per
batch and no warm-up (nbs=<batch> warmup_epochs=0) each of optimizer=auto, SGD lr0=0.01 and AdamW lr0=0.001.
Ultralytics' optimizer=auto picks, for runs under 10,000 iterations, AdamW at lr0 = 0.002 · 5 / (4 + classes), so its
learning rate falls as the class count grows: 0.002 for 1 class, 0.00012 for 80. More trials, run with `--trials`:
SGD with a cosine schedule (`sgd_cos`), and one setting at a time changed from the defaults (`nbs16`, `warmup0`,
`freeze`).

Writes recipes.md: a table per data set (mAP50, mAP50-95, ± half the seed-to-seed range, ÷ plain), then, per trial,
the data sets where it is the best by mAP50-95 or within the seed spread of the best (their ranges overlap). Every
run stays under --work, so a rerun resumes where it stopped.

    python -m bench.recipes --coco128 ../shared/datasets/coco128
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.coco_splits import SETS, write_split
from bench.common import bench_accuracy
from bench.shapes import MANY_NAMES, write_shapes_set

FREEZE_ROWS = 3  # the backbone rows of our YAMLs: model.0 to model.2
BATCH = 16  # bench-accuracy's
PLAIN = {"optimizer": "auto", "lr0": 0.01, "nbs": 64, "warmup_epochs": 3}  # Ultralytics' defaults
STEP = {"nbs": BATCH, "warmup_epochs": 0}  # one optimizer step per batch, no warm-up
# key: (what the table calls it, yolo train arguments on top of PLAIN)
TRIALS: dict[str, tuple[str, dict]] = {
    "plain": ("plain (Ultralytics' defaults: optimizer=auto nbs=64 warmup_epochs=3)", {}),
    "auto": (f"optimizer=auto nbs={BATCH} warmup_epochs=0", STEP),
    "sgd": (f"optimizer=SGD lr0=0.01 nbs={BATCH} warmup_epochs=0", {**STEP, "optimizer": "SGD", "lr0": 0.01}),
    "adamw": (f"optimizer=AdamW lr0=0.001 nbs={BATCH} warmup_epochs=0", {**STEP, "optimizer": "AdamW", "lr0": 0.001}),
    "sgd_cos": (
        f"optimizer=SGD lr0=0.01 cos_lr=True nbs={BATCH} warmup_epochs=0",
        {**STEP, "optimizer": "SGD", "lr0": 0.01, "cos_lr": True},
    ),
    "nbs16": (f"nbs={BATCH} alone", {"nbs": BATCH}),
    "warmup0": ("warmup_epochs=0 alone", {"warmup_epochs": 0}),
    "freeze": (f"freeze={FREEZE_ROWS} (backbone frozen throughout)", {"freeze": FREEZE_ROWS}),
}
DEFAULT_TRIALS = ("plain", "auto", "sgd", "adamw")
DATA_SETS = (*SETS, "shapes12")


def write_data(name: str, coco128: Path, folder: Path, imgsz: int) -> Path:
    """The data YAML of set `name`, written under `folder` if not there yet."""
    if name == "shapes12":
        train = len(list((coco128 / "images" / "train2017").glob("*.jpg")))
        return write_shapes_set(folder / name, coco128 / "images" / "train2017", train=train * 3 // 4,
                                val=train // 4, size=imgsz, names=MANY_NAMES)  # fmt: skip
    return write_split(coco128, folder / name, name)


def describe(data: Path) -> str:
    """'N classes, T train / V held-out images' of a data YAML."""
    from ultralytics.utils import YAML

    d = YAML.load(data)
    counts = {part: len(list((data.parent / "images" / part).glob("*.jpg"))) for part in ("train", "val")}
    return f"{len(d['names'])} class{'es' * (len(d['names']) > 1)}, {counts['train']} train / {counts['val']} held-out"


def best_trial(rows: dict[str, dict]) -> dict:
    """The row of a data set's trials with the highest mAP50-95."""
    return max(rows.values(), key=lambda row: float(row["map50_95"]))


def within_spread(row: dict, best: dict) -> bool:
    """Whether a row's mAP50-95 range over its seeds overlaps the best row's."""
    low = float(best["map50_95"]) - float(best["map50_95_spread"]) / 2
    return float(row["map50_95"]) + float(row["map50_95_spread"]) / 2 >= low


def table(rows: dict[str, dict]) -> list[str]:
    """One data set's trials: mAP50 and mAP50-95 with their seed spread, ÷ plain, the best marked."""
    plain, best = rows.get("plain"), best_trial(rows)
    lines = ["| trial | mAP50 | mAP50-95 | mAP50-95 ÷ plain | best or within spread |", "|---|---|---|---|---|"]
    for key, row in rows.items():
        cells = [f"{float(row[m]):.3f} ± {float(row[f'{m}_spread']) / 2:.3f}" for m in ("map50", "map50_95")]
        # blank where plain shows as 0.000: a ratio to (almost) nothing says nothing
        shown = plain and round(float(plain["map50_95"]), 3) > 0
        ratio = f"{float(row['map50_95']) / float(plain['map50_95']):.2f}" if shown else ""
        mark = "best" if row is best else ("yes" if within_spread(row, best) else "")
        lines.append(f"| {TRIALS[key][0]} | {cells[0]} | {cells[1]} | {ratio} | {mark} |")
    return lines


def verdict(results: dict[str, dict[str, dict]]) -> list[str]:
    """Per trial, the data sets where it is the best by mAP50-95 or within the seed spread of the best."""
    lines = ["| trial | best or within the seed spread of the best on |", "|---|---|"]
    best = {name: best_trial(rows) for name, rows in results.items()}
    for key in dict.fromkeys(k for rows in results.values() for k in rows):
        good = [name for name, rows in results.items() if key in rows and within_spread(rows[key], best[name])]
        lines.append(f"| {TRIALS[key][0]} | {', '.join(good) or 'none'} ({len(good)}/{len(results)}) |")
    return lines


def main(argv: list[str] | None = None) -> None:
    from ultralytics_light.accuracy import parse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco128", type=Path, required=True)
    parser.add_argument("--model", default="yolo11n-lite-mobilenetv2.yaml")
    parser.add_argument("--sets", nargs="+", choices=DATA_SETS, default=list(DATA_SETS))
    parser.add_argument("--trials", nargs="+", choices=list(TRIALS), default=list(DEFAULT_TRIALS))
    parser.add_argument("--work", type=Path, default=Path("build/recipes"), help="data sets and runs (resumable)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "recipes.md")
    parser.add_argument("common", nargs="*", help="KEY=VALUE for every trial (bench-accuracy's; default seeds=0,1)")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    common = ["seeds=0,1", "runs=2", "warmup=0", *args.common]
    options, recipe = parse(["data=unused.yaml", *common])
    results, described = {}, {}
    for name in args.sets:
        data = write_data(name, args.coco128.resolve(), work / "data", recipe["imgsz"])
        described[name] = describe(data)
        results[name] = {}
        for key in args.trials:
            trial = {**PLAIN, **TRIALS[key][1]}
            print(f"== {name}: {TRIALS[key][0]}", flush=True)
            (row,) = bench_accuracy(work / "runs" / name / key, data, [args.model], common, **trial)
            results[name][key] = row
    budget = " ".join(f"{k}={v}" for k, v in recipe.items() if k not in {**PLAIN, **STEP})
    seeds = ",".join(map(str, options["seeds"]))
    lines = [
        "# Fine-tuning recipe trials",
        "",
        f"`{args.model}` from ImageNet, trained at bench-accuracy's budget ({budget}), seeds {seeds}, on each data "
        "set's train split; mAP on its held-out split after the last epoch. ± is half the seed-to-seed range; "
        "÷ plain: blank where plain's mAP50-95 shows as 0.000; within spread: its mAP50-95 range over the seeds "
        "overlaps the best trial's.",
    ]
    for name, rows in results.items():
        lines += ["", f"## {name} ({described[name]} images)", "", *table(rows)]
    lines += ["", "## Across the data sets", "", *verdict(results)]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
