"""`bench-accuracy`'s table: one row per model (and scratch twin) over its seeds, as markdown, CSV and a plot."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from ultralytics_light.accuracy.plan import STOCK
from ultralytics_light.accuracy.run import Result


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
        reference_ratio: Latency over the reference stock model's (`latency_reference`), None without one.
        pretraining_gain: mAP50 over its scratch twin's, for a row from ImageNet that has a twin.
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
    pretraining_gain: float | None = None


def latency_reference(labels) -> str | None:
    """The stock model the latency ratios are against: the first of STOCK among the labels, else None."""
    return next((Path(name).stem for name in STOCK if Path(name).stem in labels), None)


def summarize(results: list[Result], latency: dict[str, tuple]) -> list[Row]:
    """One row per variant, fastest first: mean over seeds, seed spread, latency, pretraining gain, Pareto front."""
    by_variant = {}
    for result in results:
        by_variant.setdefault(result.run.variant, []).append(result)
    rows, twins = [], {}
    for variant, seeds in by_variant.items():
        ms, iqr = latency[variant.name]
        spreads = {}
        for metric in ("map50", "map50_95"):
            values = [getattr(seed, metric) for seed in seeds]
            spreads[metric], spreads[f"{metric}_spread"] = sum(values) / len(values), max(values) - min(values)
        row = Row(variant.label, variant.init, seeds[0].params_M, len(seeds), ms, iqr, **spreads)
        rows.append(row)
        if variant.scratch_twin:
            twins[variant.name] = row
    for variant, row in zip(by_variant, rows):
        twin = twins.get(variant.name)
        if not variant.scratch_twin and variant.init == "ImageNet" and twin and twin.map50 > 0:
            row.pretraining_gain = row.map50 / twin.map50
        row.pareto = not any(
            other.ort_ms <= row.ort_ms
            and other.map50_95 >= row.map50_95
            and (other.ort_ms, other.map50_95) != (row.ort_ms, row.map50_95)
            for other in rows
        )
    reference = latency_reference({row.model: row for row in rows})
    for row in rows if reference else []:
        row.reference_ratio = row.ort_ms / next(r.ort_ms for r in rows if r.model == reference)
    return sorted(rows, key=lambda row: row.ort_ms)


def markdown(table: list[Row], about: str) -> str:
    reference = latency_reference([row.model for row in table])
    stock = " or ".join(Path(name).stem for name in STOCK)
    about += f" ÷ {reference}: latency over {reference}'s." if reference else f" No {stock} among the models: no ratio."
    ratio = f" ÷ {reference} |" if reference else ""
    lines = [
        about,
        "",
        f"| model | backbone start | params (M) | mAP50 | mAP50-95 | ORT ms |{ratio} pretraining gain (mAP50) "
        "| Pareto |",
        "|---|---|---|---|---|---|" + ("---|" if reference else "") + "---|---|",
    ]

    def spread(value: float, spread: float, seeds: int) -> str:
        return f"{value:.3f}" + (f" (± {spread / 2:.3f})" if seeds > 1 else "")

    for row in table:
        gain = f"{row.pretraining_gain:.1f}×" if row.pretraining_gain is not None else ""
        vs_reference = f" {row.reference_ratio:.2f} |" if reference else ""
        lines.append(
            f"| {row.model} | {row.init} | {row.params_M:.2f} | {spread(row.map50, row.map50_spread, row.seeds)} | "
            f"{spread(row.map50_95, row.map50_95_spread, row.seeds)} | {row.ort_ms:.1f} ± {row.ort_iqr:.1f} |"
            f"{vs_reference} {gain} | {'★' if row.pareto else ''} |"
        )
    return "\n".join(lines) + "\n"


def write_csv(table: list[Row], path: Path) -> None:
    """The table as CSV; the ratio column is named after its reference, e.g. ort_vs_yolo11n."""
    reference = latency_reference([row.model for row in table])
    records = []
    for row in table:
        record = asdict(row)
        ratio = record.pop("reference_ratio")
        if reference:
            record[f"ort_vs_{reference}"] = ratio
        records.append(record)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


def plot(table: list[Row], imgsz: int, path: Path) -> None:
    """mAP50-95 against latency, the Pareto front marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for row in table:
        ax.errorbar(
            row.ort_ms, row.map50_95, yerr=row.map50_95_spread / 2, fmt="*" if row.pareto else "o",
            color="C1" if row.pareto else ("grey" if row.init != "ImageNet" else "C0"), capsize=2,
        )  # fmt: skip
        ax.annotate(row.model, (row.ort_ms, row.map50_95), fontsize=7, xytext=(3, 3), textcoords="offset points")
    front = [row for row in table if row.pareto]
    ax.step([r.ort_ms for r in front], [r.map50_95 for r in front], where="post", color="C1", alpha=0.5)
    ax.set_xlabel(f"ONNX Runtime CPU latency at {imgsz} (ms, median)")
    ax.set_ylabel("mAP50-95 on the held-out val split")
    ax.set_title("Pareto front (stars): nothing else is both faster and more accurate")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
