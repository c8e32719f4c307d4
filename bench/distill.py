"""Distillation trials: do our fast lite models learn what a fine-tuned, COCO-pretrained detector knows?

On each data set, `bench-accuracy` fine-tunes the COCO-pretrained reference (`--reference`: a stock checkpoint; here
`../shared/weights/yolov5n-coco-backbone-neck.pt`, Ultralytics' yolov5n.yaml carrying the official YOLOv5n COCO
backbone and neck) and our lite MobileNetV2 from ImageNet, then trains each fast lite student alone and distilled
(Ultralytics' `distill_model=`) from each teacher, and the MobileNetV2 distilled from the COCO teacher, at two seeds,
all under bench-accuracy's recipe. Every row: mAP50, mAP50-95 on the held-out split, ONNX Runtime latency, and
training time (which means something only on an otherwise idle machine).

Data sets: COCO128's person class (96 train / 32 held-out real images; the COCO reference has seen these images in
its COCO training, which favours it) and bench-parity's synthetic shapes on photographs (300 train / 150 held-out).

Ultralytics' distillation has one setting, the weight `dis` of its feature loss (default 6.0); the students also
distil from the COCO teacher at the lighter weights in DIS (the runs that distil from nothing read back): every student
on shapes, and on the person split only the ImageNet MobileNetV2, since the students from scratch learn next to nothing
there (mAP50-95 at most 0.004, alone or distilled) and a weight could not show.

Each data set's table at each seed is recorded in bench/distill-records/ (commit it) after each stage: the COCO
teacher, then its lighter weights, then the ImageNet teacher too; seed 0 on both data sets first, then seed 1. Each
seed fine-tunes its own teachers, so a seed is measured in one sitting and kept. A fresh checkout measures only what is
not recorded yet (or was recorded under another recipe); within a checkout, runs resume in build/distill. Writes
bench/distill.md from the records: the mean over the seeds recorded, ± half their range. `--stages 1` measures the
first stage only (a seed's COCO teacher at Ultralytics' dis), leaving the others to a later run.

    python -m bench.distill --coco128 ../shared/datasets/coco128 --reference ../shared/weights/yolov5n-coco-backbone-neck.pt
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path

from bench.coco_splits import write_split
from bench.common import bench_accuracy, bench_accuracy_recipe, read_record, write_record
from bench.shapes import write_shapes_set

STUDENTS = ("yolo11n-lite-lcnet.yaml", "yolo11n-lite-shufflenetv2.yaml", "yolo11n-lite-mobilenetv3-small.yaml")
IMAGENET_TEACHER = "yolo11n-lite-mobilenetv2.yaml"
SEEDS = (0, 1)
DIS = (1.0, 0.25)  # lighter than Ultralytics' 6.0, which made the ImageNet MobileNetV2 worse on the person split
WEIGHED = {"person": (IMAGENET_TEACHER,), "shapes": (*STUDENTS, IMAGENET_TEACHER)}  # the students trained at each DIS
DATASETS = {"person": ["imgsz=256"], "shapes": ["imgsz=160"]}  # bench-accuracy's 256 px; shapes are drawn at 160
RECORDS = Path(__file__).parent / "distill-records"
GOAL = 0.6  # a lite model at most this times the reference's latency, with at least its mAP50-95 (issue 36)


def dataset(name: str, work: Path, coco128: Path) -> Path:
    if name == "person":
        return write_split(coco128, work / "data" / "person")
    return write_shapes_set(work / "data" / "shapes", coco128 / "images" / "train2017", train=300, val=150)


def stages(reference: Path) -> list[dict]:
    """Teachers and lighter `dis` weights (with the COCO teacher) of each stage at a seed, in the order measured and
    recorded, so that a stop keeps what was measured."""
    coco, imagenet = reference.stem, Path(IMAGENET_TEACHER).stem
    return [
        {"teachers": [coco], "dis": []},
        {"teachers": [coco], "dis": list(DIS)},
        {"teachers": [coco, imagenet], "dis": list(DIS)},
    ]


def stage_of(record: dict | None) -> dict | None:
    """The stage a record was measured at."""
    return None if record is None else {"teachers": record["teachers"], "dis": record["dis"]}


def measure(name: str, data: Path, reference: Path, work: Path, common: list[str], seed: int, stage: dict) -> dict:
    """One data set's trials at a seed, with a stage's teachers and `dis` weights (resumed where they stopped)."""
    models = [*STUDENTS, IMAGENET_TEACHER, str(reference)]
    # the ImageNet MobileNetV2 learns from the COCO teacher too: our one student here that starts as a user's would
    students = ",".join(Path(s).stem for s in (*STUDENTS, IMAGENET_TEACHER))
    project = work / name
    argv = [*DATASETS[name], *common, f"seeds={seed}"]
    rows = bench_accuracy(project, data, models, argv, teacher=",".join(stage["teachers"]), students=students)
    about = (project / "accuracy.md").read_text().split("\n\n")[1]
    for dis in stage["dis"]:  # every other run reads back: only the distilled ones take dis=
        weighted = bench_accuracy(project, data, models, [*argv, f"dis={dis}"], teacher=reference.stem,
                                  students=",".join(Path(s).stem for s in WEIGHED[name]))  # fmt: skip
        rows += [row for row in weighted if row["model"].endswith(f", dis={dis})")]
    args = [*DATASETS[name], *common]
    return {"recipe": bench_accuracy_recipe(), "args": args, "seed": seed, **stage, "about": about, "rows": rows}


def combined(records: list[dict]) -> list[dict]:
    """One data set's rows over its seed records: scores and training time averaged, with the seed range; latency the
    median of the seeds' timings (each seed times every architecture once, in its own sitting)."""
    by_label = {}
    for record in records:
        for row in record["rows"]:
            by_label.setdefault(row["model"], []).append(row)
    rows = []
    for label, seeds in by_label.items():
        row = dict(seeds[0], seeds=str(len(seeds)))
        for metric in ("map50", "map50_95"):
            values = [float(seed[metric]) for seed in seeds]
            row[metric], row[f"{metric}_spread"] = str(sum(values) / len(values)), str(max(values) - min(values))
        row["ort_ms"] = str(statistics.median(float(seed["ort_ms"]) for seed in seeds))
        minutes = [float(seed["train_min"]) for seed in seeds if seed.get("train_min")]
        row["train_min"] = str(sum(minutes) / len(minutes)) if minutes else ""
        rows.append(row)
    return rows


