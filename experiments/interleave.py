"""ShuffleNetV2's channel shuffle as torchvision computes it against the one interleave `fuse()` makes of it
(`ultralytics_light/interleave.py`), and two other ways to write that interleave: the lite ShuffleNetV2 (random
weights) exported each way by Ultralytics, float32 and INT8, and timed interleaved, one runtime at a time. Writes
interleave.md beside this file; what it found: README.md beside this file.

    python -m bench.shapes build/parity/shapes --backgrounds ../shared/datasets/coco128/images/train2017
    python -m experiments.interleave --data build/parity/shapes/data.yaml --formats openvino onnx litert
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch

import ultralytics_light.backbone
from bench.common import FORMATS, export_all
from ultralytics_light.interleave import InterleavedInvertedResidual
from ultralytics_light.latency import runner
from ultralytics_light.timing import machine, summary, time_interleaved


def torchvisions_shuffle() -> contextlib.AbstractContextManager:
    """While entered, `fuse()` leaves ShuffleNetV2's blocks with torchvision's forward."""
    return mock.patch.object(ultralytics_light.backbone, "interleave_shuffles", lambda module: None)


def interleaved_by(combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> contextlib.AbstractContextManager:
    """While entered, the blocks `fuse()` interleaves combine their two halves with `combine` instead."""
    return mock.patch.object(InterleavedInvertedResidual, "forward", lambda self, x: combine(*self.branches(x)))


def channels_last_stack(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The interleave as a stack on the last axis of channels-last tensors, transposed back."""
    return torch.stack((a.permute(0, 2, 3, 1), b.permute(0, 2, 3, 1)), dim=4).flatten(3).permute(0, 3, 1, 2)


def gather(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The interleave as the concatenation, then a gather of its channels in interleaved order."""
    order = torch.arange(2 * a.shape[1]).view(2, -1).t().flatten()
    return torch.cat((a, b), dim=1).index_select(1, order)


# The first two are what `fuse()` chose between; the last two are alternatives that were slower in OpenVINO.
WAYS = {
    "torchvision's shuffle": torchvisions_shuffle,
    "interleave": contextlib.nullcontext,
    "channels-last stack": lambda: interleaved_by(channels_last_stack),
    "gather": lambda: interleaved_by(gather),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="yolo11n-lite-shufflenetv2.yaml")
    parser.add_argument("--data", required=True, help="data YAML whose val split calibrates INT8")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["openvino"], choices=FORMATS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "interleave.md")
    args = parser.parse_args(argv)
    data = str(Path(args.data).resolve())
    runners = {}
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        for index, (way, applied) in enumerate(WAYS.items()):
            (Path(folder) / str(index)).mkdir()
            with applied():
                paths = export_all(args.model, "model", args.imgsz, data, Path(folder) / str(index), "val",
                                   tuple(args.formats))  # fmt: skip
            runners.update({(key, way): runner(path, args.imgsz, args.threads) for key, path in paths.items()})
        # One runtime at a time: a runtime's worker threads may keep spinning after a run and slow the next runtime's.
        times = {}
        for fmt in args.formats:
            group = {k: run for k, run in runners.items() if k[0].split()[0] == fmt}
            times.update(time_interleaved([group], args.warmup, args.runs)[0])
    lines = [
        f"# {Path(args.model).stem}: channel shuffle against interleave",
        "",
        f"Made with `experiments/interleave.py`. Measured on {machine(args.threads)}; {args.imgsz} px, batch 1, "
        f"median ± IQR of {args.runs} interleaved runs, one runtime at a time.",
        "",
        f"| export | {' ms | '.join(WAYS)} ms | interleave ÷ shuffle |",
        "|---|" + "---|" * (len(WAYS) + 1),
    ]
    for key in dict.fromkeys(key for key, _ in runners):
        stats = [summary(times[(key, way)]) for way in WAYS]
        cells = " | ".join(f"{median:.1f} ± {iqr:.1f}" for median, iqr in stats)
        lines.append(f"| {key} | {cells} | {stats[1][0] / stats[0][0]:.2f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
