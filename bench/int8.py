"""INT8 against float32, through Ultralytics' own exporter (`quantize=8`): latency and, given a checkpoint, mAP.

Latency: each model (a YAML, built with random backbone weights as `speed.py` does, or a checkpoint) is exported at
`--imgsz` to ONNX, OpenVINO and LiteRT (TFLite) or the `--formats` given, float32 and INT8 (calibrated on `--data`),
and all are timed interleaved (batch 1, `--threads` threads; ONNX Runtime without thread spinning, LiteRT's
interpreter with its default XNNPACK delegate). OpenVINO's CPU plugin runs a float32 model in bf16 by default on CPUs
that have bf16 (avx512_bf16, AMX), so OpenVINO times three things: the float32 export with
`INFERENCE_PRECISION_HINT: f32` ('openvino fp32'), the same export at the runtime's default precision ('openvino fp32
default'), and the INT8 export at its default configuration ('openvino int8'), which is what Ultralytics'
AutoBackend (`yolo predict`, `yolo val`) and a plain `compile_model` give a user. INT8 is reported against both
float32 timings; on a CPU without bf16 they are the same. ONNX Runtime and LiteRT run float32 as float32 on a CPU.

Accuracy (`--val`): each checkpoint's exports are validated with `yolo val` on `--data`'s val split, calibrated
on its train split, so the validation images stay held out.

    python -m bench.int8 --models yolo11n-lite-mobilenetv2.yaml yolo11n.yaml --data coco8.yaml
    python -m bench.int8 --models best.pt --data person/data.yaml --imgsz 320 --val --out /tmp/int8
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from pathlib import Path

from bench.common import FORMATS, export_all, validate, write_csv
from ultralytics_light.accuracy.plan import checkpoint_label
from ultralytics_light.latency import runner
from ultralytics_light.timing import machine, summary, time_interleaved

DEFAULT = "openvino fp32 default"  # OpenVINO's float32 export at the runtime's default precision (bf16 where it can)


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
    nms: bool | None = None,
) -> list[dict]:
    """One row per timing of `model` (a YAML or checkpoint; `name` labels its files): export ('onnx int8', …, and
    'openvino fp32 default', see the module's docstring), latency ms (median, IQR), latency ÷ the runtime's float32
    ('ratio'; OpenVINO's pinned to f32) and, for OpenVINO, ÷ its float32 at the default precision ('ratio_default')
    and, with `val`, mAP50 and mAP50-95 on the data's val split (calibrated on its train split then, so the validation
    images stay held out; `yolo val` compiles OpenVINO at the runtime's default precision, so both float32 rows of
    OpenVINO have the one export's mAP). `nms` is Ultralytics' export argument (False: an end-to-end head's final
    detections in the graph)."""
    rows = []
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        split = "train" if val else "val"
        exports = export_all(model, name.replace("/", "-"), imgsz, data, Path(folder), split, formats, nms)
        runners = {}
        for key, path in exports.items():
            if key == "openvino int8":  # what a user gets: no precision pinned
                runners[key] = runner(path, imgsz, threads, precision=None)
            else:
                runners[key] = runner(path, imgsz, threads)
            if key == "openvino fp32":
                runners[DEFAULT] = runner(path, imgsz, threads, precision=None)
        times = time_interleaved([runners], warmup, runs)[0]
        maps = {}
        for key in runners:
            median, iqr = summary(times[key])
            row = {"export": key, "ms": median, "iqr": iqr}
            fmt = key.split()[0]
            row["ratio"] = median / statistics.median(times[f"{fmt} fp32"])
            if fmt == "openvino":
                row["ratio_default"] = median / statistics.median(times[DEFAULT])
            if val:
                path = exports[key if key != DEFAULT else "openvino fp32"]
                if path not in maps:
                    maps[path] = validate(path, data, imgsz)
                row["map50"], row["map50_95"] = maps[path]
            rows.append(row)
    return rows


def bf16() -> str:
    """'yes' or 'no': whether OpenVINO's CPU plugin reports bf16 for this CPU (and so runs float32 in bf16 by
    default); 'unknown' without OpenVINO."""
    try:
        import openvino as ov

        return "yes" if "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES") else "no"
    except Exception:  # no OpenVINO, or a plugin that does not report it
        return "unknown"


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
    openvino = "openvino" in args.formats
    about = {"imgsz": args.imgsz, "machine": machine(args.threads), "bf16": bf16() if openvino else ""}
    lines = [
        f"# INT8 against float32: {', '.join(args.formats)}, {args.imgsz} px",
        "",
        "Made with `bench/int8.py` (Ultralytics' own exporter, `quantize=8`); published in the docs' Deploying page.",
        "",
        f"Measured on {about['machine']}"
        + (f"; CPU bf16 (OpenVINO's OPTIMIZATION_CAPABILITIES): {about['bf16']}" if openvino else "")
        + f"; {args.imgsz} px, batch 1, median ± IQR of {args.runs} interleaved runs. INT8 calibrated on the "
        f"{'train' if args.val else 'val'} split of `{Path(args.data).name}`.",
    ]
    if openvino:
        lines += [
            "",
            "OpenVINO: `openvino fp32` pins `INFERENCE_PRECISION_HINT: f32`; `openvino fp32 default` is the same "
            "export at the runtime's default precision (bf16 on a CPU with bf16); `openvino int8` runs at its default "
            "configuration, as `yolo predict` does. ÷ FP32 is against the runtime's float32 (OpenVINO's pinned to "
            "f32), ÷ default against OpenVINO's float32 at its default precision.",
        ]
    lines += [
        "",
        "| model | format | latency ms | ÷ FP32 | ÷ default |" + (" mAP50 | mAP50-95 |" if args.val else ""),
        "|---|---|---|---|---|" + ("---|---|" if args.val else ""),
    ]
    records = []  # the table's rows, with what they were measured on: int8.csv beside int8.md
    for model in args.models:
        model = str(Path(model).resolve()) if model.endswith(".pt") else model
        name = checkpoint_label(Path(model)) if model.endswith(".pt") else Path(model).stem
        for row in measure(model, name, data, args.imgsz, args.formats, args.val, args.threads, args.warmup, args.runs):
            records.append({"model": name, **row, **about})
            default = f"{row['ratio_default']:.2f}" if "ratio_default" in row else ""
            line = f"| {name} | {row['export']} | {row['ms']:.1f} ± {row['iqr']:.1f} | {row['ratio']:.2f} | {default} |"
            if args.val:
                line += f" {row['map50']:.3f} | {row['map50_95']:.3f} |"
            lines.append(line)
            print(line, flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    write_csv(args.out.with_suffix(".csv"), records)
    print(f"wrote {args.out} and {args.out.with_suffix('.csv')}")


if __name__ == "__main__":
    main()
