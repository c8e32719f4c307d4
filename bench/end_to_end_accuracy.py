"""Does the end-to-end (NMS-free) lite head keep the NMS lite head's accuracy? Each pair trained alike, two seeds.

A pair is a lite model with NMS (yolo11n-lite-BACKBONE) and its end-to-end twin (yolo26n-lite-BACKBONE, Ultralytics'
dual head), trained by bench-accuracy under the same recipe and seeds, on the data the other benches use:

- person: COCO128's person class (`coco_splits.py`), bench-accuracy's budget, MobileNetV2 from ImageNet (the one
  ImageNet file here); and again at twice the epochs (person-80-epochs), since Ultralytics' end-to-end loss gives the
  one-to-one branch most of its weight late in the schedule;
- shapes: bench-parity's synthetic set (`shapes.py`) and budget, for backbones without an ImageNet file here, from
  scratch; and the lightest of them again at twice the epochs (shapes-100-epochs).

Both are validated on the held-out split: the NMS model as usual; the end-to-end one with nms=False (its one-to-one
branch, no NMS: how it is deployed NMS-free) and with NMS (its one-to-many branch, Ultralytics' default). Writes
end_to_end_accuracy.md beside this file. Every run stays under --work, so a rerun resumes where it stopped, and each
measured pair is recorded in end-to-end-accuracy-records/ beside this file (committed: the bench is hours on 2 cores,
more than one sitting), so a fresh checkout measures only the pairs not recorded with this budget.

    python -m bench.end_to_end_accuracy --coco128 ../shared/datasets/coco128
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from bench.coco_splits import write_split
from bench.common import bench_accuracy, bench_accuracy_recipe, read_record, write_record
from bench.parity import IMGSZ as SHAPES_IMGSZ
from bench.parity import RECIPE as SHAPES_RECIPE
from bench.shapes import write_shapes_set

SEEDS = (0, 1)
RECORDS = Path(__file__).parent / "end-to-end-accuracy-records"
KEPT = 0.95  # the end-to-end model keeps at least this share of its NMS twin's mAP50-95
# name: (data set, backbones, bench-accuracy arguments on top of its recipe)
SETS = {
    "person": ("person", ("mobilenetv2",), []),
    "person-80-epochs": ("person", ("mobilenetv2",), ["epochs=80"]),
    "shapes": ("shapes", ("shufflenetv2", "mobilenetv4-conv-small"), SHAPES_RECIPE),
    "shapes-100-epochs": ("shapes", ("shufflenetv2",), ["epochs=100", f"imgsz={SHAPES_IMGSZ}"]),
}


def pair(backbone: str) -> tuple[str, str]:
    return f"yolo11n-lite-{backbone}.yaml", f"yolo26n-lite-{backbone}.yaml"


def nms_free_map(best: Path, data: Path, imgsz: int) -> float:
    """mAP50-95 of an end-to-end checkpoint validated with nms=False, kept beside it once measured."""
    from ultralytics import YOLO

    done = best.parent.parent / "nms-false.json"
    if not done.is_file():
        metrics = YOLO(best).val(data=str(data), split="val", imgsz=imgsz, batch=16, nms=False, plots=False,
                                 project=str(best.parent.parent), name="val-nms-false", exist_ok=True)  # fmt: skip
        done.write_text(json.dumps({"map50_95": float(metrics.box.map), "map50": float(metrics.box.map50)}))
    return json.loads(done.read_text())["map50_95"]


def seeds_of(project: Path, model: str) -> list[dict]:
    """Each seed's result.json of a bench-accuracy run of `model` in `project`."""
    from ultralytics_light.accuracy.plan import run_folder

    name = Path(model).stem
    return [json.loads((run_folder(project, name, seed) / "result.json").read_text()) for seed in SEEDS]


