"""What our ONNX Runtime INT8 settings change, model by model.

Every bench-parity model (float32 mAP50 at least 0.3) is exported to float32 ONNX and quantized twice: as stock
Ultralytics' `format=onnx quantize=8` does (ONNX Runtime's defaults: one scale per weight tensor, each activation
scaled to its extreme over all calibration images) and as it does for our models (patches/onnx_int8_quantize.py:
weights per channel, activation ranges averaged over images). Only convolutions and matrix products are quantized,
as Ultralytics does. Each is validated on bench-parity's held-out split. For each model the stock settings keep less
than 95 % of, each change is also tried alone, and PyTorch shows how far each layer's output reaches per calibration
image: under ONNX Runtime's default, one rare image with a large peak sets the INT8 scale of that activation for all.
Each model's result is recorded in ort-int8-settings-records/MODEL.json beside this file (committed, as bench-parity's
records are): a model measured before is read back, one neither measured nor trained in --work is listed as not
measured. Writes ort-int8-settings.md beside this file.

    python -m bench.ort_int8_settings --work build/parity    # after bench.parity, as `make bench-parity` does
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
from pathlib import Path

import numpy as np

from bench.common import OUR_OPTIONS, WEIGHTED, best, calibration_images, quantize, read_record, validate, write_record
from bench.parity import IMGSZ, MEANINGFUL, RECORDS, kept
from ultralytics_light.patches.onnx_int8_quantize import EXTRA_OPTIONS, QUANTIZE_STATIC

STOCK, OURS = "stock Ultralytics", "ours (`quantize=8` for our models)"
WAYS = {STOCK: {}, OURS: OUR_OPTIONS}
ALONE = {"per-channel weights alone": QUANTIZE_STATIC, "averaged ranges alone": {"extra_options": EXTRA_OPTIONS}}
OWN_RECORDS = Path(__file__).parent / "ort-int8-settings-records"


def meaningful(parity: Path) -> list[str]:
    """Labels of the models recorded by bench-parity in `parity` whose float32 ONNX export reaches a meaningful
    mAP50."""
    records = {path.stem: json.loads(path.read_text()) for path in sorted(parity.glob("*.json"))}
    return [label for label, record in records.items() if record["exports"]["onnx fp32"]["map50"] >= MEANINGFUL]


def recorded(label: str, work: Path, data: str, records: Path) -> tuple[dict[str, float], list[str]] | None:
    """`measure` of one bench-parity model, read from `records` when measured before; None without a record or a
    checkpoint in `work`."""
    record = records / f"{label}.json"
    known = read_record(record)
    if known is None:
        checkpoint = best(work / "trained", label)
        if not checkpoint.is_file():
            return None
        scores, detail = measure(checkpoint, data)
        known = write_record(record, {"scores": scores, "detail": detail})
    return known["scores"], known["detail"]


def output_peaks(checkpoint: Path, images: list[np.ndarray]) -> list[str]:
    """Markdown rows: each layer before Detect, and the largest |value| of its output per calibration image (median,
    99th percentile, maximum)."""
    import torch
    from ultralytics import YOLO

    model = YOLO(str(checkpoint)).model.float().eval()
    layers = model.model[:-1]
    peaks = {i: [] for i in range(len(layers))}

    def record(module, args, output, i: int) -> None:
        outputs = output if isinstance(output, (list, tuple)) else [output]  # a backbone row may give several
        peaks[i].append(max(o.abs().max().item() for o in outputs))

    for i, layer in enumerate(layers):
        layer.register_forward_hook(lambda module, args, output, i=i: record(module, args, output, i))
    with torch.no_grad():
        for x in images:
            model(torch.from_numpy(x))
    rows = []
    for i, values in peaks.items():
        median, p99, peak = np.percentile(values, [50, 99, 100])
        rows.append(f"| {i} ({type(layers[i]).__name__}) | {median:.1f} | {p99:.1f} | {peak:.1f} |")
    return rows


def measure(checkpoint: Path, data: str) -> tuple[dict[str, float], list[str]]:
    """({'float32': mAP50, STOCK: …, OURS: …}, detail lines where STOCK keeps too little) of one checkpoint."""
    import onnx
    from ultralytics import YOLO

    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        fp32 = Path(YOLO(str(checkpoint)).export(format="onnx", imgsz=IMGSZ, device="cpu"))
        images = calibration_images(data, IMGSZ)
        unweighted = [node.name for node in onnx.load(str(fp32)).graph.node if node.op_type not in WEIGHTED]
        scores = {"float32": validate(fp32, data, IMGSZ)}
        for index, (way, options) in enumerate({**WAYS, **ALONE}.items()):
            if way in ALONE and kept(scores["float32"][0], scores[STOCK][0]):
                break  # the stock settings keep enough: nothing to explain
            quantized = quantize(fp32, Path(folder) / f"{index}.onnx", images, options, unweighted)
            scores[way] = validate(quantized, data, IMGSZ)
    map50s = {way: map50 for way, (map50, _) in scores.items()}
    if ALONE.keys().isdisjoint(scores):
        return map50s, []
    base = scores["float32"][0]
    detail = [
        "| quantized | mAP50 | mAP50-95 | of float32 mAP50 |",
        "|---|---|---|---|",
        *(f"| {way} | {m50:.3f} | {m50_95:.3f} | {m50 / base:.0%} |" for way, (m50, m50_95) in scores.items()),
        "",
        "| layer | largest \\|output\\| per image: median | 99th percentile | maximum |",
        "|---|---|---|---|",
        *output_peaks(checkpoint, images),
    ]
    return map50s, detail


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("build/parity"), help="bench/parity.py's work folder")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "ort-int8-settings.md")
    parser.add_argument("--parity-records", type=Path, default=RECORDS, help="bench/parity.py's --records")
    parser.add_argument("--records", type=Path, default=OWN_RECORDS, help="each measured model's result (committed)")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    data = str(work / "shapes" / "data.yaml")
    summary = [
        f"| model | float32 | {STOCK} | {OURS} |",
        "|---|---|---|---|",
    ]
    details, missing = [], []
    for label in meaningful(args.parity_records):
        result = recorded(label, work, data, args.records)
        if result is None:
            missing.append(label)
            continue
        scores, detail = result
        base = scores["float32"]
        cells = " | ".join(f"{scores[way]:.3f} ({scores[way] / base:.0%})" for way in (STOCK, OURS))
        summary.append(f"| {label} | {base:.3f} | {cells} |")
        print(summary[-1], flush=True)
        if detail:
            details += ["", f"## {label}", "", *detail]
    lines = [
        "# ONNX Runtime INT8: stock Ultralytics' settings and ours",
        "",
        "Made with `bench/ort_int8_settings.py`: mAP50 of every bench-parity model's ONNX export, float32 and INT8 "
        f"(share of float32), on bench-parity's held-out split, {IMGSZ} px; details for each model that the stock "
        "settings keep less than 95 % of. The bench quantizes with ONNX Runtime itself, calibrated on the train split "
        "letterboxed by `bench/ort_int8.py`: its stock column equals Ultralytics' export's, its averaged ranges come "
        "within about 0.01 of `yolo export`'s (bench/parity.md), whose loader resizes the images slightly differently.",
        "",
        *summary,
        *(["", f"Not measured (no record, no checkpoint in {args.work}): {', '.join(missing)}."] if missing else []),
        *details,
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
