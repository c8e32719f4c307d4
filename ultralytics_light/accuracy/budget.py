"""`bench-accuracy budget_ms=` and `latency=`: latency known before training, and the models over budget left out.

Timing is cheap and training is not: with a budget, every model is timed first (or its latency read from the target
device's CSV, `ultralytics-light time`), and those slower than the budget never train. The references always train,
since the table's ratios are against them.
"""

from __future__ import annotations

from pathlib import Path

from ultralytics_light.accuracy.plan import Run
from ultralytics_light.latency import Latencies


def check_covers(latencies: Latencies, runs: list[Run], path: Path, imgsz: int) -> None:
    """A ValueError unless the latency CSV holds every model to train, at the recipe's image size."""
    from ultralytics_light.command import PROG

    if latencies.imgsz != imgsz:
        raise ValueError(
            f"bench-accuracy: latency={path} was measured at {latencies.imgsz} px and the models train at imgsz="
            f"{imgsz}: time them at {imgsz} ({PROG} time imgsz={imgsz} …), or pass imgsz={latencies.imgsz}."
        )
    models = {run.variant.name: run.variant.model for run in runs}
    missing = [name for name in models if name not in latencies.ms]
    if missing:
        raise ValueError(
            f"bench-accuracy: latency={path} has no row for {', '.join(missing)}. Time them on the device: {PROG} "
            f"time models={','.join(models[name] for name in missing)} imgsz={imgsz} runtime={latencies.runtime}."
        )


def time_here(runs: list[Run], imgsz: int, threads: int, warmup: int, timed_runs: int, folder: Path) -> Latencies:
    """Every model's ONNX Runtime latency on this machine, before training (from random weights: the same graph)."""
    from ultralytics_light.latency import latencies_of, time_models

    models = {run.variant.name: run.variant.model for run in runs}
    print(f"timing {len(models)} models in ONNX Runtime at {imgsz} before training, for the budget", flush=True)
    return latencies_of(time_models(models, imgsz, "onnxruntime", threads, warmup, timed_runs, folder))


def within_budget(runs: list[Run], latencies: Latencies, budget_ms: float) -> tuple[list[Run], dict[str, float]]:
    """(the runs of the references and of the models within `budget_ms`, the models left out with their ms)."""
    over = {
        run.variant.name: latencies.ms[run.variant.name][0]
        for run in runs
        if not run.variant.reference and latencies.ms[run.variant.name][0] > budget_ms
    }
    for name, ms in over.items():
        print(f"{name}: {ms:.1f} ms is over budget_ms={budget_ms:g}, so it is left out before training")
    return [run for run in runs if run.variant.name not in over], over
