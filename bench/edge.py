"""Every accuracy number of the docs' Deploying page, on real images: train, quantize, distill, validate.

1. COCO128's person class as one class, split into 96 train / 32 held-out images (`coco_splits.py`).
2. `bench-accuracy` trains the lite MobileNetV2 (from ImageNet) and the lite ShuffleNetV2 (from scratch: no ImageNet
   ShuffleNetV2 file on these machines) under its recipe, for EPOCHS epochs.
3. `int8.py --val`: each checkpoint exported to ONNX, OpenVINO and LiteRT, float32 and INT8 (Ultralytics'
   `quantize=8`, calibrated on the train split), each validated on the held-out split and timed at the training size.
4. `ort_int8.py`: ONNX Runtime quantization settings other than Ultralytics' on the MobileNetV2 checkpoint.
5. Quantization-aware training: the MobileNetV2 checkpoint trains `--qat-epochs` more epochs with `quantize=8`, and
   as a control the same epochs without it; both exported to ONNX and validated there.
6. Distillation: the ShuffleNetV2 student trains again under the same recipe with `distill_model=` the MobileNetV2
   checkpoint.

Every step resumes (bench-accuracy reads finished runs back), so a stopped run continues where it was. Writes
edge.md beside this file, and edge.csv: step 3's rows, which bench/publish.py renders the docs' INT8 figures from.

    python -m bench.edge --coco128 ../shared/datasets/coco128           # as `make bench-edge` runs it
    python -m bench.edge --coco128 ../shared/datasets/coco128 epochs=2   # any bench-accuracy / yolo train KEY=VALUE
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bench import int8, ort_int8
from bench.coco_splits import write_split
from bench.common import bench_accuracy, best, validate

TEACHER, STUDENT = "yolo11n-lite-mobilenetv2.yaml", "yolo11n-lite-shufflenetv2.yaml"
EPOCHS = 60  # more than bench-accuracy's 40: a stronger checkpoint to quantize (its mAP: bench/edge.md)
# bench-accuracy's recipe as it was when edge.md was measured (it has since moved to 256 px without warm-up)
MEASURED_RECIPE = [f"epochs={EPOCHS}", "imgsz=320", "warmup_epochs=3"]
QAT = {"optimizer": "SGD", "lr0": 0.001, "warmup_epochs": 0}  # fine-tuning a trained model: small steps, no warm-up


def onnx_map(checkpoint: Path, data: Path, imgsz: int) -> tuple[float, float]:
    """(mAP50, mAP50-95) of a checkpoint's ONNX export on the held-out split."""
    from ultralytics import YOLO

    onnx = checkpoint.with_suffix(".onnx")
    if not onnx.is_file():
        YOLO(checkpoint).export(format="onnx", imgsz=imgsz, device="cpu")
    return validate(onnx, str(data), imgsz)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco128", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("build/edge"), help="data, runs and exports (resumable)")
    parser.add_argument("--qat-epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "edge.md")
    parser.add_argument("common", nargs="*", help="bench-accuracy / yolo train KEY=VALUE for every training run")
    args = parser.parse_args(argv)
    args.common = [*MEASURED_RECIPE, *args.common]  # a KEY=VALUE given later overrides it
    work = args.work.resolve()
    data = write_split(args.coco128.resolve(), work / "person")
    from ultralytics_light.accuracy import RECIPE, parse

    imgsz = parse([f"data={data}", *args.common])[1].get("imgsz", RECIPE["imgsz"])
    lines = [f"Recipe: bench-accuracy's, with {' '.join(args.common) or 'no change'}; data: COCO128 person split.", ""]

    trained = bench_accuracy(work / "trained", data, [TEACHER, STUDENT], args.common)
    teacher, student = best(work / "trained", Path(TEACHER).stem), best(work / "trained", Path(STUDENT).stem)
    lines += ["## Trained (PyTorch, held-out split)", "", "| model | backbone start | mAP50 | mAP50-95 |"]
    lines += ["|---|---|---|---|"] + [
        f"| {r['model']} | {r['init']} | {float(r['map50']):.3f} | {float(r['map50_95']):.3f} |" for r in trained
    ]

    report = work / "int8.md"
    if not report.with_suffix(".csv").is_file():
        checkpoints = [str(teacher), str(student)]
        int8.main(["--models", *checkpoints, "--data", str(data), "--imgsz", str(imgsz), "--val", "--out", str(report)])
    shutil.copy(report.with_suffix(".csv"), args.out.with_suffix(".csv"))  # the exports' rows, for bench/publish.py
    table = report.read_text().splitlines()[4:]  # without int8.md's title and its "Made with" line
    lines += ["", f"## Float32 and INT8 exports ({imgsz} px)", "", *table, ""]

    settings = work / "ort_int8.md"
    if not settings.is_file():
        ort_int8.main(["--model", str(teacher), "--data", str(data), "--imgsz", str(imgsz), "--out", str(settings)])
    lines += [
        "## ONNX Runtime INT8 settings (the MobileNetV2 checkpoint)",
        "",
        *settings.read_text().splitlines()[2:],
        "",
    ]

    continued = {"epochs": args.qat_epochs, **QAT}
    qat = bench_accuracy(work / "qat", data, [str(teacher)], args.common, quantize=8, **continued)
    bench_accuracy(work / "qat-control", data, [str(teacher)], args.common, **continued)
    label = qat[0]["model"]
    qat_map = onnx_map(best(work / "qat", label), data, imgsz)
    control_map = onnx_map(best(work / "qat-control", label), data, imgsz)
    lines += [
        f"## Quantization-aware training ({args.qat_epochs} more epochs from the MobileNetV2 checkpoint, ONNX)",
        "",
        "| model | mAP50 | mAP50-95 |",
        "|---|---|---|",
        f"| QAT INT8 (Q/DQ ONNX) | {qat_map[0]:.3f} | {qat_map[1]:.3f} |",
        f"| float32, trained the same epochs without quantize | {control_map[0]:.3f} | {control_map[1]:.3f} |",
        "",
    ]

    distilled = bench_accuracy(work / "distilled", data, [STUDENT], args.common, distill_model=str(teacher))
    plain = next(r for r in trained if r["model"] == Path(STUDENT).stem)
    lines += [
        "## Distillation (student ShuffleNetV2 lite from scratch, teacher the MobileNetV2 checkpoint)",
        "",
        "| student | mAP50 | mAP50-95 |",
        "|---|---|---|",
        f"| alone | {float(plain['map50']):.3f} | {float(plain['map50_95']):.3f} |",
        f"| distilled | {float(distilled[0]['map50']):.3f} | {float(distilled[0]['map50_95']):.3f} |",
    ]
    args.out.write_text("# Edge deployment on real images\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
