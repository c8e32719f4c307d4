"""`python -m ultralytics_light bench-accuracy`: which model to pick, measured on your own data.

Every model is trained under one recipe (printed at the start; every key overridable, and any other `yolo train`
argument passed through) on the train split of `data`, validated with `yolo val` on its val split, which it never
trains on, and timed as `make bench` times models: its ONNX export in ONNX Runtime on the CPU, batch 1, interleaved
with the others. A model whose backbone has its ImageNet file at hand also trains from scratch (weights null), so what
pretraining buys is a column; one without the file trains from scratch only, and the table says so. The first model
from ImageNet also trains at `spread_seeds`: its seed-to-seed spread is the noise level beside the table.

Writes accuracy.md, accuracy.csv and accuracy.png (mAP50-95 against latency, the Pareto front marked) in `out`. A run
that stops part-way resumes: finished models are read back, a half-trained one resumes from its last.pt. Training
uses the GPU when there is one (Ultralytics' own device choice), or every CPU core; latency is always CPU latency.

    python -m ultralytics_light bench-accuracy data=my_data.yaml
    python -m ultralytics_light bench-accuracy data=my_data.yaml models=yolo11n-lite-mobilenetv2.yaml,yolo11n.yaml \\
        epochs=60 seeds=0,1,2 freeze=3
"""

from __future__ import annotations

import csv
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

STOCK = ("yolo11n.yaml", "yolo26n.yaml")
# val=False: no per-epoch validation, so best.pt is the last epoch's weights, not a pick made on the held-out split.
# warmup_epochs=0: no learning-rate warm-up, which costs a short fine-tuning run more than it gives (bench/recipes.md);
# Ultralytics up to 8.4.80 at least warms up for 100 iterations or more, 17 epochs of a 40-epoch run on 96 images.
RECIPE = {"epochs": 40, "imgsz": 256, "batch": 16, "warmup_epochs": 0, "val": False, "plots": False}
OPTIONS = {  # ours, not yolo train's
    "data": None,
    "models": None,
    "seeds": "0",
    "spread_seeds": "1",  # more seeds for one model (see plan): the seed-to-seed spread beside the table
    "scratch": True,
    "project": "runs/bench-accuracy",
    "out": None,
    "threads": 2,  # ONNX Runtime's, for the latency column
    "train_threads": None,  # torch's on a CPU; default every core
    "runs": 30,
    "warmup": 10,
    "readme": None,
}
LISTS = ("models", "seeds", "spread_seeds")  # comma-separated options
USAGE = (
    "usage: python -m ultralytics_light bench-accuracy data=DATA.yaml [models=A.yaml,B.yaml] [seeds=0,1] "
    "[KEY=VALUE ...]"
)


@dataclass(frozen=True)
class Run:
    """One training run of the benchmark.

    Args:
        model: What YOLO() is given: a YAML name or path.
        label: How the table names the model, e.g. 'yolo11n-lite-mobilenetv2 (scratch)'.
        init: 'ImageNet', 'scratch' (or why it is scratch), or 'checkpoint' (fine-tuned from a .pt).
        seed: Training seed.
        folder: The run's Ultralytics save directory.
    """

    model: str
    label: str
    init: str
    seed: int
    folder: Path


def default_models() -> list[str]:
    """The lite head of every shipped detect family at scale n, then stock yolo11n and yolo26n."""
    from ultralytics_light.cfg import model_names

    lite = [name for name in model_names() if name.startswith("yolo11-lite-")]
    return [name.replace("-", "n-", 1) for name in lite] + list(STOCK)


def parse(argv: list[str]) -> tuple[dict, dict]:
    """`key=value` arguments -> (our options, the recipe for yolo train)."""
    from ultralytics.cfg import smart_value

    options, recipe = dict(OPTIONS), dict(RECIPE)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise ValueError(f"arguments are KEY=VALUE, got {arg!r}.\n{USAGE}")
        (options if key in OPTIONS else recipe)[key] = value if key in LISTS else smart_value(value)
    if not options["data"]:
        raise ValueError(f"data= is required: the dataset YAML whose val split the models never train on.\n{USAGE}")
    if "nbs" not in recipe and isinstance(recipe["batch"], int) and recipe["batch"] > 0:
        # One optimizer step per batch. Ultralytics' nbs=64 accumulates four batches of 16 into one step: on a small
        # dataset that leaves a few steps an epoch, and the models learn far slower (bench/recipes.md).
        recipe["nbs"] = recipe["batch"]
    options["models"] = str(options["models"]).split(",") if options["models"] else default_models()
    for key in ("seeds", "spread_seeds"):
        options[key] = [int(seed) for seed in str(options[key]).split(",") if seed.strip()]
    if not options["seeds"]:
        raise ValueError(f"seeds= needs at least one seed.\n{USAGE}")
    options["spread_seeds"] = [seed for seed in options["spread_seeds"] if seed not in options["seeds"]]
    options["project"] = Path(options["project"]).resolve()
    options["out"] = Path(options["out"]).resolve() if options["out"] else options["project"]
    options["train_threads"] = int(options["train_threads"] or os.cpu_count())
    return options, recipe


