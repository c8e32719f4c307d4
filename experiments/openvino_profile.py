"""Where OpenVINO spends its time, float32 against INT8: each model (random weights) exported by Ultralytics and run
with OpenVINO's per-node performance counters, summed per layer of the model's YAML. Shows which layers gain from
INT8 and which do not. Writes openvino-profile.md beside this file; what it found: README.md beside this file.

    python -m bench.shapes build/parity/shapes --backgrounds ../shared/datasets/coco128/images/train2017
    python -m experiments.openvino_profile --models yolo11n-lite-shufflenetv2.yaml --data build/parity/shapes/data.yaml
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import statistics
import tempfile
from pathlib import Path

import numpy as np

from bench.common import export_all, random_weights_yaml
from ultralytics_light.timing import machine

LAYER = re.compile(r"__module\.model\.(\d+)([./]?)")  # OpenVINO's node names start with the PyTorch module's path


def layer_names(model: str) -> tuple[list[str], int]:
    """'index module' of each layer of a model YAML, as Ultralytics builds it, and how many form the backbone."""
    from ultralytics import YOLO

    built = YOLO(model).model
    names = [f"{index} {layer.type.rsplit('.', 1)[-1]}" for index, layer in enumerate(built.model)]
    return names, len(built.yaml["backbone"])


def node_times(
    xmls: list[Path], imgsz: int, threads: int, warmup: int, runs: int
) -> list[dict[tuple[str, str], float]]:
    """For each model, the median µs per inference of each (node name, 'operation (kernel)') as OpenVINO's CPU plugin
    reports them, float32 pinned for whatever stays float; the models run in turn, so drift in load hits all alike."""
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY",
              "PERF_COUNT": True}  # fmt: skip
    requests = [ov.Core().compile_model(str(xml), "CPU", config).create_infer_request() for xml in xmls]
    x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
    times = [collections.defaultdict(list) for _ in xmls]
    for run in range(warmup + runs):
        for request, model_times in zip(requests, times):
            request.infer({0: x})
            for node in request.get_profiling_info() if run >= warmup else ():
                key = (node.node_name, f"{node.node_type} ({node.exec_type})")
                model_times[key].append(node.real_time.total_seconds() * 1e6)
    return [{key: statistics.median(us) for key, us in model_times.items()} for model_times in times]


def layer_of(node: str) -> int:
    """The index of the model layer a node belongs to; -1 for the input and output."""
    match = LAYER.match(node)
    return int(match.group(1)) if match else -1


def group(node: str, names: list[str]) -> str:
    """The layer a node belongs to; the Detect layer's own operations (its box and score decode, which
    Ultralytics' INT8 export leaves in float32) apart from its convolutions; the input's conversion apart."""
    match = LAYER.match(node)
    if match is None:
        return "input and output"
    name = names[int(match.group(1))]
    return f"{name} decode" if name.endswith("Detect") and match.group(2) == "/" else name


def profile(model: str, data: str, imgsz: int, threads: int, warmup: int, runs: int) -> list[str]:
    """Markdown lines of one model: per-layer float32 and INT8 time, and where INT8 spends its time."""
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        names, backbone = layer_names(random_weights_yaml(model, Path(folder)))
        paths = export_all(model, "model", imgsz, data, Path(folder), "val", ("openvino",))
        xmls = [next(paths[f"openvino {precision}"].glob("*.xml")) for precision in ("fp32", "int8")]
        fp32, quantized = node_times(xmls, imgsz, threads, warmup, runs)
    per_layer = {precision: collections.Counter() for precision in ("fp32", "int8")}
    for precision, times in (("fp32", fp32), ("int8", quantized)):
        for (node, _), us in times.items():
            per_layer[precision][group(node, names)] += us
    total = {precision: sum(layers.values()) for precision, layers in per_layer.items()}
    lines = [
        f"## {Path(model).stem}",
        "",
        f"Sum of node times: float32 {total['fp32'] / 1e3:.2f} ms, INT8 {total['int8'] / 1e3:.2f} ms "
        f"(INT8 ÷ FP32 {total['int8'] / total['fp32']:.2f}).",
        "",
        "| layer | FP32 ms | INT8 ms | INT8 ÷ FP32 | share of INT8 time |",
        "|---|---|---|---|---|",
    ]
    order = [label for name in names for label in (name, f"{name} decode")] + ["input and output"]
    for layer in sorted(per_layer["int8"].keys() | per_layer["fp32"].keys(), key=order.index):
        a, b = per_layer["fp32"][layer], per_layer["int8"][layer]
        if max(a, b) >= 0.01 * total["int8"]:
            lines.append(f"| {layer} | {a / 1e3:.3f} | {b / 1e3:.3f} | {b / a if a else 0:.2f} | "
                         f"{b / total['int8']:.0%} |")  # fmt: skip
    kernels = collections.Counter()
    for (_, kernel), us in quantized.items():
        kernels[kernel] += us
    slowest = ", ".join(f"{kernel} {us / total['int8']:.0%}" for kernel, us in kernels.most_common(6))
    lines += ["", f"INT8 time by operation (kernel): {slowest}.", "", "INT8 depthwise convolutions by kernel:"]
    for part, layers in (("backbone", range(backbone)), ("neck and head", range(backbone, len(names)))):
        in_part = (kernel for node, kernel in quantized if layer_of(node) in layers)
        depthwise = collections.Counter(kernel for kernel in in_part if kernel.startswith("GroupConvolution"))
        lines.append(f"- {part}: {', '.join(f'{n} {kernel}' for kernel, n in depthwise.most_common()) or 'none'}")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", required=True, help="model YAML names")
    parser.add_argument("--data", required=True, help="data YAML whose val split calibrates INT8")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "openvino-profile.md")
    args = parser.parse_args(argv)
    data = str(Path(args.data).resolve())
    lines = [
        "# OpenVINO per-layer profile, float32 against INT8",
        "",
        f"Made with `experiments/openvino_profile.py`. Measured on {machine(args.threads)}; {args.imgsz} px, batch 1, "
        f"per-node median of {args.runs} runs of OpenVINO's performance counters, float32 and INT8 in turn. Node times "
        "do not add up to the wall-clock latency of `bench/int8.md`, which also counts copying the input and output.",
        "",
    ]
    for model in args.models:
        lines += (model_lines := profile(model, data, args.imgsz, args.threads, args.warmup, args.runs))
        print("\n".join(model_lines), flush=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
