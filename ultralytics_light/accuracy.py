"""`ultralytics-light bench-accuracy`: which model to pick, measured on your own data.

Every model is trained under one recipe (printed at the start; every key overridable, and any other `yolo train`
argument passed through) on the train split of `data`, validated with `yolo val` on its val split, which it never
trains on, and timed as `make bench` times models: its ONNX export in ONNX Runtime on the CPU, batch 1, interleaved
with the others. A model whose backbone has its ImageNet file at hand also trains from random weights
(`pretrained=False`, its scratch twin), so what pretraining buys is a column; one without the file trains from random
weights only, and the table says so. The first model from ImageNet also trains at `spread_seeds`: its seed-to-seed
spread is the noise level beside the table.

Writes accuracy.md, accuracy.csv and accuracy.png (mAP50-95 against latency, the Pareto front marked) in `out`. A run
that stops part-way resumes: finished models are read back, a half-trained one resumes from its last.pt. Training
uses the GPU when there is one (Ultralytics' own device choice), or every CPU core; latency is always CPU latency.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ultralytics_light.cli import Command, Option

STOCK = ("yolo11n.yaml", "yolo26n.yaml")  # the default list's stock models; the ratio column uses the first present
# val=False: no per-epoch validation, so best.pt is the last epoch's weights, not a pick made on the held-out split.
# warmup_epochs=0: no learning-rate warm-up, which costs a short fine-tuning run more than it gives (bench/recipes.md).
RECIPE = {"epochs": 40, "imgsz": 256, "batch": 16, "warmup_epochs": 0, "val": False, "plots": False}
# yolo train arguments the benchmark sets for each run itself: passed ones are ignored, with a warning saying why
SET_PER_RUN = {
    "seed": "each run's seed comes from seeds= and spread_seeds=",
    "name": "each run's folder is named after its model and seed",
    "exist_ok": "finished runs are read back and stopped ones resumed",
    "resume": "stopped runs are resumed by themselves",
    "pretrained": "models start from their YAML's weights, scratch twins from random weights (scratch_twin=)",
    "model": "the models are given by models=",
}
OPTIONS = {
    "data": Option(None, "dataset YAML: models train on its train split and are validated on its val split"),
    "models": Option(
        None, "comma-separated model YAMLs or .pt checkpoints; default every lite n model, yolo11n, yolo26n"
    ),
    "seeds": Option("0", "comma-separated training seeds; every model trains at each"),
    "spread_seeds": Option("1", "more seeds for the first model from ImageNet: its spread is the table's noise level"),
    "scratch_twin": Option(
        True, "also train each model that starts from ImageNet from random weights (pretrained=False)"
    ),
    "project": Option("runs/bench-accuracy", "folder the runs train in (a stopped benchmark resumes there)"),
    "out": Option(None, "folder for accuracy.md, accuracy.csv and accuracy.png; default the project"),
    "ort_threads": Option(2, "ONNX Runtime threads for the latency column"),
    "train_threads": Option(None, "torch threads when training on a CPU; default every core"),
    "runs": Option(30, "timed runs per model for the latency column"),
    "warmup": Option(10, "untimed runs before them"),
}


def train_arguments() -> set[str]:
    """The keys `yolo train` takes, less those the benchmark sets per run (SET_PER_RUN warns about those)."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    return set(DEFAULT_CFG_DICT) - set(OPTIONS)


def run_command(options: dict, passed: dict) -> int:
    return benchmark(*finish(options, passed))


