"""The speed/accuracy front of our backbones: ImageNet top-1 of each against the latency of its lite n model.

Reads `make bench`'s results.csv (it measures nothing): every shipped lite model at scale n, with the ImageNet top-1
of the backbone it builds there (its DEFAULT weights), from torchvision's weights metadata or, for timm's, as timm
publishes it (ultralytics_light/timm_top1.py). A backbone dominates another when its top-1 is higher and its lite n
model is faster in ONNX Runtime at every size measured. Writes front.md and front.png; `make bench` runs it after
bench/speed.py, and bench/publish.py puts both in the docs.

    python -m bench.front
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NamedTuple

from bench.common import read_csv

HERE = Path(__file__).parent
REFERENCE = "yolo26n"


class Backbone(NamedTuple):
    """What a lite n model is built on."""

    library: str
    builder: str
    tag: str
    top1: float


def backbone_of(model: str, scale: str = "n") -> Backbone:
    """The backbone a shipped model YAML builds at `scale`, its DEFAULT weights' tag and their ImageNet top-1."""
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml
    from ultralytics_light.families import FAMILIES

    _, _, module, args = YAML.load(find_model_yaml(model))["backbone"][0]
    family = FAMILIES[module]
    builder = family.read([scale if arg == "scale" else arg for arg in args]).builder
    if family.library == "timm":
        from ultralytics_light.timm_backbone import pretrained_tag
        from ultralytics_light.timm_top1 import TOP1

        tagged = pretrained_tag(builder, "DEFAULT")
        return Backbone("timm", builder, tagged.partition(".")[2], TOP1[tagged])
    from ultralytics_light.weights import weights_enum

    default = weights_enum(builder).DEFAULT
    return Backbone("torchvision", builder, default.name, default.meta["_metrics"]["ImageNet-1K"]["acc@1"])


def sizes_of(row: dict) -> list[int]:
    """The image sizes results.csv has ONNX Runtime latency for, e.g. [320, 640]."""
    return sorted(int(key.rpartition("_")[2]) for key in row if key.startswith("ort_ms_") and "/" not in key)


def front_rows(results: list[dict]) -> list[dict]:
    """One row per lite n model in `results`: its backbone, top-1 and latency; fastest at the largest size first."""
    rows = []
    for result in results:
        if not result["model"].startswith("yolo11n-lite-"):
            continue
        backbone = backbone_of(result["model"] + ".yaml")
        rows.append({**result, **backbone._asdict()})
    size = max(sizes_of(results[0]))
    return sorted(rows, key=lambda row: float(row[f"ort_ms_{size}"]))


def dominated_by(row: dict, rows: list[dict], sizes: list[int]) -> list[str]:
    """The backbones with a higher top-1 whose lite n model is faster at every size."""
    return [
        other["builder"]
        for other in rows
        if other["top1"] > row["top1"] and all(float(other[f"ort_ms_{s}"]) < float(row[f"ort_ms_{s}"]) for s in sizes)
    ]


def markdown(rows: list[dict], sizes: list[int], about: str) -> str:
    from ultralytics_light.timm_top1 import SOURCE

    lines = [
        f"Lite n models, latency from `make bench` ({about}). ImageNet top-1 of each backbone's DEFAULT weights: "
        f"torchvision's from its weights metadata, timm's as timm publishes them ([results-imagenet.csv]({SOURCE}), "
        f"at the tag's own input size). Dominated by: backbones with a higher top-1 whose lite n model is faster at "
        f"{' and '.join(map(str, sizes))}.",
        "",
        "| backbone | library | weights | ImageNet top-1 | lite n model | params (M) | GFLOPs 640 | "
        + " | ".join(f"ORT {s} ms | ORT {s} ÷ 26n" for s in reversed(sizes))
        + " | dominated by |",
        "|---" * (8 + 2 * len(sizes)) + "|",
    ]
    for row in rows:
        cells = [
            f"`{row['builder']}`",
            row["library"],
            row["tag"],
            f"{row['top1']:.2f} %",
            row["model"],
            f"{float(row['params_M']):.2f}",
            f"{float(row['gflops_640']):.1f}",
        ]
        for s in reversed(sizes):
            ratio = row.get(f"ort_ms_{s}/{REFERENCE}")
            cells += [f"{float(row[f'ort_ms_{s}']):.1f}", f"{float(ratio):.2f}" if ratio else ""]
        cells.append(", ".join(f"`{b}`" for b in dominated_by(row, rows, sizes)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], size: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for library, marker, color in (("torchvision", "o", "C0"), ("timm", "^", "C1")):
        mine = [row for row in rows if row["library"] == library]
        ax.scatter([float(r[f"ort_ms_{size}"]) for r in mine], [r["top1"] for r in mine], marker=marker, color=color,
                   label=f"{library} backbone")  # fmt: skip
        for r in mine:
            ax.annotate(r["builder"], (float(r[f"ort_ms_{size}"]), r["top1"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    ax.set_xlabel(f"lite n model: ONNX Runtime CPU latency at {size} (ms, median)")
    ax.set_ylabel("backbone ImageNet top-1 (%)")
    ax.set_title("Backbone accuracy against detector latency (up and left is better)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=HERE / "results.csv", help="make bench's results.csv")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    results = read_csv(args.results)
    about = results[0]["machine"]
    rows = front_rows(results)
    sizes = sizes_of(results[0])
    table = markdown(rows, sizes, about)
    (args.out / "front.md").write_text("# Speed/accuracy front\n\n" + table)
    plot(rows, max(sizes), args.out / "front.png")
    print(table)


if __name__ == "__main__":
    main()
