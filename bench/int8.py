"""INT8 against float32, through Ultralytics' own exporter (`quantize=8`): latency and, given a checkpoint, mAP.

Latency: each model (a YAML, built with random backbone weights as `bench.py` does, or a checkpoint) is exported at
`--imgsz` to ONNX, OpenVINO and LiteRT (TFLite) or the `--formats` given, float32 and INT8 (calibrated on `--data`),
and all are timed interleaved (batch 1, `--threads` threads; ONNX Runtime without thread spinning, OpenVINO with
float32 pinned for whatever stays float, LiteRT's interpreter with its default XNNPACK delegate).

Accuracy (`--val`): each checkpoint's exports are validated with `yolo val` on `--data`'s val split, calibrated
on its train split, so the validation images stay held out.

    python bench/int8.py --models yolo11n-lite-mobilenetv2.yaml yolo11n.yaml --data coco8.yaml
    python bench/int8.py --models best.pt --data person/data.yaml --imgsz 320 --val --out /tmp/int8
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import random_weights_yaml
from ultralytics_light.accuracy import checkpoint_label
from ultralytics_light.timing import machine, ort_options, summary, time_interleaved

FORMATS = ("onnx", "openvino", "litert")
SUFFIXES = {"onnx": ".onnx", "openvino": "_openvino_model", "litert": ".tflite"}  # as AutoBackend recognizes them


def export_all(model: str, stem: str, imgsz: int, data: str, folder: Path, split: str,
               formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:  # fmt: skip
    """{'onnx fp32': path, 'onnx int8': …, 'openvino fp32': …, …, 'litert int8': …}, each of `formats` float32 and
    INT8, moved into `folder` and named from `stem`, which must differ between models (checkpoints are all best.pt)."""
    from ultralytics import YOLO

    source = model if model.endswith(".pt") else random_weights_yaml(model, folder)
    exports = {}
    for fmt, quantize in ((fmt, quantize) for fmt in formats for quantize in (None, 8)):
        kwargs = {"quantize": 8, "data": data, "split": split} if quantize else {}
        path = Path(YOLO(source).export(format=fmt, imgsz=imgsz, **kwargs))
        precision = "int8" if quantize else "fp32"
        # The INT8 ONNX export deletes the float32 file it quantized, and exports share names: keep each apart, named
        # as Ultralytics' AutoBackend recognizes them.
        name = f"{stem}_{precision}{SUFFIXES[fmt]}"
        exports[f"{fmt} {precision}"] = folder / name
        shutil.move(path, folder / name)
    return exports


def runner(path: Path, imgsz: int, threads: int) -> Callable[[], object]:
    """A callable that runs one inference of the export at `path` on a fixed random image."""
    x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
    if path.suffix == ".onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), ort_options(threads), providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x}
        return lambda: session.run(None, feed)
    if path.suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]

        def invoke() -> None:
            interpreter.set_tensor(index, x)
            interpreter.invoke()

        return invoke
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
    request = ov.Core().compile_model(str(next(path.glob("*.xml"))), "CPU", config).create_infer_request()
    return lambda: request.infer({0: x})


def validate(path: Path, data: str, imgsz: int) -> tuple[float, float]:
    """(mAP50, mAP50-95) of an export with `yolo val` on the data's val split; batch 1, as the export's shape is."""
    from ultralytics import YOLO

    metrics = YOLO(str(path), task="detect").val(data=data, imgsz=imgsz, batch=1, device="cpu", plots=False,
                                                 verbose=False)  # fmt: skip
    return metrics.box.map50, metrics.box.map


def measure(
    model: str,
    name: str,
    data: str,
    imgsz: int,
    formats: tuple[str, ...] = FORMATS,
    val: bool = False,
    threads: int = 2,
    warmup: int = 5,
    runs: int = 30,
) -> list[dict]:
    """One row per export of `model` (a YAML or checkpoint; `name` labels its files): export ('onnx int8', …),
    latency ms (median, IQR), INT8 ÷ float32 latency and, with `val`, mAP50 and mAP50-95 on the data's val split
    (calibrated on its train split then, so the validation images stay held out)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        split = "train" if val else "val"
        exports = export_all(model, name.replace("/", "-"), imgsz, data, Path(folder), split, formats)
        runners = {key: runner(path, imgsz, threads) for key, path in exports.items()}
        times = time_interleaved([runners], warmup, runs)[0]
        for key, path in exports.items():
            median, iqr = summary(times[key])
            row = {"export": key, "ms": median, "iqr": iqr}
            row["ratio"] = median / statistics.median(times[f"{key.split()[0]} fp32"])
            if val:
                row["map50"], row["map50_95"] = validate(path, data, imgsz)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True, help="model YAML names or checkpoints")
    parser.add_argument("--data", required=True, help="data YAML: calibration images (and, with --val, validation)")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=FORMATS, choices=FORMATS)
    parser.add_argument("--val", action="store_true", help="also validate each export on the data's val split")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "int8.md")
    args = parser.parse_args(argv)
    data = str(Path(args.data).resolve()) if Path(args.data).exists() else args.data
    lines = [
        f"# INT8 against float32: {', '.join(args.formats)}, {args.imgsz} px",
        "",
        "Made with `bench/int8.py` (Ultralytics' own exporter, `quantize=8`); see the README's \"INT8\" section.",
        "",
        f"Measured on {machine(args.threads)}; {args.imgsz} px, batch 1, median ± IQR of {args.runs} interleaved "
        f"runs. INT8 calibrated on the {'train' if args.val else 'val'} split of `{Path(args.data).name}`.",
        "",
        "| model | format | latency ms | INT8 ÷ FP32 |" + (" mAP50 | mAP50-95 |" if args.val else ""),
        "|---|---|---|---|" + ("---|---|" if args.val else ""),
    ]
    for model in args.models:
        model = str(Path(model).resolve()) if model.endswith(".pt") else model
        name = checkpoint_label(Path(model)) if model.endswith(".pt") else Path(model).stem
        for row in measure(model, name, data, args.imgsz, args.formats, args.val, args.threads, args.warmup, args.runs):
            line = f"| {name} | {row['export']} | {row['ms']:.1f} ± {row['iqr']:.1f} | {row['ratio']:.2f} |"
            if args.val:
                line += f" {row['map50']:.3f} | {row['map50_95']:.3f} |"
            lines.append(line)
            print(line, flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
