"""ShuffleNetV2's channel shuffle as torchvision computes it against the one interleave `fuse()` makes of it
(`ultralytics_light/interleave.py`): the lite ShuffleNetV2 (random weights) exported both ways by Ultralytics, float32
and INT8, all timed in one interleaved run. Writes interleave.md beside this file.

    python bench/interleave.py --data build/parity/shapes/data.yaml --formats openvino onnx litert
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from pathlib import Path
from unittest import mock

import int8

import ultralytics_light.backbone
from ultralytics_light.timing import machine, summary, time_interleaved


def torchvisions_shuffle() -> contextlib.AbstractContextManager:
    """While entered, `fuse()` leaves ShuffleNetV2's blocks with torchvision's forward."""
    return mock.patch.object(ultralytics_light.backbone, "interleave_shuffles", lambda module: None)


WAYS = {"torchvision's shuffle": torchvisions_shuffle, "interleave": contextlib.nullcontext}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="yolo11n-lite-shufflenetv2.yaml")
    parser.add_argument("--data", required=True, help="data YAML whose val split calibrates INT8")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--formats", nargs="+", default=["openvino"], choices=int8.FORMATS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "interleave.md")
    args = parser.parse_args(argv)
    data = str(Path(args.data).resolve())
    runners = {}
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        for index, (way, applied) in enumerate(WAYS.items()):
            (Path(folder) / str(index)).mkdir()
            with applied():
                paths = int8.export_all(args.model, "model", args.imgsz, data, Path(folder) / str(index), "val",
                                        tuple(args.formats))  # fmt: skip
            runners.update({(key, way): int8.runner(path, args.imgsz, args.threads) for key, path in paths.items()})
        times = time_interleaved([runners], args.warmup, args.runs)[0]
    lines = [
        f"# {Path(args.model).stem}: channel shuffle against interleave",
        "",
        f"Made with `bench/interleave.py`. Measured on {machine(args.threads)}; {args.imgsz} px, batch 1, median ± "
        f"IQR of {args.runs} interleaved runs.",
        "",
        f"| export | {' ms | '.join(WAYS)} ms | interleave ÷ shuffle |",
        "|---|---|---|---|",
    ]
    for key in dict.fromkeys(key for key, _ in runners):
        stats = [summary(times[(key, way)]) for way in WAYS]
        cells = " | ".join(f"{median:.1f} ± {iqr:.1f}" for median, iqr in stats)
        lines.append(f"| {key} | {cells} | {stats[1][0] / stats[0][0]:.2f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
