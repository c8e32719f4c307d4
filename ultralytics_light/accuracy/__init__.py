"""`ultralytics-light bench-accuracy`: which model to pick, measured on your own data.

Every model is trained under one recipe (printed at the start; every key overridable, and any other `yolo train`
argument passed through) on the train split of `data`, validated with `yolo val` on its val split, which it never
trains on, and timed as `make bench` times models: its ONNX export in ONNX Runtime on the CPU, batch 1, interleaved
with the others. A model whose backbone has its ImageNet file at hand also trains from random weights
(`pretrained=False`, its scratch twin), so what pretraining buys is a column; one without the file trains from random
weights only, and the table says so. The first model from ImageNet also trains at `spread_seeds`: its seed-to-seed
spread is the noise level beside the table.

The references are what a user would otherwise pick: the COCO-pretrained yolo26n.pt and yolo11n.pt (references.py),
fine-tuned under the same recipe, and any stock checkpoint given in `models`; the ratio columns are against the first.
Each lite model also trains distilled from `teacher` (distill.py), by default the best fine-tuned reference.

With `budget_ms`, the models over the latency budget are left out before any training; with `latency`, the latencies
come from the target device (`ultralytics-light time`, latency.py) instead of this machine; with `rungs` above 1, the
runs are trials of a successive-halving search on Ray Tune (search.py).

Writes accuracy.md, accuracy.csv, accuracy.json (how it was measured: data, recipe, seeds, the models left out) and
accuracy.png (mAP50-95 against latency, the Pareto front marked) in `out`. A run that stops part-way resumes: finished
models are read back, a half-trained one resumes from its last.pt. Training uses the GPU when there is one
(Ultralytics' own device choice), or every CPU core; latency is always CPU latency.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ultralytics_light.accuracy import budget, distill, search
from ultralytics_light.accuracy.plan import default_models, plan
from ultralytics_light.accuracy.report import markdown, plot, summarize, write_csv
from ultralytics_light.accuracy.run import time_models, train_and_validate
from ultralytics_light.command import Command, Option
from ultralytics_light.latency import read_latencies

# val=False: no per-epoch validation, so best.pt is the last epoch's weights, not a pick made on the held-out split.
# optimizer=SGD lr0=0.01 and warmup_epochs=0 (with nbs=<batch>, finish()): the fine-tuning recipe measured best, or
# within the seed spread of the best, on data sets of 1 to 80 classes (bench/recipes.md); optimizer=auto's AdamW
# learning rate falls with the class count.
RECIPE = {
    "epochs": 40, "imgsz": 256, "batch": 16, "optimizer": "SGD", "lr0": 0.01, "warmup_epochs": 0, "val": False,
    "plots": False,
}  # fmt: skip
# yolo train arguments the benchmark sets for each run itself: passed ones are ignored, with a warning saying why
SET_PER_RUN = {
    "seed": "each run's seed comes from seeds= and spread_seeds=",
    "name": "each run's folder is named after its model and seed",
    "exist_ok": "finished runs are read back and stopped ones resumed",
    "resume": "stopped runs are resumed by themselves",
    "pretrained": "models start from their YAML's weights, scratch twins from random weights (scratch_twin=)",
    "model": "the models are given by models=",
    "distill_model": "distilled rows are given by teacher= and students=",
}
NO_IMAGENET = ("scratch", "skip")
OPTIONS = {
    "data": Option(None, "dataset YAML: models train on its train split and are validated on its val split"),
    "models": Option(
        None,
        "comma-separated model YAMLs or .pt checkpoints; default every lite n model and the COCO-pretrained "
        "yolo26n.pt and yolo11n.pt (their YAMLs from scratch, said so, where the checkpoints cannot be had)",
    ),
    "teacher": Option(
        distill.AUTO,
        "comma-separated models each lite model also distils from (distill_model=), fine-tuned here first; auto: the "
        "best reference fine-tuned from COCO or a checkpoint; none: no distilled rows",
    ),
    "students": Option(None, "comma-separated models that distil from the teacher; default every lite model"),
    "no_imagenet": Option(
        "scratch",
        "a model whose ImageNet file cannot be had here: scratch trains it from random weights (said in its row); "
        "skip leaves it out (said in the table's header)",
    ),
    "seeds": Option("0", "comma-separated training seeds; every model trains at each"),
    "spread_seeds": Option("1", "more seeds for the first model from ImageNet: its spread is the table's noise level"),
    "scratch_twin": Option(
        True, "also train each model that starts from ImageNet from random weights (pretrained=False)"
    ),
    "project": Option("runs/bench-accuracy", "folder the runs train in (a stopped benchmark resumes there)"),
    "out": Option(None, "folder for accuracy.md, accuracy.csv and accuracy.png; default the project"),
    "latency": Option(
        None,
        "a latency CSV from `ultralytics-light time` on the target device: its latencies replace this machine's "
        "ONNX Runtime timing in the budget, the ratio columns and the Pareto front",
    ),
    "budget_ms": Option(
        None,
        "latency budget (ms): models slower than it, references aside, are left out before any training (timed "
        "first here, or read from latency=)",
    ),
    "rungs": Option(
        1,
        "successive halving on Ray Tune's ASHA: compare the models at this many rungs (4: 1/8, 1/4, 1/2 and all of "
        "the epochs) and stop those outside the top `keep`; 1: every model trains to the end, one after another",
    ),
    "keep": Option(0.5, "the fraction of the models kept at each rung (rungs= above 1)"),
    "ray_address": Option(
        None,
        "a Ray cluster to search on (rungs= above 1), one trial per GPU where it has GPUs; default Ray embedded here",
    ),
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
        "bench-accuracy data=your_data.yaml models=yolo11n-lite-lcnet.yaml,yolo26n.pt teacher=yolo26n.pt dis=6",
    ),
)


def parse(argv: list[str]) -> tuple[dict, dict]:
    """`key=value` arguments -> (our options, the recipe for yolo train); a UsageError for a wrong one."""
    return finish(*COMMAND.parse(argv))


def finish(options: dict, passed: dict) -> tuple[dict, dict]:
    """Our options typed and completed, and the recipe: RECIPE with the passed `yolo train` arguments on top."""
    from ultralytics.cfg import smart_value
    from ultralytics.utils import LOGGER

    from ultralytics_light.command import UsageError

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
    options["teacher"] = distill.parse_teachers(options["teacher"])
    if options["teacher"] and not distill.available():
        from ultralytics import __version__

        if options["teacher"] != [distill.AUTO]:
            raise UsageError(
                f"bench-accuracy: teacher= needs Ultralytics' distill_model= (8.4 and newer); this is {__version__}. "
                "Upgrade Ultralytics, or pass teacher=none."
            )
        print(f"bench-accuracy: no distilled rows: Ultralytics {__version__} has no distill_model= (8.4 and newer)")
        options["teacher"] = []
    for teacher in options["teacher"]:  # a teacher that is not among the models is fine-tuned as one of them
        if teacher != distill.AUTO and not any(teacher in (m, Path(m).stem) for m in options["models"]):
            options["models"].append(teacher)
    options["students"] = str(options["students"]).split(",") if options["students"] else None
    if options["no_imagenet"] not in NO_IMAGENET:
        raise UsageError(f"bench-accuracy: no_imagenet= takes scratch or skip, got {options['no_imagenet']!r}.")
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
    if options["budget_ms"] not in (None, ""):
        try:
            options["budget_ms"] = float(options["budget_ms"])
        except ValueError:
            raise UsageError(f"bench-accuracy: budget_ms= takes a number, got {options['budget_ms']!r}.") from None
    else:
        options["budget_ms"] = None
    if options["latency"]:
        options["latency"] = Path(options["latency"]).resolve()
    try:
        options["rungs"], options["keep"] = int(options["rungs"]), float(options["keep"])
    except ValueError:
        raise UsageError(f"bench-accuracy: rungs= takes an integer and keep= a fraction, got {options['rungs']!r}, "
                         f"{options['keep']!r}.") from None  # fmt: skip
    if options["rungs"] < 1 or not 0 < options["keep"] < 1:
        raise UsageError("bench-accuracy: rungs= takes 1 or more, keep= a fraction between 0 and 1.")
    if options["rungs"] > 1:
        search.check_installed()
    return options, recipe


def benchmark(options: dict, recipe: dict) -> int:
    """Train, validate and time every model; write the reports."""
    import torch

    from ultralytics_light.command import UsageError
    from ultralytics_light.timing import machine

    data = str(options["data"])
    project, out = options["project"], options["out"]
    project.mkdir(parents=True, exist_ok=True)
    shown = " ".join(f"{k}={v}" for k, v in recipe.items())
    seeds = ",".join(map(str, options["seeds"]))
    print(f"recipe: {shown} seeds={seeds}")
    print(f"data: {data}; runs in {project}")
    skip = options["no_imagenet"] == "skip"
    runs = plan(options["models"], options["seeds"], options["scratch_twin"], project, options["spread_seeds"], skip)
    trained = {run.variant.name for run in runs}
    left_out = [Path(m).stem for m in options["models"] if not m.endswith(".pt") and Path(m).stem not in trained]
    if not runs:
        raise UsageError(
            f"bench-accuracy: no model left to train: none of {', '.join(left_out)} has its ImageNet file here. "
            "Pass no_imagenet=scratch to train them from random weights, or cache their files (ultralytics-light "
            "weights import)."
        )
    latencies = read_latencies(options["latency"]) if options["latency"] else None
    if latencies is not None:
        budget.check_covers(latencies, runs, options["latency"], recipe["imgsz"])
    over_budget = {}
    if options["budget_ms"] is not None:
        if latencies is None:
            latencies = budget.time_here(runs, recipe["imgsz"], options["ort_threads"], options["warmup"],
                                         options["runs"], project / "latency")  # fmt: skip
        runs, over_budget = budget.within_budget(runs, latencies, options["budget_ms"])
        if not runs:
            raise UsageError(f"bench-accuracy: every model is over budget_ms={options['budget_ms']:g}.")
    spread_runs = [run for run in runs if run.seed in options["spread_seeds"]]
    for run in spread_runs:
        print(f"{run.variant.label} runs at seed {run.seed} too: its seed-to-seed spread is the table's noise level")
    history, milestones, alone = {}, [], distill.without_settings(recipe)
    # A search halves the models of ours; the references train to the end first, since the ratios are against them
    searched = [run for run in runs if not run.variant.reference] if options["rungs"] > 1 else []
    sequential = [run for run in runs if run not in searched]
    results = []
    for k, run in enumerate(sequential, 1):
        print(
            f"[{k}/{len(sequential)}] {run.variant.label}, seed {run.seed}, backbone from {run.variant.init}",
            flush=True,
        )
        results.append(train_and_validate(run, data, alone, options["train_threads"]))
    if searched:
        milestones = search.rung_epochs(recipe["epochs"], options["rungs"], options["keep"])
        threads, keep, address = options["train_threads"], options["keep"], options["ray_address"]
        found, history = search.search(searched, data, alone, project, threads, milestones, keep, address)
        results += found
    teachers = distill.pick_teachers(options["teacher"], results)
    learners = distill.students(list(dict.fromkeys(result.run.variant for result in results)), options["students"])
    distilled = distill.distilled_runs(teachers, learners, options["seeds"], project, recipe)
    for k, run in enumerate(distilled, 1):
        print(f"[distilled {k}/{len(distilled)}] {run.variant.label}, seed {run.seed}, teacher {run.teacher}")
        results.append(train_and_validate(run, data, recipe, options["train_threads"]))
    if options["latency"]:
        latency = latencies.ms
        timed_by = f"Latency: {latencies.about(options['latency'])}."
    else:
        torch.set_num_threads(options["ort_threads"])
        print(f"timing {len(runs)} runs' architectures in ONNX Runtime at {recipe['imgsz']}", flush=True)
        latency = time_models(results, recipe["imgsz"], options["ort_threads"], options["warmup"], options["runs"])
        timed_by = (
            f"Latency: ONNX Runtime on {machine(options['ort_threads'])}, batch 1, {recipe['imgsz']} px, median ± IQR "
            f"of {options['runs']} interleaved runs."
        )
    table = summarize(results, latency)
    device = "GPU" if torch.cuda.is_available() else "CPU"
    over = ", ".join(f"{name} ({ms:.1f} ms)" for name, ms in over_budget.items())
    about = (
        f"Trained on the {device} of this machine, on the train split of `{data}`, validated on its val split; "
        f"recipe: {shown}; seed {seeds}"
        + "".join(f", and {run.seed} too for {run.variant.label}" for run in spread_runs)
        + " (± is half the seed-to-seed range: a difference smaller than it is noise)"
        + (f"; left out, their ImageNet files not here (no_imagenet=skip): {', '.join(left_out)}" if left_out else "")
        + "".join(
            f"; distilled rows: distill_model= {t.run.variant.label}'s seed-{t.run.seed} best.pt" for t in teachers
        )
        + (f"; over budget_ms={options['budget_ms']:g}, left out before training: {over}" if over_budget else "")
        + f". {timed_by}"
    )
    runtime = latencies.runtime if options["latency"] else "onnxruntime"
    text = markdown(table, about, runtime)
    if history:
        text += (
            f"\nSearched with Ray Tune's ASHA: trials compared at epochs {', '.join(map(str, milestones))}, the top "
            f"{options['keep']:g} kept at each; only the trials that trained to the end are rows above.\n\n"
            + search.history_markdown(history, milestones)
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.md").write_text("# Accuracy against latency\n\n" + text)
    write_csv(table, out / "accuracy.csv")
    plot(table, recipe["imgsz"], out / "accuracy.png", runtime)
    about_record = {"data": data, "recipe": recipe, "seeds": options["seeds"], "left_out": left_out,
                    "over_budget": over_budget, "rungs": milestones, "history": history, "about": about}  # fmt: skip
    (out / "accuracy.json").write_text(json.dumps(about_record, indent=1, default=str) + "\n")
    print(text)
    print(f"wrote {out / 'accuracy.md'}, {out / 'accuracy.csv'}, {out / 'accuracy.json'}, {out / 'accuracy.png'}")
    return 0
