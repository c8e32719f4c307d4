"""Distillation trials: do our fast lite models learn what a fine-tuned, COCO-pretrained detector knows?

On each data set, `bench-accuracy` fine-tunes the COCO-pretrained reference (`--reference`: a stock checkpoint; here
`../shared/weights/yolov5n-coco-backbone-neck.pt`, Ultralytics' yolov5n.yaml carrying the official YOLOv5n COCO
backbone and neck) and our lite MobileNetV2 from ImageNet, then trains each fast lite student alone and distilled
(Ultralytics' `distill_model=`) from each teacher, and the MobileNetV2 distilled from the COCO teacher, at two seeds,
all under bench-accuracy's recipe. Every row: mAP50, mAP50-95 on the held-out split, ONNX Runtime latency, and
training time (which means something only on an otherwise idle machine).

Data sets: COCO128's person class (96 train / 32 held-out real images; the COCO reference has seen these images in
its COCO training, which favours it) and bench-parity's synthetic shapes on photographs (300 train / 150 held-out).

Each data set's table is recorded in bench/distill-records/ (commit it) after each stage: seed 0 with the COCO
teacher, then with the ImageNet teacher too, then both seeds. A fresh checkout measures only what is not recorded yet
(or was recorded under another recipe); within a checkout, runs resume in build/distill. Writes bench/distill.md from
the records.

    python -m bench.distill --coco128 ../shared/datasets/coco128 --reference ../shared/weights/yolov5n-coco-backbone-neck.pt
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bench.coco_splits import write_split
from bench.common import bench_accuracy, bench_accuracy_recipe, read_record, write_record
from bench.shapes import write_shapes_set

STUDENTS = ("yolo11n-lite-lcnet.yaml", "yolo11n-lite-shufflenetv2.yaml", "yolo11n-lite-mobilenetv3-small.yaml")
IMAGENET_TEACHER = "yolo11n-lite-mobilenetv2.yaml"
SEEDS = (0, 1)
DATASETS = {"person": ["imgsz=256"], "shapes": ["imgsz=160"]}  # bench-accuracy's 256 px; shapes are drawn at 160
RECORDS = Path(__file__).parent / "distill-records"


def dataset(name: str, work: Path, coco128: Path) -> Path:
    if name == "person":
        return write_split(coco128, work / "data" / "person")
    return write_shapes_set(work / "data" / "shapes", coco128 / "images" / "train2017", train=300, val=150)


def stages(reference: Path) -> list[tuple[tuple[int, ...], tuple[str, ...]]]:
    """(seeds, teachers) in the order measured and recorded: the COCO teacher at seed 0 first, then the ImageNet teacher,
    then both seeds, so that a stop keeps what was measured."""
    coco, imagenet = reference.stem, Path(IMAGENET_TEACHER).stem
    return [(SEEDS[:1], (coco,)), (SEEDS[:1], (coco, imagenet)), (SEEDS, (coco, imagenet))]


def measure(name: str, data: Path, reference: Path, work: Path, common: list[str], stage: tuple) -> dict:
    """One data set's trials at a stage's seeds and teachers (resumed where they stopped); its record."""
    seeds, teachers = stage
    models = [*STUDENTS, IMAGENET_TEACHER, str(reference)]
    # the ImageNet MobileNetV2 learns from the COCO teacher too: our one student here that starts as a user's would
    extra = {"teacher": ",".join(teachers), "students": ",".join(Path(s).stem for s in (*STUDENTS, IMAGENET_TEACHER))}
    project = work / name
    argv = [*DATASETS[name], *common, f"seeds={','.join(map(str, seeds))}"]
    rows = bench_accuracy(project, data, models, argv, **extra)
    about = (project / "accuracy.md").read_text().split("\n\n")[1]
    args = [*DATASETS[name], *common]
    return {"recipe": bench_accuracy_recipe(), "args": args, "seeds": list(seeds), "teachers": list(teachers),
            "about": about, "rows": rows}  # fmt: skip


def render(records: dict[str, dict], reference: str) -> str:
    """bench/distill.md: per data set, each student alone and distilled, its teachers and the reference."""
    lines = [
        "# Distillation from a fine-tuned teacher",
        "",
        (
            f"Reference and COCO teacher: `{reference}`, Ultralytics' yolov5n.yaml with the official YOLOv5n COCO "
            "backbone and neck (its Detect head fresh), fine-tuned on each data set. ImageNet teacher: "
            "yolo11n-lite-mobilenetv2. Goal: a lite model at ≤ 0.6× the reference's latency with ≥ its mAP50-95."
        ),
    ]
    for name, record in records.items():
        rows = {row["model"]: row for row in record["rows"]}
        ref = next(row for row in record["rows"] if row["init"] == "checkpoint" and row["reference"] == "True")
        lines += ["", f"## {name}", "", record["about"], ""]
        lines += [
            "| model | start | mAP50 | mAP50-95 | ORT ms | ÷ reference latency | mAP50-95 ÷ reference | train min |",
            "|---|---|---|---|---|---|---|---|",
        ]
        order = [ref["model"]]
        for student in (IMAGENET_TEACHER, *STUDENTS):  # each model alone, then distilled from each teacher
            order += sorted(
                (label for label in rows if label.startswith(Path(student).stem)), key=lambda l: l != Path(student).stem
            )
        for label in order:
            row = rows[label]
            ratio = float(row["ort_ms"]) / float(ref["ort_ms"])
            kept = float(row["map50_95"]) / float(ref["map50_95"]) if float(ref["map50_95"]) else float("nan")
            train = f"{float(row['train_min']):.1f}" if row.get("train_min") else ""
            figures = f"{float(row['map50']):.3f} | {float(row['map50_95']):.3f} | {float(row['ort_ms']):.1f}"
            lines.append(f"| {label} | {row['init']} | {figures} | {ratio:.2f} | {kept:.2f} | {train} |")
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
    parser.add_argument("common", nargs="*", help="bench-accuracy / yolo train KEY=VALUE for every run")
    args = parser.parse_args(argv)
    if not args.reference.is_file():
        raise SystemExit(f"{args.reference}: no such checkpoint; the trials need a COCO-pretrained reference")
    work = args.work.resolve()
    records = {}
    order = [(list(seeds), list(teachers)) for seeds, teachers in stages(args.reference)]
    for name, size in DATASETS.items():
        path = RECORDS / f"{name}.json"
        record = read_record(path, recipe=bench_accuracy_recipe(), args=[*size, *args.common])
        if record is not None:
            records[name] = record
        done = order.index((record["seeds"], record["teachers"])) + 1 if record else 0
        if name not in args.datasets or done == len(order):
            continue
        data = dataset(name, work, args.coco128.resolve())
        for stage in stages(args.reference)[done:]:
            record = records[name] = write_record(path, measure(name, data, args.reference.resolve(), work,
                                                                args.common, stage))  # fmt: skip
            shutil.copy(work / name / "accuracy.md", RECORDS / f"{name}.md")
            args.out.write_text(render(records, args.reference.name))
    args.out.write_text(render(records, args.reference.name))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
