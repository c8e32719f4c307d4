"""INT8 against float32 for every shipped detect model at scale n, each trained until it detects something.

On COCO128's person split only the ImageNet MobileNetV2 learns enough to measure (`edge.py`); every model from scratch
stays near zero mAP there (bench/accuracy.md), where a parity check means nothing. Here each model trains on a
synthetic set it can learn from scratch on a CPU (`shapes.py`: three shape classes on crops of real photographs), then:

1. bench-accuracy trains it (its ImageNet backbone where the file is cached, else from scratch), RECIPE's epochs;
2. `int8.measure` exports it with Ultralytics' own exporter to ONNX and OpenVINO (and LiteRT for the lite MobileNetV2
   and ShuffleNetV2), float32 and INT8 (`quantize=8` calibrated on the train split), validates every export on the
   held-out val split and times it;
3. an end-to-end model (`end2end: True`) is measured twice: its default export (the one-to-many branch, NMS after
   the graph) and its `nms=False` export (the one-to-one branch's final detections in the graph), each against
   PyTorch validated the same way.

Every step resumes: training runs are read back, each model's exports are kept in WORK/int8/MODEL.json, and each
measured model's result is recorded in parity-records/MODEL.json beside this file. Those records are committed, so a
fresh checkout goes on where the last one stopped (the whole bench is hours more than one sitting on 2 cores); a
record made with another recipe, data or INT8 settings is measured again. Writes parity.md beside this file.

    python -m bench.parity --backgrounds ../shared/datasets/coco128/images/train2017  # as make does
    python -m bench.parity --models yolo11n-lite-shufflenetv2.yaml epochs=2             # any yolo train KEY=VALUE
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import (
    FORMATS,
    OUR_OPTIONS,
    bench_accuracy,
    bench_accuracy_recipe,
    best,
    read_record,
    validate,
    write_record,
)
from bench.int8 import measure
from bench.shapes import write_shapes_set
from ultralytics_light.timing import machine

IMGSZ = 160
RECIPE = ["epochs=50", f"imgsz={IMGSZ}"]  # after bench-accuracy's: batch 16, nbs 16, no warm-up
LITERT = {"yolo11n-lite-mobilenetv2", "yolo11n-lite-shufflenetv2"}  # the edge pair; LiteRT exports are slow
KEPT = 0.95  # INT8 keeps at least this share of the float32 export's mAP50
RECORDS = Path(__file__).parent / "parity-records"
MEANINGFUL = 0.3  # float32 mAP50 below this: too few real detections for parity to mean much
# How `quantize=8` quantizes our models (patches/onnx_int8_quantize.py, patches/openvino_int8_overflow.py): recorded,
# so that a record made before these changed (before 7-bit weights, say) is measured again
INT8_SETTINGS = {"onnxruntime": OUR_OPTIONS, "openvino": {"overflow_fix": "every layer"}}


def detect_models() -> list[str]:
    """Every shipped detect model YAML at scale n (the other tasks' files end in -cls, -seg, -pose, -obb)."""
    from ultralytics_light.cfg import model_names

    tasks = ("-cls.yaml", "-seg.yaml", "-pose.yaml", "-obb.yaml")
    detect = [name.replace("-", "n-", 1) for name in model_names() if not name.endswith(tasks)]
    # The TFLite pair first, then the other lite models (the edge ones, and the quickest to train), then the rest.
    return sorted(detect, key=lambda name: (Path(name).stem not in LITERT, "-lite-" not in name))


def end_to_end(model: str) -> bool:
    """Whether a model YAML has YOLO26's dual head (`end2end: True`), whose `nms=False` export is measured too."""
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml

    return bool(YAML.load(find_model_yaml(model)).get("end2end"))


def exports(checkpoint: Path, label: str, data: Path, cache: Path, nms: bool | None = None) -> dict[str, dict]:
    """{'onnx fp32': row, 'onnx int8': row, …} of `int8.measure`, read from `cache` when measured before."""
    if not cache.is_file():
        formats = FORMATS if label in LITERT else ("onnx", "openvino")
        rows = measure(str(checkpoint), label, str(data), IMGSZ, formats, val=True, nms=nms)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(rows, indent=1))
    return {row["export"]: row for row in json.loads(cache.read_text())}


def current(model: str, records: Path, common: list[str], backgrounds: str) -> dict | None:
    """A model's record if it was made with this recipe (ours and bench-accuracy's) on these backgrounds (and, for an
    end-to-end model, has its nms=False measurement), else None."""
    expected = {"recipe": common, "backgrounds": backgrounds, "bench_accuracy_recipe": bench_accuracy_recipe(),
                "int8_settings": INT8_SETTINGS}  # fmt: skip
    record = read_record(records / f"{Path(model).stem}.json", **expected)
    return None if record is None or (end_to_end(model) and "nms_free" not in record) else record