def without_pretrained(yaml: dict) -> dict:
    """A copy of a model YAML dict with weights null in its backbone rows (equal to it if none asks for any)."""
    from ultralytics_light.patches.checkpoint_rebuild import drop_pretrained

    yaml = json.loads(json.dumps(yaml))
    drop_pretrained(yaml)
    return yaml


def save_yaml(name: str, yaml: dict, folder: Path) -> str:
    """Write a model YAML dict as `folder`/yaml/`name`; its path."""
    from ultralytics.utils import YAML

    path = folder / "yaml" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    YAML.save(path, yaml)
    return str(path)


def imagenet_missing(name: str) -> str | None:
    """Why `name` cannot start from ImageNet weights here (the file is neither cached nor downloadable), else None."""
    from ultralytics import YOLO

    from ultralytics_light.weights import WeightsNotAvailableError

    try:
        YOLO(name)
    except WeightsNotAvailableError as error:
        return str(error).splitlines()[0]
    return None


def checkpoint_label(path: Path) -> str:
    """How the table names a checkpoint: its run's folder for Ultralytics' runs/…/NAME/weights/best.pt."""
    return f"{path.parents[1].name}/{path.stem}" if path.parent.name == "weights" else path.stem


def run_folder(project: Path, label: str, seed: int) -> Path:
    """Where the run of a table label at a seed trains, e.g. project/yolo11n-lite-mobilenetv2-scratch-seed0."""
    return project / f"{label.replace(' (scratch)', '-scratch').replace('/', '-')}-seed{seed}"


def plan(models: list[str], seeds: list[int], twins: bool, project: Path, spread_seeds: list[int] = ()) -> list[Run]:
    """Every run, in order: each model (and its from-scratch twin) at each seed.

    The first model that starts from ImageNet (else the first model) also runs at `spread_seeds` (seeds not among
    `seeds`): its seed-to-seed spread is the noise level beside the whole table.
    """
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml

    variants = []  # (what YOLO() is given, table label, backbone start)
    for name in models:
        label = checkpoint_label(Path(name)) if name.endswith(".pt") else Path(name).stem
        source = find_model_yaml(name) or (Path(name) if Path(name).suffix == ".yaml" else None)
        yaml = YAML.load(source) if source is not None and source.is_file() else {}
        scratch = without_pretrained(yaml)
        if scratch == yaml:
            variants.append((name, label, "checkpoint" if name.endswith(".pt") else "scratch"))
            continue
        scratch_path = save_yaml(f"{label}-scratch.yaml", scratch, project)
        missing = imagenet_missing(name)
        if missing:
            print(f"{label}: no ImageNet weights here, so it trains from scratch ({missing})")
            variants.append((scratch_path, label, "scratch (no ImageNet file)"))
            continue
        variants.append((name, label, "ImageNet"))
        if twins:
            variants.append((scratch_path, f"{label} (scratch)", "scratch"))
    spread = next((variant for variant in variants if variant[2] == "ImageNet"), variants[0])
    runs = []
    for model, label, init in variants:
        extra = list(spread_seeds) if (model, label, init) == spread else []
        runs += [Run(model, label, init, seed, run_folder(project, label, seed)) for seed in seeds + extra]
    return runs


def finished(last: Path) -> bool:
    """Whether a last.pt is from a run that ended (Ultralytics strips it, setting its epoch to -1)."""
    import torch

    return torch.load(last, map_location="cpu", weights_only=False).get("epoch", -1) == -1


def with_threads(model, threads: int):
    """`model`, set to train with `threads` torch threads on a CPU.

    Ultralytics trains on a CPU with one core fewer than the machine has, keeping one for data loading, but on a CPU it
    loads data in the main process (workers=0), so on a 2-core machine one core idles: every core trains 1.8x faster.
    """
    import torch

    model.add_callback("on_pretrain_routine_start", lambda trainer: torch.set_num_threads(threads))
    return model