def spread(row: dict, metric: str) -> str:
    """A score as the table shows it: the mean over seeds, ± half their range where there are several."""
    several = int(row.get("seeds") or 1) > 1
    return f"{float(row[metric]):.3f}" + (f" ± {float(row[metric + '_spread']) / 2:.3f}" if several else "")


def summary(rows: dict[str, dict], ref: dict, records: list[dict]) -> list[str]:
    """What a data set's table says: per model, its best distilled row against it alone (the gain beside the seed
    spread, and at each seed the training time that distilling from its teacher cost: each sitting has its own
    machine load), and how far the rows fast enough for the goal land from it."""
    by_seed = {}  # (model, distilled label) -> {seed: (alone row, distilled row)} of the records holding both
    for record in records:
        seed_rows = {row["model"]: row for row in record["rows"]}
        for label, row in seed_rows.items():
            alone = seed_rows.get(label.split(" (")[0])
            if alone is not None and row is not alone and row.get("train_min") and alone.get("train_min"):
                by_seed.setdefault((alone["model"], label), {})[record["seed"]] = (alone, row)

    def score(row: dict) -> float:
        return float(row["map50_95"])

    def noise(row: dict) -> str:
        several = int(row.get("seeds") or 1) > 1
        return f"± {float(row['map50_95_spread']) / 2:.3f} over seeds" if several else "one seed"

    lines = ["", "Per model, its best distilled row (by mean mAP50-95) against it alone:", ""]
    for model in (IMAGENET_TEACHER, *STUDENTS):
        name = Path(model).stem
        alone = rows.get(name)
        distilled = [row for label, row in rows.items() if label.startswith(f"{name} (distilled")]
        if alone is None or not distilled:
            continue
        best = max(distilled, key=score)
        setting = best["model"][len(name) + 2 : -1]
        # What distilling costs is the teacher's forward pass, the same at every dis: timed on the default-dis run
        # (each seed's first stage, the one measured in a sitting of its own)
        teacher = setting.removeprefix("distilled from ").split(", ")[0]
        timed = f"{name} (distilled from {teacher})"
        ratios = [f"{float(b['train_min']) / float(a['train_min']):.2f}× (seed {seed})"
                  for seed, (a, b) in sorted(by_seed.get((name, timed), {}).items())]  # fmt: skip
        cost = f"; distilling from {teacher} trained {', '.join(ratios)} as long as the model alone" if ratios else ""
        lines.append(
            f"- {name}, {setting}: {score(best):.3f} ({noise(best)}) against {score(alone):.3f} alone "
            f"({noise(alone)}), {score(best) - score(alone):+.3f}{cost}."
        )

    def latency(row: dict) -> float:  # one architecture, one timing: the model alone's
        return float(rows.get(row["model"].split(" (")[0], row)["ort_ms"]) / float(ref["ort_ms"])

    fast = [row for row in rows.values() if latency(row) <= GOAL]
    if fast and score(ref) > 0:
        best = max(fast, key=score)
        met = "met" if score(best) >= score(ref) else "not met"
        lines.append(
            f"- Goal ({GOAL}× the reference's latency, its mAP50-95): {met}. The best row that fast, {best['model']}, "
            f"keeps {score(best) / score(ref):.2f} of the reference's mAP50-95 at {latency(best):.2f}× its latency."
        )
    return lines


