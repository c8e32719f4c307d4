"""Benchmark: every shipped detect model (n and s) beside stock yolov5n, yolo11n and yolo26n, in one run.

For each model: parameters, GFLOPs at 640, CPU latency of the fused PyTorch model (channels-last, as Ultralytics'
AutoBackend runs it on x86 CPUs, and channels-first) and of its ONNX export (Ultralytics' exporter, ONNX Runtime), at
each size: median and interquartile range of `--runs` timed runs after `--warmup` untimed ones, batch 1, `--threads`
threads, ONNX Runtime's thread spinning off. Writes results.md, results.csv and latency_vs_params.png; `make bench`
then publishes them (bench/publish.py: the docs' Benchmarks page and the README's model table). Weights are random
(backbone rows with weights null): latency does not depend on them, and no ImageNet file is needed.

    python -m bench.speed                       # everything, as `make bench` runs it
    python -m bench.speed --models yolov5n-shufflenetv2.yaml --sizes 64 --runs 2 --warmup 1 --out /tmp/b
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import sys
import tempfile
from pathlib import Path

import torch

from bench.common import random_weights_yaml, write_csv
from ultralytics_light.timing import machine, ort_options, summary, time_interleaved

REFERENCES = ("yolov5n.yaml", "yolo11n.yaml", "yolo26n.yaml")


def shipped_models() -> list[str]:
    """Every shipped detect YAML at scales n and s, e.g. 'yolo11n-mobilenetv2.yaml' (not -seg/-pose/-obb/-cls)."""
    from ultralytics_light.cfg import model_names

    detect = [
        name for name in model_names() if not name.endswith(("-seg.yaml", "-pose.yaml", "-obb.yaml", "-cls.yaml"))
    ]
    return [name.replace("-", f"{scale}-", 1) for name in detect for scale in "ns"]


def build(name: str, sizes: list[int], threads: int, folder: Path) -> tuple[dict, dict]:
    """Static figures of one model, and its runnable forms: fused PyTorch and an ONNX Runtime session per size."""
    import onnxruntime as ort
    from ultralytics import YOLO
    from ultralytics.utils.torch_utils import get_flops

    yolo = YOLO(random_weights_yaml(name, folder))
    model = yolo.model.eval()
    row = {
        "model": Path(name).stem,
        "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
        "gflops_640": get_flops(model, 640),
    }
    fused = copy.deepcopy(model).fuse(verbose=False)
    # As `yolo predict model=best.pt` runs it on x86 CPUs: Ultralytics' AutoBackend puts the weights in channels-last.
    channels_last = copy.deepcopy(fused).to(memory_format=torch.channels_last)
    options = ort_options(threads)
    runners = {}
    for size in sizes:
        x = torch.rand(1, 3, size, size)
        session = ort.InferenceSession(
            yolo.export(format="onnx", imgsz=size), options, providers=["CPUExecutionProvider"]
        )
        feed = {session.get_inputs()[0].name: x.numpy()}
        runners[f"torch_ms_{size}"] = lambda fused=fused, x=x: fused(x)
        runners[f"torchcl_ms_{size}"] = lambda channels_last=channels_last, x=x: channels_last(x)
        runners[f"ort_ms_{size}"] = lambda session=session, feed=feed: session.run(None, feed)
    return row, runners


def add_ratios(rows: list[dict], sizes: list[int]) -> None:
    by_name = {row["model"]: row for row in rows}
    for reference in ("yolo11n", "yolo26n"):
        if reference not in by_name:
            continue
        for row in rows:
            for metric in (
                "params_M",
                "gflops_640",
                *(f"{k}_ms_{s}" for k in ("torch", "torchcl", "ort") for s in sizes),
            ):
                row[f"{metric}/{reference}"] = row[metric] / by_name[reference][metric]


def markdown(rows: list[dict], sizes: list[int], about: str) -> str:
    lines = [
        f"Measured on {about}. Batch 1, random weights; latency = median (± interquartile range) of timed runs "
        f"after warm-up, all models timed interleaved; ratios are ONNX Runtime latency over yolo11n's / yolo26n's. "
        f"PyTorch is fused, channels-last (as `yolo predict model=best.pt` runs it on x86 CPUs) and channels-first. "
        f"ONNX Runtime threads sleep between runs (spinning off), so that one model's idle threads do not take the "
        f"next one's cores.",
        "",
        "| model | params (M) | GFLOPs 640 | "
        + " | ".join(f"PyTorch CL {s} ms | PyTorch {s} ms | ORT {s} ms | ORT {s} ÷ 11n | ORT {s} ÷ 26n" for s in sizes)
        + " |",
        "|---" * (3 + 5 * len(sizes)) + "|",
    ]
    for r in rows:
        cells = [r["model"], f"{r['params_M']:.2f}", f"{r['gflops_640']:.1f}"]
        for s in sizes:
            cells += [
                f"{r[f'torchcl_ms_{s}']:.1f} ± {r[f'torchcl_iqr_{s}']:.1f}",
                f"{r[f'torch_ms_{s}']:.1f} ± {r[f'torch_iqr_{s}']:.1f}",
                f"{r[f'ort_ms_{s}']:.1f} ± {r[f'ort_iqr_{s}']:.1f}",
                f"{r.get(f'ort_ms_{s}/yolo11n', float('nan')):.2f}",
                f"{r.get(f'ort_ms_{s}/yolo26n', float('nan')):.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], size: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in rows:
        stock = r["model"].startswith(("yolov5n", "yolo11n", "yolo26n")) and "-" not in r["model"]
        ax.scatter(r["params_M"], r[f"ort_ms_{size}"], marker="s" if stock else "o", color="grey" if stock else "C0")
        ax.annotate(
            r["model"], (r["params_M"], r[f"ort_ms_{size}"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel("parameters (M)")
    ax.set_ylabel(f"ONNX Runtime CPU latency at {size} (ms, median)")
    ax.set_title("ultralytics-light models (circles) vs stock Ultralytics (squares)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models", nargs="+", help="model YAML names (default: all shipped at n and s, and references)"
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[320, 640])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    torch.set_num_threads(args.threads)
    models = args.models or [*shipped_models(), *REFERENCES]
    about = machine(args.threads)
    print(f"{len(models)} models, sizes {args.sizes}, {args.threads} threads, warm-up {args.warmup}, runs {args.runs}")
    print(f"machine: {about}")
    rows, runners = [], []
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):  # exports land in the working directory
        for i, name in enumerate(models, 1):
            print(f"[{i}/{len(models)}] building and exporting {name} …", flush=True)
            row, runner = build(name, args.sizes, args.threads, Path(folder))
            rows.append(row)
            runners.append(runner)
        print(
            f"timing {len(models)} models interleaved: {args.warmup} warm-up + {args.runs} timed runs each", flush=True
        )
        for row, times in zip(rows, time_interleaved(runners, args.warmup, args.runs)):
            for key, values in times.items():
                row[key], row[key.replace("_ms_", "_iqr_")] = summary(values)
    add_ratios(rows, args.sizes)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "results.csv", [{**row, "machine": about} for row in rows])
    table = markdown(rows, args.sizes, about)
    (args.out / "results.md").write_text("# Benchmark\n\n" + table)
    plot(rows, max(args.sizes), args.out / "latency_vs_params.png")
    print(table)
    print(f"wrote {args.out / 'results.md'}, {args.out / 'results.csv'}, {args.out / 'latency_vs_params.png'}")


if __name__ == "__main__":
    main(sys.argv[1:])