def measured(name: str, backbone: str, project: Path, data: Path, imgsz: int | None, common: list[str]) -> dict:
    """Each seed's mAP50-95 of one pair on one data set ({'nms', 'nms_free', 'end2end_with_nms'}, and the backbone's
    'init'), read from RECORDS when measured with this budget, else trained and validated, then recorded."""
    record = RECORDS / f"{name}-{backbone}.json"
    known = read_record(record, budget=common, bench_accuracy_recipe=bench_accuracy_recipe())
    if known is not None:
        return known
    rows = bench_accuracy(project, data, list(pair(backbone)), common)
    twin, end2end = (seeds_of(project, model) for model in pair(backbone))
    size = imgsz or end2end[0]["recipe"]["imgsz"]
    result = {
        "budget": common,
        "bench_accuracy_recipe": bench_accuracy_recipe(),
        "init": rows[0]["init"],
        "nms": [run["map50_95"] for run in twin],
        "nms_free": [nms_free_map(Path(run["best"]), data, size) for run in end2end],
        "end2end_with_nms": [run["map50_95"] for run in end2end],
    }
    return write_record(record, result)


def epochs(common: list[str]) -> int:
    """The epochs a bench-accuracy run with these KEY=VALUE arguments trains (the last one given, else its recipe's)."""
    from ultralytics_light.accuracy import RECIPE

    given = dict(arg.split("=", 1) for arg in common if "=" in arg)
    return int(given.get("epochs", RECIPE["epochs"]))


def cell(values: list[float]) -> str:
    """'mean (seed 0, seed 1)'."""
    return f"{statistics.mean(values):.3f} ({', '.join(f'{v:.3f}' for v in values)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco128", type=Path, required=True)
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument("--work", type=Path, default=Path("build/end-to-end-accuracy"), help="data and runs")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "end_to_end_accuracy.md")
    parser.add_argument("common", nargs="*", help="bench-accuracy / yolo train KEY=VALUE for every run")
    args = parser.parse_args(argv)
    work, coco128 = args.work.resolve(), args.coco128.resolve()
    lines = [
        "# End-to-end (NMS-free) lite models against their NMS twins",
        "",
        f"Each pair trained alike (bench-accuracy, seeds {','.join(map(str, SEEDS))}); mAP50-95 on the held-out split, "
        f"mean (seed 0, seed 1). kept: the end-to-end model with nms=False over its NMS twin (goal: at least "
        f"{KEPT:.0%}).",
        "",
        "| data | epochs | backbone start | NMS lite (yolo11n-lite) | end-to-end, nms=False | kept "
        "| end-to-end, with NMS |",
        "|---|---|---|---|---|---|---|",
    ]
    pending = [f"{name}: {backbone}" for name in args.sets for backbone in SETS[name][1]]
    for name in args.sets:
        kind, backbones, budget = SETS[name]
        if kind == "person":
            data, imgsz = write_split(coco128, work / "person", "person"), None
        else:
            data = write_shapes_set(work / "shapes", coco128 / "images" / "train2017", size=SHAPES_IMGSZ)
            imgsz = SHAPES_IMGSZ
        common = [f"seeds={','.join(map(str, SEEDS))}", "runs=2", "warmup=0", *budget, *args.common]
        for backbone in backbones:
            result = measured(name, backbone, work / "runs" / name, data, imgsz, common)
            baseline, nms_free, with_nms = result["nms"], result["nms_free"], result["end2end_with_nms"]
            kept = statistics.mean(nms_free) / statistics.mean(baseline) if statistics.mean(baseline) else 0.0
            mark = "" if kept >= KEPT else " ✗"
            lines.append(f"| {kind} | {epochs(common)} | {backbone}: {result['init']} | {cell(baseline)} | "
                         f"{cell(nms_free)} | {kept:.0%}{mark} | {cell(with_nms)} |")  # fmt: skip
            pending.remove(f"{name}: {backbone}")
            still = ["", f"Not measured yet: {', '.join(pending)}."] if pending else []
            args.out.write_text("\n".join(lines + still) + "\n")  # published as each pair is measured
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