def measured(model: str, work: Path, data: Path, common: list[str], backgrounds: str, records: Path) -> dict:
    """A model's record ({'recipe', 'backgrounds', 'machine', 'init', 'map50', 'exports'}, and for an end-to-end
    model 'nms_free': {'map50', 'exports'}): read from `records` when it was measured with this recipe on these
    backgrounds, else trained, exported, measured and recorded there."""
    label = Path(model).stem
    known = current(model, records, common, backgrounds)
    if known is not None:
        return known
    row = bench_accuracy(work / "trained", data, [model], common)[0]
    checkpoint = best(work / "trained", label)
    rows = exports(checkpoint, label, data, work / "int8" / f"{label}.json")
    result = {"recipe": common, "bench_accuracy_recipe": bench_accuracy_recipe(), "int8_settings": INT8_SETTINGS,
              "backgrounds": backgrounds, "machine": machine(2), "init": row["init"], "map50": float(row["map50"]),
              "exports": rows}  # fmt: skip
    if end_to_end(model):
        nms_free = exports(checkpoint, label, data, work / "int8" / f"{label}-nms-false.json", nms=False)
        pytorch = validate(checkpoint, str(data), IMGSZ, nms=False)[0]  # PyTorch's one-to-one branch
        result["nms_free"] = {"map50": float(pytorch), "exports": nms_free}
    return write_record(records / f"{label}.json", result)


def map50s(rows: dict[str, dict], fmt: str) -> tuple[float, float] | None:
    """(float32, INT8) mAP50 of one runtime; None where it was not exported."""
    return (rows[f"{fmt} fp32"]["map50"], rows[f"{fmt} int8"]["map50"]) if f"{fmt} int8" in rows else None


def kept(fp32: float, quantized: float) -> bool:
    """Whether INT8 keeps KEPT of the float32 mAP50."""
    return quantized >= KEPT * fp32


def cell(pair: tuple[float, float] | None) -> str:
    """'fp32 → int8 (kept %)' mAP50 cell of one runtime, blank where it was not exported."""
    if pair is None:
        return ""
    fp32, quantized = pair
    share = quantized / fp32 if fp32 else 0.0
    return f"{fp32:.3f} → {quantized:.3f} ({share:.0%}){'' if kept(*pair) else ' ✗'}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backgrounds", type=Path, help="a folder of .jpg photographs (default: noise backgrounds)")
    parser.add_argument("--models", nargs="+", default=None, help="model YAMLs (default: every shipped detect model)")
    parser.add_argument("--work", type=Path, default=Path("build/parity"), help="data, runs and exports (resumable)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "parity.md")
    parser.add_argument("--records", type=Path, default=RECORDS, help="each measured model's result (committed)")
    parser.add_argument("common", nargs="*", help="bench-accuracy / yolo train KEY=VALUE for every training run")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    data = write_shapes_set(work / "shapes", args.backgrounds.resolve() if args.backgrounds else None, size=IMGSZ)
    models = args.models or detect_models()
    backgrounds = args.backgrounds.name if args.backgrounds else "noise"
    common = [*RECIPE, *args.common]  # a KEY=VALUE given later overrides ours

    shown = list(dict.fromkeys([*detect_models(), *models]))  # the table: every model recorded so far, in order
    for model in models:  # one model at a time, each published as soon as it is measured
        measured(model, work, data, common, backgrounds, args.records)
        publish([(Path(m).stem, current(m, args.records, common, backgrounds)) for m in shown], common, args.out)


def publish(records: list[tuple[str, dict | None]], common: list[str], out: Path) -> None:
    """Write parity.md from the models' records (None: not measured with this recipe yet, named below the table)."""
    table = [
        "| model | backbone start | PyTorch mAP50 | ONNX Runtime FP32 → INT8 | OpenVINO FP32 → INT8 "
        "| LiteRT FP32 → INT8 |",
        "|---|---|---|---|---|---|",
    ]
    counts = {"onnx": [0, 0], "openvino": [0, 0], "litert": [0, 0]}  # [kept within KEPT, measured], meaningful rows
    rows = []  # (label, init, {'map50', 'exports'}): each model's default export, then an end-to-end one's nms=False
    for label, record in records:
        if record is not None:
            rows.append((label, record["init"], record))
            if "nms_free" in record:
                rows.append((f"{label}, nms=False", record["init"], record["nms_free"]))
    for label, init, result in rows:
        pairs = {fmt: map50s(result["exports"], fmt) for fmt in counts}
        cells = " | ".join(cell(pair) for pair in pairs.values())
        table.append(f"| {label} | {init} | {result['map50']:.3f} | {cells} |")
        for fmt, pair in pairs.items():
            if pair is not None and pair[0] >= MEANINGFUL:
                counts[fmt][0] += kept(*pair)
                counts[fmt][1] += 1
    names = {"onnx": "ONNX Runtime", "openvino": "OpenVINO", "litert": "LiteRT"}
    machines = "; and on ".join(dict.fromkeys(record["machine"] for _, record in records if record is not None))
    summary = "; ".join(f"{names[fmt]} {done} of {total}" for fmt, (done, total) in counts.items())
    headline = f"INT8 keeps {KEPT:.0%} of the float32 mAP50 (rows reaching {MEANINGFUL} in float32): {summary}."
    text = "\n".join(
        [
            "# INT8 against float32, every shipped detect model",
            "",
            f"Data: `bench/shapes.py`, {IMGSZ} px; recipe: bench-accuracy's with {' '.join(common)}. Measured on "
            f"{machines}.",
            f"INT8 with Ultralytics' `quantize=8`, calibrated on the train split; mAP50 with `yolo val` on the "
            f"held-out val split; ✗: INT8 keeps less than {KEPT:.0%} of the float32 export's mAP50. Latency: "
            "`bench/int8.md`. An end-to-end model has a second row, `nms=False`: its one-to-one branch's final "
            "detections in the graph, and PyTorch validated with nms=False too.",
            "",
            headline,
            "",
            *table,
        ]
    )
    pending = [label for label, record in records if record is None]
    if pending:
        text += f"\n\nNot measured with this recipe and data yet: {', '.join(pending)}."
    out.write_text(text + "\n")
    print(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