def train_and_validate(run: Run, data: str, recipe: dict, threads: int) -> dict:
    """Train one run (or resume it, or read it back when done) and validate its best.pt on the val split."""
    from ultralytics import YOLO

    done = run.folder / "result.json"
    if done.is_file():
        result = json.loads(done.read_text())
        if result["recipe"] != recipe or result["data"] != data:
            raise ValueError(
                f"{run.folder} holds a run of another recipe or dataset ({result['recipe']}, data={result['data']}). "
                f"Pass another project= for this one, or delete {run.folder.parent} to start over."
            )
        print(f"    finished earlier: mAP50 {result['map50']:.3f}, mAP50-95 {result['map50_95']:.3f}")
        return result
    last = run.folder / "weights" / "last.pt"
    if last.is_file() and not finished(last):
        print(f"    resuming from {last}")
        with_threads(YOLO(last), threads).train(resume=True)
    elif not last.is_file():
        train_args = dict(recipe, data=data, seed=run.seed, project=str(run.folder.parent), name=run.folder.name)
        with_threads(YOLO(run.model), threads).train(**train_args, exist_ok=True)
    best = run.folder / "weights" / "best.pt"
    model = YOLO(best)
    metrics = model.val(
        data=data, split="val", imgsz=recipe["imgsz"], batch=recipe["batch"], plots=False,
        project=str(run.folder), name="val", exist_ok=True,
    )  # fmt: skip
    result = {
        "label": run.label,
        "init": run.init,
        "seed": run.seed,
        "map50": float(metrics.box.map50),
        "map50_95": float(metrics.box.map),
        "params_M": sum(p.numel() for p in model.model.parameters()) / 1e6,
        "best": str(best),
        "recipe": recipe,
        "data": data,
    }
    done.write_text(json.dumps(result, indent=1))
    return result


def time_models(results: list[dict], imgsz: int, threads: int, warmup: int, runs: int) -> dict[str, tuple]:
    """ONNX Runtime latency (median, IQR in ms) at `imgsz` of each architecture, all timed interleaved."""
    import numpy as np
    import onnxruntime as ort
    from ultralytics import YOLO

    from ultralytics_light.timing import ort_options, summary, time_interleaved

    architectures = {}  # a model and its from-scratch twin share one architecture, so one timing
    for result in results:
        architectures.setdefault(result["label"].removesuffix(" (scratch)"), result["best"])
    runners = []
    for name, best in architectures.items():
        print(f"    exporting {name} to ONNX at {imgsz}", flush=True)
        onnx = YOLO(best).export(format="onnx", imgsz=imgsz, device="cpu")
        session = ort.InferenceSession(onnx, ort_options(threads), providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: np.random.rand(1, 3, imgsz, imgsz).astype(np.float32)}
        runners.append({"ort": lambda session=session, feed=feed: session.run(None, feed)})
    times = time_interleaved(runners, warmup, runs)
    return {name: summary(t["ort"]) for name, t in zip(architectures, times)}


def summarize(results: list[dict], latency: dict[str, tuple]) -> list[dict]:
    """One row per model label: mean over seeds, seed spread, latency, pretraining gain, Pareto front."""
    rows = {}
    for result in results:
        rows.setdefault(result["label"], []).append(result)
    table = []
    for label, seeds in rows.items():
        architecture = label.removesuffix(" (scratch)")
        ms, iqr = latency[architecture]
        row = {
            "model": label,
            "init": seeds[0]["init"],
            "params_M": seeds[0]["params_M"],
            "seeds": len(seeds),
            "ort_ms": ms,
            "ort_iqr": iqr,
        }
        for metric in ("map50", "map50_95"):
            values = [s[metric] for s in seeds]
            row[metric], row[f"{metric}_spread"] = sum(values) / len(values), max(values) - min(values)
        table.append(row)
    by_label = {row["model"]: row for row in table}
    for row in table:
        twin = by_label.get(f"{row['model']} (scratch)")
        if row["init"] == "ImageNet" and twin and twin["map50"] > 0:
            row["pretraining_gain"] = row["map50"] / twin["map50"]
        row["pareto"] = not any(
            other["ort_ms"] <= row["ort_ms"]
            and other["map50_95"] >= row["map50_95"]
            and (other["ort_ms"], other["map50_95"]) != (row["ort_ms"], row["map50_95"])
            for other in table
        )
    if "yolo11n" in by_label:
        for row in table:
            row["ort_vs_yolo11n"] = row["ort_ms"] / by_label["yolo11n"]["ort_ms"]
    return sorted(table, key=lambda row: row["ort_ms"])