def render(records: dict[str, list[dict]], reference: str) -> str:
    """bench/distill.md: per data set (its records, one per seed), each student alone and distilled, its teachers and
    the reference."""
    lines = [
        "# Distillation from a fine-tuned teacher",
        "",
        (
            f"Reference and COCO teacher: `{reference}`, Ultralytics' yolov5n.yaml with the official YOLOv5n COCO "
            "backbone and neck (its Detect head fresh), fine-tuned on each data set. ImageNet teacher: "
            "yolo11n-lite-mobilenetv2. Distilled rows weigh the feature loss at Ultralytics' default dis=6.0 unless "
            "they name another. Goal: a lite model at ≤ 0.6× the reference's latency with ≥ its mAP50-95."
        ),
    ]
    for name, seeds in records.items():
        rows = {row["model"]: row for row in combined(seeds)}
        ref = next(row for row in rows.values() if row["init"] == "checkpoint" and row["reference"] == "True")
        measured = ", ".join(str(record["seed"]) for record in seeds)
        lines += [
            "",
            f"## {name}",
            "",
            seeds[0]["about"],
            "",
            f"Seeds: {measured} (each fine-tunes its own teachers).",
            "",
        ]
        lines += [
            "| model | start | mAP50 | mAP50-95 | ORT ms | ÷ reference latency | mAP50-95 ÷ reference | train min |",
            "|---|---|---|---|---|---|---|---|",
        ]
        order = [ref["model"]]
        for student in (IMAGENET_TEACHER, *STUDENTS):  # each model alone, then distilled from each teacher
            order += sorted(
                (label for label in rows if label.startswith(Path(student).stem)),
                key=lambda label: (label != Path(student).stem, label),
            )
        for label in order:
            row = rows[label]
            alone = rows.get(label.split(" (")[0], row)  # one architecture, one timing: its own row's
            ratio = float(alone["ort_ms"]) / float(ref["ort_ms"])
            kept = float(row["map50_95"]) / float(ref["map50_95"]) if float(ref["map50_95"]) else float("nan")
            train = f"{float(row['train_min']):.1f}" if row.get("train_min") else ""
            scores = " | ".join(spread(row, metric) for metric in ("map50", "map50_95"))
            figures = f"{scores} | {float(alone['ort_ms']):.1f}"
            lines.append(f"| {label} | {row['init']} | {figures} | {ratio:.2f} | {kept:.2f} | {train} |")
        lines += summary(rows, ref, seeds)
    missing = [name for name in DATASETS if name not in records]
    if missing:
        lines += ["", f"Not measured yet: {', '.join(missing)} (`make bench-distill`)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco128", type=Path, required=True)
    parser.add_argument("--reference", type=Path, required=True, help="the COCO-pretrained stock checkpoint")
    parser.add_argument("--work", type=Path, default=Path("build/distill"), help="data and runs (resumable)")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "distill.md")
    parser.add_argument("--stages", type=int, default=3, choices=(1, 2, 3), help="measure seeds up to this stage")
    parser.add_argument("common", nargs="*", help="bench-accuracy / yolo train KEY=VALUE for every run")
    args = parser.parse_args(argv)
    if not args.reference.is_file():
        raise SystemExit(f"{args.reference}: no such checkpoint; the trials need a COCO-pretrained reference")
    work = args.work.resolve()
    records, order = {}, stages(args.reference)
    for seed in SEEDS:  # seed 0 of every data set first
        for name, size in DATASETS.items():
            path = RECORDS / f"{name}-seed{seed}.json"
            record = read_record(path, recipe=bench_accuracy_recipe(), args=[*size, *args.common], seed=seed)
            if record is not None:
                records.setdefault(name, []).append(record)
            done = order.index(stage_of(record)) + 1 if stage_of(record) in order else 0
            if name not in args.datasets or done >= args.stages:
                continue
            data = dataset(name, work, args.coco128.resolve())
            for stage in order[done : args.stages]:
                record = write_record(path, measure(name, data, args.reference.resolve(), work, args.common, seed,
                                                    stage))  # fmt: skip
                records[name] = [*[r for r in records.get(name, []) if r["seed"] != seed], record]
                shutil.copy(work / name / "accuracy.md", path.with_suffix(".md"))
                args.out.write_text(render(records, args.reference.name))
    args.out.write_text(render(records, args.reference.name))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
