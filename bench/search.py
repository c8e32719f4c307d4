"""The budgeted search against the full sequential `bench-accuracy`, on the same candidates: what it costs, and whether
it picks the same winner and Pareto front.

On bench-parity's synthetic shapes (300 train / 150 held-out photographs with drawn shapes), the candidates are every
lite n model and the COCO-pretrained reference (`--reference`), under bench-accuracy's recipe at half its epochs and
128 px (ARGS), seed 0:

1. sequential: `bench-accuracy` trains every candidate to the end, one after another;
2. search: `bench-accuracy budget_ms=… rungs=4 keep=0.5` (the budget: BUDGET × the reference's latency, the goal of
   issue 36) leaves out the candidates over budget, then halves the rest on Ray Tune's ASHA, embedded here.

Each step's wall time and the machine's busy CPU time (every process: Ray's workers too, so run it on an otherwise idle
machine) are recorded, with Ray's start-up time and memory and the installed size of the `search` extra. Both steps
resume where they stopped (in --work); a finished step's times are kept there and reused, and a resumed step's times
cover only its last sitting: the record says so.
Writes bench/search-records/shapes.json and bench/search.md.

    make bench-search     # python -m bench.search --coco128 COCO128 --reference CHECKPOINT
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.common import bench_accuracy, bench_accuracy_recipe, write_record
from bench.shapes import write_shapes_set

BUDGET = 0.6  # of the reference's latency: issue 36's goal for a lite model
# Half bench-accuracy's epochs at 128 px, so that both steps fit one sitting on a 2-core CPU (45 min on a Xeon here)
ARGS = ["epochs=20", "imgsz=128", "seeds=0", "teacher=none"]
SEARCH = ["rungs=4", "keep=0.5"]
RECORD = Path(__file__).parent / "search-records" / "shapes.json"
EXTRA = ("ray", "pyarrow", "pandas", "tensorboardX")  # what the search extra adds to an environment like ours


def busy_cpu_s() -> float:
    """The machine's busy CPU seconds so far, every process's (Ray's workers are not our children)."""
    import psutil

    times = psutil.cpu_times()
    return times.user + times.system + getattr(times, "nice", 0.0)


def measured(project: Path, *args) -> tuple[list[dict], dict]:
    """(a bench_accuracy step's rows, its wall and busy CPU time). The time is kept in the step's folder once the step
    has finished, so that a later sitting reuses it; a step that picks up runs an earlier sitting left has `resumed`
    set: its times cover only its last sitting."""
    kept = project / "step-time.json"
    if kept.is_file():
        return bench_accuracy(project, *args), json.loads(kept.read_text())
    resumed = project.is_dir() and any(project.glob("*/weights/last.pt"))
    wall, cpu = time.time(), busy_cpu_s()
    rows = bench_accuracy(project, *args)
    spent = {"wall_min": (time.time() - wall) / 60, "cpu_h": (busy_cpu_s() - cpu) / 3600, "resumed": resumed}
    kept.write_text(json.dumps(spent))
    return rows, spent


def ray_start_up() -> dict:
    """Seconds for an embedded Ray to start, and the memory of its processes once up (MB, resident)."""
    import psutil
    import ray

    start = time.time()
    ray.init(include_dashboard=False)
    seconds = time.time() - start
    processes = psutil.Process().children(recursive=True)
    rss = sum(p.memory_info().rss for p in processes if p.is_running()) / 2**20
    ray.shutdown()
    return {"start_s": seconds, "processes": len(processes), "rss_MB": rss}


def installed_MB(packages: tuple[str, ...]) -> dict[str, float]:
    """Each package's installed size (MB, its files as pip recorded them)."""
    from importlib.metadata import distribution

    sizes = {}
    for name in packages:
        files = distribution(name).files or []
        sizes[name] = sum(f.size or 0 for f in files) / 2**20
    return sizes


def front(rows: list[dict], budget_ms: float = float("inf")) -> dict:
    """The most accurate lite model and the models on the Pareto front, among the lite models within `budget_ms` and
    the reference (a row within the budget is on the front of those rows exactly where it is on the front of all: a
    slower row cannot dominate it)."""
    kept = [row for row in rows if row["reference"] == "True" or float(row["ort_ms"]) <= budget_ms]
    ours = [row for row in kept if row["reference"] != "True"]
    winner = max(ours, key=lambda row: float(row["map50_95"]))["model"] if ours else ""
    return {"winner": winner, "front": sorted(row["model"] for row in kept if row["pareto"] == "True")}


def minutes(step: dict, key: str, spec: str) -> str:
    """A step's time, marked where the step was resumed (it then covers the last sitting only)."""
    return format(step[key], spec) + (" (resumed: its last sitting only)" if step.get("resumed") else "")


def render(record: dict) -> str:
    sequential, search = record["sequential"], record["search"]
    within = sequential["within_budget"]  # what the search should find
    lines = [
        "# Budgeted search against the full sequential bench-accuracy",
        "",
        f"{record['about']}",
        "",
        "| | sequential | sequential, within the budget | budgeted search |",
        "|---|---|---|---|",
        f"| candidates trained | {sequential['trained']} | | {search['trained']} (to the end: {search['finished']}) |",
        f"| wall time (min) | {minutes(sequential, 'wall_min', '.1f')} | | {minutes(search, 'wall_min', '.1f')} |",
        f"| busy CPU (hours) | {minutes(sequential, 'cpu_h', '.2f')} | | {minutes(search, 'cpu_h', '.2f')} |",
        f"| most accurate lite model | {sequential['winner']} | {within['winner']} | {search['winner']} |",
        f"| Pareto front | {', '.join(sequential['front'])} | {', '.join(within['front'])} | "
        f"{', '.join(search['front'])} |",
        "",
        f"Ray: started in {record['ray']['start_s']:.1f} s, {record['ray']['processes']} processes holding "
        f"{record['ray']['rss_MB']:.0f} MB once up. The search extra's installed size: "
        + ", ".join(f"{name} {size:.0f} MB" for name, size in record["extra_MB"].items())
        + ".",
        "",
        "The search's rung history:",
        "",
        search["history_md"],
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from ultralytics_light.accuracy.plan import default_models
    from ultralytics_light.accuracy.search import history_markdown
    from ultralytics_light.timing import machine

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coco128", type=Path, required=True)
    parser.add_argument("--reference", type=Path, required=True, help="the COCO-pretrained stock checkpoint")
    parser.add_argument("--work", type=Path, default=Path("build/search"), help="data and runs (resumable)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "search.md")
    args = parser.parse_args(argv)
    if not args.reference.is_file():
        raise SystemExit(f"{args.reference}: no such checkpoint; the search needs a COCO-pretrained reference")
    work = args.work.resolve()
    data = write_shapes_set(work / "data" / "shapes", args.coco128.resolve() / "images" / "train2017", train=300,
                            val=150)  # fmt: skip
    models = [m for m in default_models() if m.endswith(".yaml")] + [str(args.reference.resolve())]
    rows, sequential = measured(work / "sequential", data, models, ARGS)
    reference = next(row for row in rows if row["reference"] == "True")
    budget = BUDGET * float(reference["ort_ms"])
    sequential.update(trained=len(rows), **front(rows), within_budget=front(rows, budget))
    latency = work / "latency.csv"  # the sequential step's timing, so that both compare the same latencies
    recipe = {**bench_accuracy_recipe(), **dict(arg.split("=", 1) for arg in ARGS)}
    write_latency(rows, latency, int(recipe["imgsz"]))
    search_args = [*ARGS, *SEARCH, f"budget_ms={budget:.2f}", f"latency={latency}"]
    rows, search = measured(work / "search", data, models, search_args)
    how = json.loads((work / "search" / "accuracy.json").read_text())
    history = how["history"]
    finished = sum(1 for reported in history.values() if reported and reported[-1][0] == how["rungs"][-1])
    search.update(trained=len(history), finished=finished, history=history, over_budget=how["over_budget"],
                  history_md=history_markdown({k: [tuple(r) for r in v] for k, v in history.items()}, how["rungs"]),
                  **front(rows))  # fmt: skip
    about = (
        f"Synthetic shapes, 300 train / 150 held-out images, {len(models)} candidates (every lite n model and "
        f"{args.reference.name}); recipe: {' '.join(f'{k}={v}' for k, v in recipe.items())}; "
        f"search: {' '.join(SEARCH)}, budget_ms={budget:.2f} ({BUDGET} × the reference's latency; "
        f"left out: {', '.join(how['over_budget']) or 'none'}). Trained and timed on {machine(2)}; busy CPU is "
        "the whole machine's, measured on an otherwise idle machine, each step in one sitting unless the table says "
        "otherwise."
    )
    record = write_record(RECORD, {"about": about, "sequential": sequential, "search": search, "ray": ray_start_up(),
                                   "extra_MB": installed_MB(EXTRA)})  # fmt: skip
    args.out.write_text(render(record))
    print(args.out.read_text())


def write_latency(rows: list[dict], path: Path, imgsz: int) -> None:
    """The sequential step's latencies as a `time` CSV, for the search's budget and table."""
    from ultralytics_light.latency import device_name, write_latencies

    write_latencies([{"model": row["model"], "ms": row["ort_ms"], "iqr_ms": row["ort_iqr"], "runtime": "onnxruntime",
                      "imgsz": imgsz, "threads": 2, "device": device_name(), "versions": "bench-accuracy's timing",
                      "source": "the sequential step"} for row in rows], path)  # fmt: skip


if __name__ == "__main__":
    main()