def markdown(table: list[dict], about: str) -> str:
    lines = [
        about,
        "",
        "| model | backbone start | params (M) | mAP50 | mAP50-95 | ORT ms | ÷ yolo11n | pretraining gain (mAP50) "
        "| Pareto |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def spread(row: dict, metric: str) -> str:
        value = f"{row[metric]:.3f}"
        return value + (f" (± {row[f'{metric}_spread'] / 2:.3f})" if row["seeds"] > 1 else "")

    for row in table:
        gain = f"{row['pretraining_gain']:.1f}×" if "pretraining_gain" in row else ""
        vs_yolo11n = f"{row['ort_vs_yolo11n']:.2f}" if "ort_vs_yolo11n" in row else ""
        lines.append(
            f"| {row['model']} | {row['init']} | {row['params_M']:.2f} | {spread(row, 'map50')} | "
            f"{spread(row, 'map50_95')} | {row['ort_ms']:.1f} ± {row['ort_iqr']:.1f} | "
            f"{vs_yolo11n} | {gain} | {'★' if row['pareto'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def plot(table: list[dict], imgsz: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for row in table:
        ax.errorbar(
            row["ort_ms"], row["map50_95"], yerr=row["map50_95_spread"] / 2, fmt="*" if row["pareto"] else "o",
            color="C1" if row["pareto"] else ("grey" if row["init"] != "ImageNet" else "C0"), capsize=2,
        )  # fmt: skip
        ax.annotate(
            row["model"], (row["ort_ms"], row["map50_95"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
        )
    front = [row for row in table if row["pareto"]]
    ax.step([r["ort_ms"] for r in front], [r["map50_95"] for r in front], where="post", color="C1", alpha=0.5)
    ax.set_xlabel(f"ONNX Runtime CPU latency at {imgsz} (ms, median)")
    ax.set_ylabel("mAP50-95 on the held-out val split")
    ax.set_title("Pareto front (stars): nothing else is both faster and more accurate")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str]) -> int:
    try:
        return benchmark(*parse(argv))
    except ValueError as error:  # a bad argument, a model YAML we refuse, a project of another recipe
        print(error, file=sys.stderr)
        return 2


def benchmark(options: dict, recipe: dict) -> int:
    """Train, validate and time every model; write the reports."""
    import torch

    from ultralytics_light.report import replace_section
    from ultralytics_light.timing import machine

    data = str(options["data"])
    project, out = options["project"], options["out"]
    project.mkdir(parents=True, exist_ok=True)
    shown = " ".join(f"{k}={v}" for k, v in recipe.items())
    seeds = ",".join(map(str, options["seeds"]))
    print(f"recipe: {shown} seeds={seeds}")
    print(f"data: {data}; runs in {project}")
    runs = plan(options["models"], options["seeds"], options["scratch"], project, options["spread_seeds"])
    spread_runs = [run for run in runs if run.seed in options["spread_seeds"]]
    for run in spread_runs:
        print(f"{run.label} runs at seed {run.seed} too: its seed-to-seed spread is the table's noise level")
    results = []
    for k, run in enumerate(runs, 1):
        print(f"[{k}/{len(runs)}] {run.label}, seed {run.seed}, backbone from {run.init}", flush=True)
        results.append(train_and_validate(run, data, recipe, options["train_threads"]))
    torch.set_num_threads(options["threads"])
    print(f"timing {len(runs)} runs' architectures in ONNX Runtime at {recipe['imgsz']}", flush=True)
    latency = time_models(results, recipe["imgsz"], options["threads"], options["warmup"], options["runs"])
    table = summarize(results, latency)
    device = "GPU" if torch.cuda.is_available() else "CPU"
    about = (
        f"Trained on the {device} of this machine, on the train split of `{data}`, validated on its val split; "
        f"recipe: {shown}; seed {seeds}"
        + "".join(f", and {run.seed} too for {run.label}" for run in spread_runs)
        + " (± is half the seed-to-seed range: a difference smaller than it is noise). Latency: ONNX Runtime on "
        f"{machine(options['threads'])}, batch 1, {recipe['imgsz']} px, median ± IQR of {options['runs']} "
        f"interleaved runs."
    )
    text = markdown(table, about)
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.md").write_text("# Accuracy against latency\n\n" + text)
    with open(out / "accuracy.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for row in table for k in row)))
        writer.writeheader()
        writer.writerows(table)
    plot(table, recipe["imgsz"], out / "accuracy.png")
    if options["readme"]:
        replace_section(Path(options["readme"]), "accuracy", text)
    print(text)
    print(f"wrote {out / 'accuracy.md'}, {out / 'accuracy.csv'}, {out / 'accuracy.png'}")
    return 0
