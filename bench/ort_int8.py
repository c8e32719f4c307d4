"""ONNX Runtime static INT8 settings, beside the two `format=onnx quantize=8` uses (ONNX Runtime's defaults for stock
models; per-channel weights and averaged ranges for ours, patches/onnx_int8_quantize.py): mAP and latency.

Each setting quantizes the checkpoint's float32 ONNX export with `onnxruntime.quantization.quantize_static`,
calibrated on the data's train split (letterboxed as Ultralytics does), then each is validated with `yolo val` on
the val split and all are timed interleaved (batch 1, ONNX Runtime without thread spinning). `make bench-edge` runs it
on its MobileNetV2 checkpoint (edge.py) and publishes the table in the docs' Deploying page.

    python -m bench.ort_int8 --model best.pt --data person/data.yaml --imgsz 320 --out bench/ort_int8.md
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path

from bench.common import OUR_OPTIONS, WEIGHTED, calibration_images, quantize, validate
from ultralytics_light.latency import runner
from ultralytics_light.timing import machine, summary, time_interleaved

# name: (what the table calls it, quantize_static keyword arguments, which nodes stay float)
SETTINGS = {
    "conv": ("Conv only, signed activations, per-tensor weights (stock Ultralytics)", {}, "all but Conv"),
    "conv_ours": ("the same, per-channel weights, averaged ranges (`quantize=8` for our models)", OUR_OPTIONS,
                  "all but Conv"),
    "all_u8_pc": ("all but the head's decode, unsigned activations, per-channel", {"per_channel": True, "u8": True},
                  "decode"),
    "all_u8_pc_pct": ("the same, percentile calibration", {"per_channel": True, "u8": True, "percentile": True},
                      "decode"),
    "backbone_neck": ("the same, head (Detect) left float", {"per_channel": True, "u8": True, "percentile": True},
                      "head"),
}  # fmt: skip


def layer_of(node: str) -> int:
    """The model layer an ONNX node of an Ultralytics export belongs to ('/model.12/cv1/conv/Conv' → 12), else -1."""
    return int(node.split("/")[1].split(".")[1]) if node.startswith("/model.") else -1


def kept_float(graph, which: str) -> list[str]:
    """Names of the nodes a setting leaves in float. The stem (normalization and first convolution) stays float in
    the settings that quantize beyond convolutions: quantizing the raw image there costs accuracy for no speed."""
    last = max(layer_of(n.name) for n in graph.node)
    head = [n for n in graph.node if layer_of(n.name) in (last, -1)]
    stem = [n for n in graph.node if "/normalize/" in n.name][:2] + [next(n for n in graph.node if n.op_type == "Conv")]
    if which == "all but Conv":
        return [n.name for n in graph.node if n.op_type not in WEIGHTED]
    if which == "head":
        return [n.name for n in head + stem]
    return [n.name for n in head if n.op_type not in WEIGHTED] + [n.name for n in stem]  # the decode and the stem


def main(argv: list[str] | None = None) -> None:
    import onnx
    from ultralytics import YOLO

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained checkpoint")
    parser.add_argument("--data", required=True)
    parser.add_argument("--imgsz", type=int, default=320)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "ort_int8.md")
    args = parser.parse_args(argv)
    data, model = str(Path(args.data).resolve()), str(Path(args.model).resolve())
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        fp32 = Path(YOLO(model).export(format="onnx", imgsz=args.imgsz, device="cpu"))
        images = calibration_images(data, args.imgsz)
        graph = onnx.load(str(fp32)).graph
        models = {"float32": fp32}
        for key, (_, options, which) in SETTINGS.items():
            models[key] = quantize(fp32, Path(folder) / f"{key}.onnx", images, options, kept_float(graph, which))
        times = time_interleaved([{k: runner(p, args.imgsz, args.threads) for k, p in models.items()}], args.warmup,
                                 args.runs)[0]  # fmt: skip
        lines = [
            f"`{args.model}` on the val split of `{args.data}`, {args.imgsz} px; latency on {machine(args.threads)}, "
            f"batch 1, median ± IQR of {args.runs} interleaved runs.",
            "",
            "| ONNX Runtime setting | mAP50 | mAP50-95 | ms | ÷ float32 |",
            "|---|---|---|---|---|",
        ]
        base = summary(times["float32"])[0]
        for key, path in models.items():
            map50, map50_95 = validate(path, data, args.imgsz)
            median, iqr = summary(times[key])
            title = SETTINGS[key][0] if key in SETTINGS else "float32"
            lines.append(f"| {title} | {map50:.3f} | {map50_95:.3f} | {median:.1f} ± {iqr:.1f} | {median / base:.2f} |")
            print(lines[-1], flush=True)
    args.out.write_text("# ONNX Runtime INT8 settings\n\n" + "\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
