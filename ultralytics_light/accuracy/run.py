"""One `bench-accuracy` run trained (or resumed, or read back), validated, and every architecture timed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ultralytics_light.accuracy.plan import Run


@dataclass(frozen=True)
class Result:
    """A finished run's figures on the held-out split.

    Args:
        run: The run.
        map50: mAP50 of its best.pt.
        map50_95: mAP50-95 of its best.pt.
        params_M: Parameters, in millions.
        best: Its best.pt, exported for the latency column.
        train_s: Its training time in seconds (Ultralytics' results.csv, resumed parts added), None where not recorded.
    """

    run: Run
    map50: float
    map50_95: float
    params_M: float
    best: Path
    train_s: float | None = None


def finished(last: Path) -> bool:
    """Whether a last.pt is from a run that ended (Ultralytics strips it, setting its epoch to -1)."""
    import torch

    return torch.load(last, map_location="cpu", weights_only=False).get("epoch", -1) == -1


def with_threads(model, threads: int):
    """`model`, set to train with `threads` torch threads on a CPU.

    Ultralytics trains on a CPU with one core fewer than the machine has, keeping one for data loading, but on a CPU it
    loads data in the main process (workers=0), so on a 2-core machine one core idles.
    """
    import torch

    model.add_callback("on_pretrain_routine_start", lambda trainer: torch.set_num_threads(threads))
    return model


def with_callbacks(model, callbacks: dict | None):
    """`model` with `callbacks` (Ultralytics event -> function of the trainer) added."""
    for event, callback in (callbacks or {}).items():
        model.add_callback(event, callback)
    return model


def training_seconds(results_csv: Path) -> float | None:
    """Training time of a run from Ultralytics' results.csv, whose `time` column restarts from 0 when a run resumes."""
    import csv

    if not results_csv.is_file():
        return None
    with open(results_csv) as f:
        times = [float(row["time"]) for row in csv.DictReader(f, skipinitialspace=True) if row.get("time")]
    return sum(t - before if t >= before else t for before, t in zip([0.0, *times], times)) if times else None


def read_back(run: Run, done: Path, data: str, recipe: dict) -> Result:
    """The result a finished run recorded; a ValueError if it was trained under another recipe, dataset or teacher."""
    recorded = json.loads(done.read_text())
    teacher = str(run.teacher) if run.teacher else None
    if recorded["recipe"] != recipe or recorded["data"] != data or recorded.get("teacher") != teacher:
        raise ValueError(
            f"{run.folder} holds a run of another recipe, dataset or teacher ({recorded['recipe']}, "
            f"data={recorded['data']}, teacher={recorded.get('teacher')}). Pass another project= for this one, or "
            f"delete {run.folder.parent} to start over."
        )
    print(f"    finished earlier: mAP50 {recorded['map50']:.3f}, mAP50-95 {recorded['map50_95']:.3f}")
    return Result(run, recorded["map50"], recorded["map50_95"], recorded["params_M"], Path(recorded["best"]),
                  recorded.get("train_s"))  # fmt: skip


def train_and_validate(run: Run, data: str, recipe: dict, threads: int, callbacks: dict | None = None) -> Result:
    """Train one run (or resume it, or read it back when done) and validate its best.pt on the val split; `callbacks`
    (Ultralytics event -> function of the trainer) are added to its training."""
    from ultralytics import YOLO

    from ultralytics_light.backbone_init import pretrained

    done = run.folder / "result.json"
    if done.is_file():
        return read_back(run, done, data, recipe)
    last = run.folder / "weights" / "last.pt"
    if last.is_file() and not finished(last):
        print(f"    resuming from {last}")
        with_callbacks(with_threads(YOLO(last), threads), callbacks).train(resume=True)
    elif not last.is_file():
        variant = run.variant
        train_args = dict(recipe, data=data, seed=run.seed, project=str(run.folder.parent), name=run.folder.name)
        if run.teacher:
            train_args["distill_model"] = str(run.teacher)
        with pretrained(variant.pretrained):  # a model from random weights is built without reading the ImageNet file
            model = YOLO(variant.model)
        with_callbacks(with_threads(model, threads), callbacks).train(
            **train_args, pretrained=variant.pretrained, exist_ok=True
        )
    best = run.folder / "weights" / "best.pt"
    model = YOLO(best)
    metrics = model.val(
        data=data, split="val", imgsz=recipe["imgsz"], batch=recipe["batch"], plots=False,
        project=str(run.folder), name="val", exist_ok=True,
    )  # fmt: skip
    params = sum(p.numel() for p in model.model.parameters()) / 1e6
    seconds = training_seconds(run.folder / "results.csv")
    result = Result(run, float(metrics.box.map50), float(metrics.box.map), params, best, seconds)
    recorded = {
        "model": run.variant.model,
        "label": run.variant.label,
        "init": run.variant.init,
        "seed": run.seed,
        "teacher": str(run.teacher) if run.teacher else None,
        "train_s": seconds,
        "map50": result.map50,
        "map50_95": result.map50_95,
        "params_M": result.params_M,
        "best": str(best),
        "recipe": recipe,
        "data": data,
    }
    done.write_text(json.dumps(recorded, indent=1))
    return result


def time_models(results: list[Result], imgsz: int, threads: int, warmup: int, runs: int) -> dict[str, tuple]:
    """ONNX Runtime latency (median, IQR in ms) at `imgsz` of each architecture, all timed interleaved."""
    from ultralytics import YOLO

    from ultralytics_light.latency import runner
    from ultralytics_light.timing import summary, time_interleaved

    architectures = {}  # a model and its from-scratch twin share one architecture, so one timing
    for result in results:
        architectures.setdefault(result.run.variant.name, result.best)
    runners = []
    for name, best in architectures.items():
        print(f"    exporting {name} to ONNX at {imgsz}", flush=True)
        onnx = YOLO(best).export(format="onnx", imgsz=imgsz, device="cpu")
        runners.append({"ort": runner(Path(onnx), imgsz, threads)})
    times = time_interleaved(runners, warmup, runs)
    return {name: summary(t["ort"]) for name, t in zip(architectures, times)}
