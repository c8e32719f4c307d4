"""Where ONNX Runtime INT8 loses accuracy, for each bench-parity model whose ONNX Runtime INT8 export keeps less than
95 % of its float32 mAP50.

Each such checkpoint's float32 ONNX export is quantized as Ultralytics' `format=onnx quantize=8` does (ONNX Runtime's
`quantize_static` defaults, only convolutions and matrix products quantized), once as is and once with one part of
the model left in float32: our backbone, Ultralytics' layers between it and Detect, or Detect. Per-channel weights
are tried too. Each is validated on bench-parity's held-out split. Writes ort-int8-layers.md beside this file.

    python bench/ort_int8_layers.py --work build/parity    # after bench/parity.py, as `make bench-parity` does
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from pathlib import Path

from edge import best
from int8 import validate
from ort_int8 import WEIGHTED, calibration_images, layer_of, quantize
from parity import IMGSZ, MEANINGFUL, kept


def failing(work: Path) -> list[str]:
    """Labels of the measured models whose ONNX Runtime INT8 export keeps too little of a meaningful mAP50."""
    labels = []
    for cache in sorted((work / "int8").glob("*.json")):
        rows = {row["export"]: row for row in json.loads(cache.read_text())}
        fp32, quantized = rows["onnx fp32"]["map50"], rows["onnx int8"]["map50"]
        if fp32 >= MEANINGFUL and not kept(fp32, quantized):
            labels.append(cache.stem)
    return labels


def parts(checkpoint: Path) -> dict[str, set[int]]:
    """Layer indices of our backbone, of Ultralytics' layers after it, and of Detect, in the checkpoint's model."""
    from ultralytics import YOLO

    layers = YOLO(str(checkpoint)).model.model
    ours = {i for i, layer in enumerate(layers) if type(layer).__module__.startswith("ultralytics_light")}
    detect = {len(layers) - 1}
    return {"our backbone": ours, "Ultralytics' neck": set(range(len(layers))) - ours - detect, "Detect": detect}


def measure(checkpoint: Path, data: str) -> list[str]:
    """Markdown rows: (way, mAP50, mAP50-95, share of float32 mAP50) for each way to quantize the checkpoint."""
    import onnx
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        fp32 = Path(YOLO(str(checkpoint)).export(format="onnx", imgsz=IMGSZ, device="cpu"))
        images = calibration_images(data, IMGSZ)
        nodes = onnx.load(str(fp32)).graph.node
        unweighted = [node.name for node in nodes if node.op_type not in WEIGHTED]
        ways = {"Ultralytics' INT8": ({}, unweighted)}
        for part, layers in parts(checkpoint).items():
            left = [node.name for node in nodes if node.op_type in WEIGHTED and layer_of(node.name) in layers]
            ways[f"{part} left float32 ({len(left)} Conv/MatMul nodes)"] = ({}, unweighted + left)
        ways["per-channel weights"] = ({"per_channel": True}, unweighted)
        scores = {"float32": validate(fp32, data, IMGSZ)}
        for index, (way, (options, exclude)) in enumerate(ways.items()):
            quantized = quantize(fp32, Path(folder) / f"{index}.onnx", images, options, exclude)
            scores[way] = validate(quantized, data, IMGSZ)
    base = scores["float32"][0]
    return [
        f"| {way} | {map50:.3f} | {map50_95:.3f} | {map50 / base:.0%} |" for way, (map50, map50_95) in scores.items()
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("build/parity"), help="bench/parity.py's work folder")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "ort-int8-layers.md")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    data = str(work / "shapes" / "data.yaml")
    lines = [
        "# Where ONNX Runtime INT8 loses accuracy",
        "",
        "Made with `bench/ort_int8_layers.py`: every bench-parity model whose ONNX Runtime INT8 export keeps less than "
        "95 % of its float32 mAP50, quantized as Ultralytics does but with one part left in float32; mAP on "
        f"bench-parity's held-out split, {IMGSZ} px.",
    ]
    for label in failing(work):
        lines += ["", f"## {label}", "", "| quantized | mAP50 | mAP50-95 | of float32 mAP50 |", "|---|---|---|---|"]
        lines += measure(best(work / "trained", label), data)
        print("\n".join(lines), flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
