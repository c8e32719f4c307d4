"""End-to-end CPU latency, as a deployed detector spends it: image in, final boxes out.

Every model (default: every lite model at scale n, with NMS and end-to-end, and stock yolo11n and yolo26n) is exported
from a checkpoint trained on COCO128's 80 classes (`coco_splits.py`: 96 train images) with Ultralytics' exporter
(`nms` unset, and also nms=False for a model with an end-to-end head) and run on real photographs: Ultralytics'
bus.jpg and zidane.jpg, and the held-out COCO128 image with the most boxes.

The postprocessing time depends on how many candidates pass the threshold, so on how well the checkpoint detects,
and a model trained from scratch on 96 images for TRAIN's budget scores no anchor above even 0.001. The REFERENCE pair
(the lite MobileNetV2 with NMS and its end-to-end twin, from ImageNet, REFERENCE_TRAIN's longer budget) does: its
scores are a detector's. So each model's end-to-end figure is its own preprocess and graph, timed, plus the
postprocess of the reference export of its kind (NMS or nms=False) at the same size and threshold, timed in the same
round: the yolo11n-lite reference's NMS export and the yolo26n-lite one's nms=False export are measured whole. Each
model's own postprocess stays in the CSV. One pass is:

1. preprocess: Ultralytics' LetterBox to the export's square size, BGR to RGB, HWC to CHW, to [0, 1] (as its
   predictor does; the image is already decoded, as a camera frame is);
2. graph: the ONNX Runtime session, `--threads` threads, spinning off (`ultralytics_light.timing.ort_options`);
3. postprocess: Ultralytics' own `non_max_suppression` and `scale_boxes`, as its predictor calls them: decode and NMS
   (IoU 0.7, at most 300 boxes) for an export with NMS after the graph, and only the confidence filter for an nms=False
   export, at conf=0.25 (Ultralytics' default) and conf=0.001 (what validation uses).

Every pass of every model is timed interleaved, round after round, at 640 and 320. Writes end_to_end.md and
end_to_end.csv beside this file; `make bench` publishes them (docs: Benchmarks, Deploying). Training runs stay under
--work, so a rerun retrains nothing.

    python -m bench.end_to_end --coco128 ../shared/datasets/coco128          # as make bench runs it
    python -m bench.end_to_end --coco128 … --models yolo26n-lite-shufflenetv2.yaml yolo26n.yaml --runs 3
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bench.coco_splits import write_split
from bench.common import bench_accuracy, best, letterboxed, write_csv
from ultralytics_light.timing import machine, ort_options, summary

TRAIN = ["epochs=10", "seeds=0", "runs=2", "warmup=0"]  # bench-accuracy's recipe otherwise; timing there is not used
REFERENCE = {"nms": "yolo11n-lite-mobilenetv2.yaml", "end2end": "yolo26n-lite-mobilenetv2.yaml"}  # ImageNet here
REFERENCE_TRAIN = ["epochs=40", "seeds=0", "runs=2", "warmup=0"]  # enough for candidates above conf=0.001
REFERENCE_LABEL = " (reference)"
STOCK = ("yolo11n.yaml", "yolo26n.yaml")
CONFS = (0.25, 0.001)
IOU, MAX_DET = 0.7, 300  # Ultralytics' predict defaults
STAGES = ("pre", "graph", "post")


def lite_models() -> list[str]:
    """Every shipped lite detect YAML at scale n: the NMS ones (yolo11n-lite-…), then the end-to-end ones."""
    from ultralytics_light.cfg import model_names

    lite = [name for name in model_names() if name.startswith(("yolo11-lite-", "yolo26-lite-"))]
    return [name.replace("-", "n-", 1) for name in lite]


def crowded_image(data: Path) -> Path:
    """The held-out image of a split with the most labelled boxes (ties: by file name)."""
    labels = sorted((data.parent / "labels" / "val").glob("*.txt"))
    most = max(labels, key=lambda path: (len(path.read_text().splitlines()), path.name))
    return data.parent / "images" / "val" / f"{most.stem}.jpg"


@dataclass
class Pipeline:
    """One export of one model at one size, run end to end on decoded images."""

    model: str
    export: str  # "nms" (NMS after the graph) or "end2end" (nms=False)
    size: int
    session: object
    reference: bool = False  # a REFERENCE checkpoint, whose postprocess the others are given
    times: dict[str, list[float]] = field(default_factory=dict)  # "{conf} {stage}" -> ms per pass, all images
    candidates: dict[float, list[int]] = field(default_factory=dict)  # conf -> boxes before NMS, per image

    def run(self, image: np.ndarray, conf: float) -> torch.Tensor:
        """Final boxes of one image, timed stage by stage into self.times."""
        from ultralytics.utils import nms, ops

        t0 = time.perf_counter()
        x = letterboxed(image, self.size)
        t1 = time.perf_counter()
        out = self.session.run(None, {self.session.get_inputs()[0].name: x})[0]
        t2 = time.perf_counter()
        boxes = nms.non_max_suppression(torch.from_numpy(out), conf, IOU, max_det=MAX_DET,
                                        end2end=self.export == "end2end")[0]  # fmt: skip
        boxes[:, :4] = ops.scale_boxes(x.shape[2:], boxes[:, :4], image.shape)
        t3 = time.perf_counter()
        for stage, ms in zip(STAGES, ((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)):
            self.times.setdefault(f"{conf} {stage}", []).append(ms)
        return boxes

    def count_candidates(self, images: list[np.ndarray]) -> None:
        """Per image and threshold, the boxes that reach the postprocessing (before NMS; all for end2end)."""
        for image in images:
            out = self.session.run(None, {self.session.get_inputs()[0].name: letterboxed(image, self.size)})[0]
            scores = out[0, :, 4] if self.export == "end2end" else out[0, 4:].max(0)
            for conf in CONFS:
                self.candidates.setdefault(conf, []).append(int((scores > conf).sum()))


def pipelines(checkpoint: Path, label: str, sizes: list[int], threads: int, folder: Path) -> list[Pipeline]:
    """The model's ONNX exports (with NMS after the graph; and nms=False where its head has a one-to-one branch),
    moved into `folder`, as ONNX Runtime sessions, one per size."""
    import onnxruntime as ort
    from ultralytics import YOLO

    end2end = getattr(YOLO(checkpoint).model.model[-1], "one2one_cv2", None) is not None
    found = []
    for export in ("nms", "end2end")[: 1 + end2end]:
        for size in sizes:
            kwargs = {"nms": False} if export == "end2end" else {}
            onnx = Path(YOLO(checkpoint).export(format="onnx", imgsz=size, **kwargs))
            onnx = onnx.replace(folder / f"{label}-{export}-{size}.onnx")
            session = ort.InferenceSession(str(onnx), ort_options(threads), providers=["CPUExecutionProvider"])
            found.append(Pipeline(label, export, size, session))
    return found


def time_rounds(found: list[Pipeline], images: list[np.ndarray], warmup: int, runs: int) -> None:
    """Every pipeline on every image at every threshold, one pass each per round, so drift hits all alike."""
    with torch.inference_mode():
        for round_ in range(-warmup, runs):
            for pipeline in found:
                for conf in CONFS:
                    for image in images:
                        pipeline.run(image, conf)
            if round_ == -1:  # warm-up done: forget its times
                for pipeline in found:
                    pipeline.times.clear()
            if (round_ + 1) % 10 == 0 and round_ >= 0:
                print(f"    timed round {round_ + 1}/{runs}", flush=True)


def rows_of(found: list[Pipeline], images: int) -> list[dict]:
    """One row per pipeline: per threshold, median ms per image end to end (its own preprocess and graph, the
    postprocess of the reference of its kind; a reference whole) and by stage, and mean candidates, its own and the
    reference's."""

    def per_round(p: Pipeline, conf: float, stage: str) -> np.ndarray:
        # a pass is one image; a round has `images` passes, averaged per round so the median is over rounds
        return np.array(p.times[f"{conf} {stage}"]).reshape(-1, images).mean(1)

    references = {(p.export, p.size): p for p in found if p.reference}
    rows = []
    for p in found:
        ref = references[(p.export, p.size)]
        row = {"model": p.model, "export": p.export, "size": p.size, "reference": p.reference}
        for conf in CONFS:
            own = {stage: per_round(p, conf, stage) for stage in STAGES}
            post = per_round(ref, conf, "post")
            row[f"ms_{conf}"], row[f"iqr_{conf}"] = summary(list(own["pre"] + own["graph"] + post))
            row[f"own_ms_{conf}"] = float(np.median(sum(own.values())))
            for stage in ("pre", "graph"):
                row[f"{stage}_ms_{conf}"] = float(np.median(own[stage]))
            row[f"post_ms_{conf}"] = float(np.median(post))
            row[f"own_post_ms_{conf}"] = float(np.median(own["post"]))
            row[f"candidates_{conf}"] = float(np.mean(ref.candidates[conf]))
            row[f"own_candidates_{conf}"] = float(np.mean(p.candidates[conf]))
        rows.append(row)
    return rows