COMMAND = Command(
    ("bench-accuracy",),
    "Train, validate and time models on your data: which model to pick (accuracy against CPU latency).",
    run_command,
    OPTIONS,
    required=("data",),
    passes="any `yolo train` argument, on top of the recipe "
    + " ".join(f"{key}={value}" for key, value in RECIPE.items())
    + " nbs=<batch> (one optimizer step per batch)",
    accepts=train_arguments,
    examples=(
        "bench-accuracy data=your_data.yaml",
        "bench-accuracy data=your_data.yaml models=yolo11n-lite-mobilenetv2.yaml,yolo11n.yaml seeds=0,1 epochs=60",
    ),
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
        pretrained: Ultralytics' `pretrained` for the run: False trains our backbone rows from random weights.
    """

    model: str
    label: str
    init: str
    seed: int
    folder: Path
    pretrained: bool = True


def default_models() -> list[str]:
    """The lite head of every shipped detect family at scale n, then stock yolo11n and yolo26n."""
    from ultralytics_light.cfg import model_names

    lite = [name for name in model_names() if name.startswith("yolo11-lite-")]
    return [name.replace("-", "n-", 1) for name in lite] + list(STOCK)


def parse(argv: list[str]) -> tuple[dict, dict]:
    """`key=value` arguments -> (our options, the recipe for yolo train); a UsageError for a wrong one."""
    return finish(*COMMAND.parse(argv))


def finish(options: dict, passed: dict) -> tuple[dict, dict]:
    """Our options typed and completed, and the recipe: RECIPE with the passed `yolo train` arguments on top."""
    from ultralytics.cfg import smart_value
    from ultralytics.utils import LOGGER

    from ultralytics_light.cli import UsageError

    recipe = dict(RECIPE)
    for key, value in passed.items():
        if key in SET_PER_RUN:
            LOGGER.warning(f"bench-accuracy: {key}={value} is ignored: {SET_PER_RUN[key]}.")
        else:
            recipe[key] = value
    if "nbs" not in recipe and isinstance(recipe["batch"], int) and recipe["batch"] > 0:
        # One optimizer step per batch. Ultralytics' nbs=64 accumulates four batches of 16 into one step: on a small
        # dataset that leaves a few steps an epoch, and the models learn far slower (bench/recipes.md).
        recipe["nbs"] = recipe["batch"]
    options = dict(options)
    options["models"] = str(options["models"]).split(",") if options["models"] else default_models()
    for key in ("seeds", "spread_seeds"):
        try:
            options[key] = [int(seed) for seed in str(options[key]).split(",") if seed.strip()]
        except ValueError:
            raise UsageError(f"bench-accuracy: {key}= takes comma-separated integers, got {options[key]!r}.") from None
    if not options["seeds"]:
        raise UsageError("bench-accuracy: seeds= needs at least one seed.")
    options["spread_seeds"] = [seed for seed in options["spread_seeds"] if seed not in options["seeds"]]
    options["scratch_twin"] = smart_value(str(options["scratch_twin"])) is True
    options["project"] = Path(options["project"]).resolve()
    options["out"] = Path(options["out"]).resolve() if options["out"] else options["project"]
    for key in ("ort_threads", "train_threads", "runs", "warmup"):
        if options[key] is None or options[key] == "":
            continue
        try:
            options[key] = int(options[key])
        except ValueError:
            raise UsageError(f"bench-accuracy: {key}= takes an integer, got {options[key]!r}.") from None
    options["train_threads"] = options["train_threads"] or os.cpu_count()
    return options, recipe


def asks_for_imagenet(yaml: dict) -> bool:
    """Whether a model YAML dict has backbone rows of ours that load pretrained weights."""
    from ultralytics_light.patches.checkpoint_rebuild import drop_pretrained

    copy = json.loads(json.dumps(yaml))
    drop_pretrained(copy)
    return copy != yaml


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

    variants = []  # (what YOLO() is given, table label, backbone start, pretrained)
    for name in models:
        label = checkpoint_label(Path(name)) if name.endswith(".pt") else Path(name).stem
        source = find_model_yaml(name) or (Path(name) if Path(name).suffix == ".yaml" else None)
        yaml = YAML.load(source) if source is not None and source.is_file() else {}
        if not asks_for_imagenet(yaml):
            variants.append((name, label, "checkpoint" if name.endswith(".pt") else "scratch", True))
            continue
        missing = imagenet_missing(name)
        if missing:
            print(f"{label}: no ImageNet weights here, so it trains from scratch ({missing})")
            variants.append((name, label, "scratch (no ImageNet file)", False))
            continue
        variants.append((name, label, "ImageNet", True))
        if twins:
            variants.append((name, f"{label} (scratch)", "scratch", False))
    spread = next((variant for variant in variants if variant[2] == "ImageNet"), variants[0])
    runs = []
    for model, label, init, pretrained in variants:
        extra = list(spread_seeds) if (model, label, init, pretrained) == spread else []
        runs += [Run(model, label, init, seed, run_folder(project, label, seed), pretrained) for seed in seeds + extra]
    return runs


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


def train_and_validate(run: Run, data: str, recipe: dict, threads: int) -> dict:
    """Train one run (or resume it, or read it back when done) and validate its best.pt on the val split."""
    from ultralytics import YOLO

    from ultralytics_light.backbone_init import pretrained

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
        with pretrained(run.pretrained):  # a model from random weights is built without reading the ImageNet file
            model = YOLO(run.model)
        with_threads(model, threads).train(**train_args, pretrained=run.pretrained, exist_ok=True)
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
    reference = latency_reference(by_label)
    for row in table if reference else []:
        row[f"ort_vs_{reference}"] = row["ort_ms"] / by_label[reference]["ort_ms"]
    return sorted(table, key=lambda row: row["ort_ms"])


def latency_reference(rows: dict) -> str | None:
    """The stock model the latency ratios are against: the first of STOCK among the rows, else None."""
    return next((Path(name).stem for name in STOCK if Path(name).stem in rows), None)


def markdown(table: list[dict], about: str) -> str:
    reference = latency_reference({row["model"]: row for row in table})
    stock = " or ".join(Path(name).stem for name in STOCK)
    about += f" ÷ {reference}: latency over {reference}'s." if reference else f" No {stock} among the models: no ratio."
    ratio = f" ÷ {reference} |" if reference else ""
    lines = [
        about,
        "",
        f"| model | backbone start | params (M) | mAP50 | mAP50-95 | ORT ms |{ratio} pretraining gain (mAP50) "
        "| Pareto |",
        "|---|---|---|---|---|---|" + ("---|" if reference else "") + "---|---|",
    ]

    def spread(row: dict, metric: str) -> str:
        value = f"{row[metric]:.3f}"
        return value + (f" (± {row[f'{metric}_spread'] / 2:.3f})" if row["seeds"] > 1 else "")

    for row in table:
        gain = f"{row['pretraining_gain']:.1f}×" if "pretraining_gain" in row else ""
        vs_reference = f" {row[f'ort_vs_{reference}']:.2f} |" if reference else ""
        lines.append(
            f"| {row['model']} | {row['init']} | {row['params_M']:.2f} | {spread(row, 'map50')} | "
            f"{spread(row, 'map50_95')} | {row['ort_ms']:.1f} ± {row['ort_iqr']:.1f} |"
            f"{vs_reference} {gain} | {'★' if row['pareto'] else ''} |"
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


def benchmark(options: dict, recipe: dict) -> int:
    """Train, validate and time every model; write the reports."""
    import torch

    from ultralytics_light.timing import machine

    data = str(options["data"])
    project, out = options["project"], options["out"]
    project.mkdir(parents=True, exist_ok=True)
    shown = " ".join(f"{k}={v}" for k, v in recipe.items())
    seeds = ",".join(map(str, options["seeds"]))
    print(f"recipe: {shown} seeds={seeds}")
    print(f"data: {data}; runs in {project}")
    runs = plan(options["models"], options["seeds"], options["scratch_twin"], project, options["spread_seeds"])
    spread_runs = [run for run in runs if run.seed in options["spread_seeds"]]
    for run in spread_runs:
        print(f"{run.label} runs at seed {run.seed} too: its seed-to-seed spread is the table's noise level")
    results = []
    for k, run in enumerate(runs, 1):
        print(f"[{k}/{len(runs)}] {run.label}, seed {run.seed}, backbone from {run.init}", flush=True)
        results.append(train_and_validate(run, data, recipe, options["train_threads"]))
    torch.set_num_threads(options["ort_threads"])
    print(f"timing {len(runs)} runs' architectures in ONNX Runtime at {recipe['imgsz']}", flush=True)
    latency = time_models(results, recipe["imgsz"], options["ort_threads"], options["warmup"], options["runs"])
    table = summarize(results, latency)
    device = "GPU" if torch.cuda.is_available() else "CPU"
    about = (
        f"Trained on the {device} of this machine, on the train split of `{data}`, validated on its val split; "
        f"recipe: {shown}; seed {seeds}"
        + "".join(f", and {run.seed} too for {run.label}" for run in spread_runs)
        + " (± is half the seed-to-seed range: a difference smaller than it is noise). Latency: ONNX Runtime on "
        f"{machine(options['ort_threads'])}, batch 1, {recipe['imgsz']} px, median ± IQR of {options['runs']} "
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
    print(text)
    print(f"wrote {out / 'accuracy.md'}, {out / 'accuracy.csv'}, {out / 'accuracy.png'}")
    return 0
