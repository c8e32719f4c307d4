"""`bench-accuracy`'s table: one row per model (and scratch twin) over its seeds, as markdown, CSV and a plot."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from ultralytics_light.accuracy.plan import Variant
from ultralytics_light.accuracy.run import Result

# how the latency column and the plot's axis name the runtime the latencies were measured in (latency.RUNTIMES)
COLUMN_NAMES = {"onnxruntime": "ORT", "openvino": "OpenVINO", "ncnn": "NCNN", "litert": "LiteRT"}
AXIS_NAMES = {"onnxruntime": "ONNX Runtime CPU", "openvino": "OpenVINO", "ncnn": "NCNN", "litert": "LiteRT"}


@dataclass
class Row:
    """One row of the table: a model's variant over its seeds.

    Args:
        model: The variant's label, e.g. 'yolo11n-lite-mobilenetv2 (scratch)'.
        init: Where its backbone started.
        params_M: Parameters, in millions.
        seeds: How many seeds it trained at.
        ort_ms: ONNX Runtime latency of its architecture, median (ms).
        ort_iqr: Its interquartile range (ms).
        map50: mAP50, mean over seeds; `map50_spread` is the range over seeds. Likewise mAP50-95.
        pareto: Whether no other row is both at least as fast and at least as accurate (mAP50-95).
        reference_ratio: Latency over the reference's (`reference`), None without one.
        reference_map_ratio: mAP50-95 over the reference's, None without one.
        pretraining_gain: mAP50 over its scratch twin's, for a row from ImageNet that has a twin.
        distillation_gain: mAP50-95 over the same model's trained alone, for a distilled row.
        train_min: Training time per seed, mean in minutes, where recorded.
        reference: Whether it is a stock architecture (what a user would otherwise pick).
    """

    model: str
    init: str
    params_M: float
    seeds: int
    ort_ms: float
    ort_iqr: float
    map50: float
    map50_spread: float
    map50_95: float
    map50_95_spread: float
    pareto: bool = False
    reference_ratio: float | None = None
    reference_map_ratio: float | None = None
    pretraining_gain: float | None = None
    distillation_gain: float | None = None
    train_min: float | None = None
    reference: bool = False


def reference(rows: list[Row]) -> Row | None:
    """The row the ratios are against: the first stock model fine-tuned from COCO, else the first from another
    checkpoint, else the first stock model trained from scratch; None without a stock model."""
    stock = [row for row in rows if row.reference]
    for start in ("COCO", "checkpoint", "scratch"):
        found = next((row for row in stock if row.init == start), None)
        if found:
            return found
    return None


def reference_name(row: Row | None) -> str:
    """How the header names the reference: 'yolo26n (COCO)', 'yolo26n (scratch: no COCO checkpoint here)'."""
    if row is None:
        return ""
    return row.model if row.init != "COCO" else f"{row.model} (COCO)"


def short_name(row: Row | None) -> str:
    """How the ratio columns name the reference: its model without the notes, e.g. 'yolo26n'."""
    return row.model.split(" (")[0] if row else ""


def summarize(results: list[Result], latency: dict[str, tuple]) -> list[Row]:
    """One row per variant, fastest first: mean over seeds, seed spread, latency, gains, ratios, Pareto front."""
    by_variant: dict[Variant, list[Result]] = {}
    for result in results:
        by_variant.setdefault(result.run.variant, []).append(result)
    rows = {}
    for variant, seeds in by_variant.items():
        ms, iqr = latency[variant.name]
        spreads = {}
        for metric in ("map50", "map50_95"):
            values = [getattr(seed, metric) for seed in seeds]
            spreads[metric], spreads[f"{metric}_spread"] = sum(values) / len(values), max(values) - min(values)
        timed = [seed.train_s for seed in seeds if seed.train_s is not None]
        train_min = sum(timed) / len(timed) / 60 if timed else None
        rows[variant] = Row(variant.label, variant.init, seeds[0].params_M, len(seeds), ms, iqr, **spreads,
                            train_min=train_min, reference=variant.reference)  # fmt: skip
    for variant, row in rows.items():
        twin = next((r for v, r in rows.items() if v.scratch_twin and v.name == variant.name), None)
        if not variant.scratch_twin and variant.init == "ImageNet" and not variant.teacher and twin and twin.map50 > 0:
            row.pretraining_gain = row.map50 / twin.map50
        alone = next((r for v, r in rows.items() if v == Variant(variant.model, variant.name, variant.init,
                                                                 variant.pretrained)), None)  # fmt: skip
        if variant.teacher and alone and alone.map50_95 > 0:
            row.distillation_gain = row.map50_95 / alone.map50_95
        row.pareto = not any(
            other.ort_ms <= row.ort_ms
            and other.map50_95 >= row.map50_95
            and (other.ort_ms, other.map50_95) != (row.ort_ms, row.map50_95)
            for other in rows.values()
        )
    table = list(rows.values())
    ref = reference(table)
    for row in table if ref else []:
        row.reference_ratio = row.ort_ms / ref.ort_ms
        row.reference_map_ratio = row.map50_95 / ref.map50_95 if ref.map50_95 > 0 else None
    return sorted(table, key=lambda row: row.ort_ms)


def markdown(table: list[Row], about: str, runtime: str = "onnxruntime") -> str:
    """The table under `about`, its latency column named after the runtime it was measured in."""
    column = COLUMN_NAMES.get(runtime, runtime)
    ref = reference(table)
    named = reference_name(ref)
    if ref is None:
        about += " No stock model among the models: no reference, no ratio."
    else:
        about += (
            f" Reference: {named}, the stock model a user would otherwise fine-tune"
            + (" (its COCO checkpoint could not be had here, so it trained from scratch)" if ref.init == "scratch"
               else "")
            + f"; ÷ {short_name(ref)}: latency, and mAP50-95, over the reference's."
        )  # fmt: skip
    about += " ★: on the Pareto front of mAP50-95 against latency over every row, the reference's included."
    distilled = any(row.distillation_gain is not None for row in table)
    timed = any(row.train_min is not None for row in table)
    short = short_name(ref)
    columns = ["model", "backbone start", "params (M)", "mAP50", "mAP50-95", f"{column} ms"]
    columns += [f"{column} ÷ {short}", f"mAP50-95 ÷ {short}"] * bool(ref) + ["train min"] * timed
    columns += ["pretraining gain (mAP50)"] + ["distillation gain (mAP50-95)"] * distilled + ["Pareto"]
    lines = [about, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]

    def spread(value: float, spread: float, seeds: int) -> str:
        return f"{value:.3f}" + (f" (± {spread / 2:.3f})" if seeds > 1 else "")

    def ratio(value: float | None) -> str:
        return f"{value:.2f}" if value is not None else ""

    for row in table:
        cells = [row.model, row.init, f"{row.params_M:.2f}", spread(row.map50, row.map50_spread, row.seeds),
                 spread(row.map50_95, row.map50_95_spread, row.seeds), f"{row.ort_ms:.1f} ± {row.ort_iqr:.1f}"]  # fmt: skip
        cells += [ratio(row.reference_ratio), ratio(row.reference_map_ratio)] * bool(ref)
        cells += [f"{row.train_min:.1f}" if row.train_min is not None else ""] * timed
        cells += [f"{row.pretraining_gain:.1f}×" if row.pretraining_gain is not None else ""]
        cells += [f"{row.distillation_gain:.2f}×" if row.distillation_gain is not None else ""] * distilled
        cells += ["★" if row.pareto else ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(table: list[Row], path: Path) -> None:
    """The table as CSV; the ratio columns are named after their reference, e.g. ort_vs_yolo26n, map50_95_vs_yolo26n."""
    ref = reference(table)
    short = short_name(ref)
    records = []
    for row in table:
        record = asdict(row)
        ratio, map_ratio = record.pop("reference_ratio"), record.pop("reference_map_ratio")
        if ref:
            record[f"ort_vs_{short}"], record[f"map50_95_vs_{short}"] = ratio, map_ratio
        records.append(record)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


def plot(table: list[Row], imgsz: int, path: Path, runtime: str = "onnxruntime") -> None:
    """mAP50-95 against latency (measured in `runtime`), the Pareto front marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for row in table:
        ax.errorbar(
            row.ort_ms, row.map50_95, yerr=row.map50_95_spread / 2,
            fmt="*" if row.pareto else ("s" if row.reference else "o"),
            color="C1" if row.pareto else ("grey" if row.init.startswith("scratch") else "C0"), capsize=2,
        )  # fmt: skip
        ax.annotate(row.model, (row.ort_ms, row.map50_95), fontsize=7, xytext=(3, 3), textcoords="offset points")
    front = [row for row in table if row.pareto]
    ax.step([r.ort_ms for r in front], [r.map50_95 for r in front], where="post", color="C1", alpha=0.5)
    ax.set_xlabel(f"{AXIS_NAMES.get(runtime, runtime)} latency at {imgsz} (ms, median)")
    ax.set_ylabel("mAP50-95 on the held-out val split")
    ax.set_title("Pareto front (stars): nothing else is both faster and more accurate; squares: stock references")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