def add_ratios(rows: list[dict]) -> None:
    """Each row's end-to-end latency over yolo26n's, exported the same way (NMS or nms=False), at its size."""
    reference = {(r["export"], r["size"]): r for r in rows if r["model"] == "yolo26n"}
    for row in rows:
        ref = reference.get((row["export"], row["size"]))
        for conf in CONFS:
            row[f"ratio_{conf}"] = row[f"ms_{conf}"] / ref[f"ms_{conf}"] if ref else float("nan")


def markdown(rows: list[dict], sizes: list[int], about: str, images: list[str], train: str, reference: str) -> str:
    by = {(r["model"], r["export"], r["size"]): r for r in rows}
    heads = {"nms": "NMS after the graph", "end2end": "nms=False (NMS-free)"}
    top = max(sizes)
    refs = {r["export"]: r for r in rows if r["reference"] and r["size"] == top}
    own = [r for r in rows if not r["model"].endswith(REFERENCE_LABEL) and r["size"] == top]
    counts = "; ".join(f"{heads[e]} {r['candidates_0.25']:.0f} / {r['candidates_0.001']:.0f}" for e, r in refs.items())
    lines = [
        "# End-to-end latency: image in, final boxes out",
        "",
        f"Measured on {about}. Images: {', '.join(images)} (decoded; the median over rounds of the mean per image). "
        f"Per pass: Ultralytics' LetterBox and normalization, the ONNX Runtime session, then Ultralytics' "
        f"`non_max_suppression` (IoU {IOU}, at most {MAX_DET} boxes; for an nms=False export only its confidence "
        f"filter) and `scale_boxes`. All passes timed interleaved. ÷ 26n: over yolo26n exported the same way.",
        "",
        f"Checkpoints: {train}. Candidates (boxes above the threshold that reach the postprocessing, mean per image "
        f"at {top} px, ≥ 0.25 / ≥ 0.001): at most {max(r['own_candidates_0.25'] for r in own):.0f} / "
        f"{max(r['own_candidates_0.001'] for r in own):.0f} for these checkpoints; for the reference exports, "
        f"{reference}: {counts}. The postprocess time follows the candidates, so each figure is the model's own "
        f"preprocess and graph plus the postprocess of the reference export of its kind at the same size and "
        f"threshold, timed in the same round: the reference exports of the two kinds are timed whole.",
        "",
    ]
    head, rule = "| model | export |", "|---|---|"
    for s in sizes[::-1]:
        head += f" {s} conf=0.25 ms | {s} ÷ 26n | {s} conf=0.001 ms | {s} ÷ 26n |"
        rule += "---|---|---|---|"
    lines += [head, rule]
    models = list(dict.fromkeys(r["model"] for r in rows))
    for model in models:
        for export in ("nms", "end2end"):
            if (model, export, top) not in by:
                continue
            cells = [model, heads[export]]
            for s in sizes[::-1]:
                r = by[(model, export, s)]
                for conf in CONFS:
                    cells += [f"{r[f'ms_{conf}']:.1f} ± {r[f'iqr_{conf}']:.1f}", f"{r[f'ratio_{conf}']:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
    plain = [m for m in models if not m.endswith(REFERENCE_LABEL)]
    lines += ["", *goals(by, plain, top), "", *breakdown(by, plain, top)]
    return "\n".join(lines) + "\n"


def goals(by: dict, models: list[str], size: int) -> list[str]:
    """The issue's two goals, read off the table at `size`."""
    end2end = [m for m in models if m.startswith("yolo26n-lite-") and (m, "end2end", size) in by]
    if not end2end or ("yolo26n", "end2end", size) not in by:
        return []
    lightest = min(end2end, key=lambda m: by[(m, "end2end", size)]["ms_0.25"])
    r = by[(lightest, "end2end", size)]
    lines = [
        f"- Lightest end-to-end lite model at {size}: {lightest}, {r['ms_0.25']:.1f} ms at conf=0.25, "
        f"{r['ratio_0.25']:.2f}× yolo26n (both nms=False); {r['ratio_0.001']:.2f}× at conf=0.001."
    ]
    faster, slower = [], []
    for m in end2end:
        twin = m.replace("yolo26n-lite-", "yolo11n-lite-")
        if (twin, "nms", size) in by:
            ours, theirs = by[(m, "end2end", size)]["ms_0.001"], by[(twin, "nms", size)]["ms_0.001"]
            (faster if ours < theirs else slower).append(f"{m.removeprefix('yolo26n-lite-')} {ours / theirs:.2f}×")
    lines.append(
        f"- End-to-end (nms=False) lite models faster than their NMS twin (yolo11n-lite-…) at conf=0.001, {size} px: "
        f"{len(faster)} of {len(faster) + len(slower)} (end-to-end ÷ twin: {', '.join(faster + slower)})."
    )
    return lines


def breakdown(by: dict, models: list[str], size: int) -> list[str]:
    """Where the time goes, for the lightest end-to-end lite model and yolo26n, at `size`."""
    end2end = [m for m in models if m.startswith("yolo26n-lite-") and (m, "end2end", size) in by]
    picks = [min(end2end, key=lambda m: by[(m, "end2end", size)]["ms_0.25"])] if end2end else []
    picks += [m for m in ("yolo26n",) if (m, "nms", size) in by]
    picks += list(dict.fromkeys(r["model"] for r in by.values() if r["model"].endswith(REFERENCE_LABEL)))
    lines = [f"Where the time goes at {size} (ms per image, medians; postprocess: the reference's):", ""]
    lines += ["| model | export | conf | preprocess | graph | postprocess | total |", "|---|---|---|---|---|---|---|"]
    for m in picks:
        for export in ("nms", "end2end"):
            if (m, export, size) not in by:
                continue
            r = by[(m, export, size)]
            for conf in CONFS:
                stages = [f"{r[f'{s}_ms_{conf}']:.1f}" for s in STAGES]
                lines.append(f"| {m} | {export} | {conf} | {' | '.join(stages)} | {r[f'ms_{conf}']:.1f} |")
    return lines


def budget(train: list[str]) -> str:
    """The training settings that differ from bench-accuracy's recipe, as it reads them (the last value of a key)."""
    settings = dict(arg.split("=", 1) for arg in train)
    return " ".join(f"{k}={v}" for k, v in settings.items() if k not in {"seeds", "runs", "warmup"})


def main(argv: list[str] | None = None) -> None:
    import cv2
    import ultralytics

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco128", type=Path, help="COCO128, whose 80-class split the models train on")
    parser.add_argument("--data", type=Path, help="or a data YAML to train on instead (images/val, labels/val beside)")
    parser.add_argument("--models", nargs="+", help="model YAMLs (default: every lite model at n, yolo11n, yolo26n)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[320, 640])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("build/end-to-end"), help="data, runs, exports (resumable)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("common", nargs="*", help="bench-accuracy / yolo train KEY=VALUE for the training runs")
    args = parser.parse_args(argv)
    work, out = args.work.resolve(), args.out.resolve()
    torch.set_num_threads(args.threads)
    if (args.coco128 is None) == (args.data is None):
        parser.error("give one of --coco128 and --data")
    data = args.data.resolve() if args.data else write_split(args.coco128.resolve(), work / "coco80", "coco80")
    models = args.models or [*lite_models(), *STOCK]
    train = [*TRAIN, *args.common]  # a KEY=VALUE given later overrides ours
    reference_train = [*REFERENCE_TRAIN, *args.common]
    bench_accuracy(work / "trained", data, models, train)
    bench_accuracy(work / "reference", data, list(REFERENCE.values()), reference_train)
    labels = [Path(model).stem for model in models]  # bench-accuracy's names for them, in the order given
    assets = Path(ultralytics.__file__).parent / "assets"
    files = [assets / "bus.jpg", assets / "zidane.jpg", crowded_image(data)]
    images = [cv2.imread(str(f)) for f in files]
    found = []
    (work / "onnx").mkdir(parents=True, exist_ok=True)
    for i, label in enumerate(labels, 1):
        print(f"[{i}/{len(labels)}] exporting {label} …", flush=True)
        found += pipelines(best(work / "trained", label), label, args.sizes, args.threads, work / "onnx")
    for kind, model in REFERENCE.items():  # both exports of the end-to-end one: the same checkpoint both ways
        label = Path(model).stem
        for pipeline in pipelines(best(work / "reference", label), label + REFERENCE_LABEL, args.sizes, args.threads,
                                  work / "onnx"):  # fmt: skip
            pipeline.reference = pipeline.export == kind
            found.append(pipeline)
    for pipeline in found:
        pipeline.count_candidates(images)
    print(f"timing {len(found)} exports × {len(CONFS)} thresholds × {len(images)} images interleaved", flush=True)
    time_rounds(found, images, args.warmup, args.runs)
    rows = rows_of(found, len(images))
    add_ratios(rows)
    write_csv(out / "end_to_end.csv", [{**row, "machine": machine(args.threads)} for row in rows])
    on = f"{data.parent.name}/{data.name}" if args.data else "COCO128's 80 classes (96 train images)"
    about_train = f"bench-accuracy's recipe with {budget(train)} on {on}, from scratch where no ImageNet file is here"
    names = " and ".join(Path(model).stem for model in REFERENCE.values())
    about_reference = f"{names} from ImageNet with {budget(reference_train)}"
    text = markdown(rows, args.sizes, machine(args.threads), [f.name for f in files], about_train, about_reference)
    (out / "end_to_end.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])
