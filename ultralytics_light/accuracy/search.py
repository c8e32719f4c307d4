"""`bench-accuracy rungs=`: successive halving of the candidates on Ray Tune, on this machine or a Ray cluster.

Each run of our models is a Ray Tune trial that trains as `bench-accuracy` trains it (same recipe, folder, resume),
validated on the held-out split at each rung (e.g. 1/8, 1/4, 1/2 of the epochs, for rungs=4 keep=0.5): Ray's ASHA
scheduler stops a trial at a rung unless its mAP50-95 there is in the top `keep` of the trials that reached that rung.
Trials that reach the last rung train to the end and are the table's rows; every trial's rung history is kept beside
it. Without `ray_address`, Ray starts embedded on this machine (nothing to set up); with one, the same search runs on
that cluster, one trial per GPU where it has GPUs. A stopped search resumes where it stopped (Ray Tune's experiment
restore, in PROJECT/search), and each trial resumes its own run.

On one machine without GPUs the trials run one after another, each on every core: ASHA then keeps a trial past a rung
only if it is among the top `keep` of those that reached the rung before it, so the first one always trains to the end.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ultralytics_light.accuracy.plan import Run
from ultralytics_light.accuracy.run import Result, read_back, train_and_validate

INSTALL = "pip install 'ultralytics-light[search]'"
EXPERIMENT = "search"  # the Ray Tune experiment's folder in the project
TRIALS = "search-trials.json"  # beside it: the runs it searches, by folder, so that a resume is over the same runs


def check_installed() -> None:
    """A ValueError with the install command where Ray Tune is missing."""
    import importlib.util

    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("ray.tune") is None:
        raise ValueError(f"bench-accuracy: rungs= searches with Ray Tune, which is not installed: {INSTALL}.")


def rung_epochs(epochs: int, rungs: int, keep: float) -> list[int]:
    """The epochs at which the trials are compared, `rungs` in all, as ASHA places them: the first after
    `keep`^(rungs - 1) of the epochs (at least one), each next after 1/`keep` times as many, the last at the end
    (40, 4, 0.5: 5, 10, 20, 40)."""
    first = max(1, int(epochs * keep ** (rungs - 1)))
    found = [round(first / keep**k) for k in range(rungs - 1) if round(first / keep**k) < epochs]
    return sorted(set(found)) + [epochs]


def without_ultralytics_reports(trainer) -> None:
    """Drops Ultralytics' own Ray Tune reporter (its `raytune` setting) from this training: it reports the trainer's
    metrics every epoch, which with val=False are zeros until the last; the trial reports held-out mAP at the rungs."""
    for event, callbacks in trainer.callbacks.items():
        callbacks[:] = [c for c in callbacks if getattr(c, "__module__", "") != "ultralytics.utils.callbacks.raytune"]


def trial(config: dict, runs: list[Run], data: str, recipe: dict, threads: int, rungs: list[int]) -> None:
    """One candidate's Ray Tune trial: its run trained (or resumed, or read back), reported at every rung."""
    from ray import tune
    from ultralytics import YOLO

    run = next(run for run in runs if run.folder.name == config["run"])

    def report_at_rungs(trainer) -> None:
        epoch = trainer.epoch + 1
        if epoch in rungs[:-1]:  # last.pt holds this epoch's weights (saved before on_fit_epoch_end)
            metrics = YOLO(trainer.last).val(
                data=data, split="val", imgsz=recipe["imgsz"], batch=recipe["batch"], plots=False, verbose=False,
                project=str(run.folder), name=f"rung-{epoch}", exist_ok=True,
            )  # fmt: skip
            tune.report({"epoch": epoch, "map50": float(metrics.box.map50), "map50_95": float(metrics.box.map)})

    callbacks = {"on_pretrain_routine_start": without_ultralytics_reports, "on_fit_epoch_end": report_at_rungs}
    result = train_and_validate(run, data, recipe, threads, callbacks)
    tune.report({"epoch": rungs[-1], "map50": result.map50, "map50_95": result.map50_95})


def resources(threads: int) -> dict:
    """What one trial takes: a GPU (and a core) where the cluster has GPUs, else `threads` cores."""
    import ray

    if ray.cluster_resources().get("GPU", 0) >= 1:
        return {"gpu": 1, "cpu": 1}
    return {"cpu": min(threads, int(ray.cluster_resources().get("CPU", threads)))}


History = dict[str, list[tuple[int, float]]]  # 'label, seed N' -> [(epoch, mAP50-95), ...] at the rungs it reached


def search(runs: list[Run], data: str, recipe: dict, project: Path, threads: int, milestones: list[int], keep: float,
           address: str | None, trainable=trial) -> tuple[list[Result], History]:  # fmt: skip
    """Successive halving of `runs` on Ray Tune, compared at the epochs in `milestones` (rung_epochs), each trial
    `trainable` (`trial`'s arguments; it writes a finished run's result.json): (the results of the runs that trained to
    the end, each run's rung history: 'label, seed N' -> [(epoch, mAP50-95), ...])."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    trials = f"{len(runs)} trial{'s' * (len(runs) != 1)}"
    print(f"search: {trials} on Ray Tune's ASHA, compared at epochs {milestones}, keeping the top {keep:g}")
    path, record = project / EXPERIMENT, project / TRIALS
    names = [run.folder.name for run in runs]  # each trial's run, by its folder
    resuming = tune.Tuner.can_restore(path)
    if resuming:
        check_same_trials(record, names)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # never reports to Ray's servers
    ray.init(address=address, include_dashboard=False, ignore_reinit_error=True, log_to_driver=True)
    try:
        trainable = tune.with_resources(
            tune.with_parameters(trainable, runs=runs, data=data, recipe=recipe, threads=threads, rungs=milestones),
            resources(threads),
        )
        if resuming:
            print(f"search: resuming the search in {path}")
            tuner = tune.Tuner.restore(str(path), trainable, resume_errored=True)
        else:
            record.write_text(json.dumps(names) + "\n")
            scheduler = ASHAScheduler(time_attr="epoch", max_t=milestones[-1], grace_period=milestones[0],
                                      reduction_factor=1 / keep)  # fmt: skip
            tuner = tune.Tuner(
                trainable,
                param_space={"run": tune.grid_search(names)},
                tune_config=tune.TuneConfig(metric="map50_95", mode="max", scheduler=scheduler),
                run_config=tune.RunConfig(name=EXPERIMENT, storage_path=str(project), verbose=1),
            )
        grid = tuner.fit()
    finally:
        ray.shutdown()
    by_name = {run.folder.name: run for run in runs}
    failed = [(by_name[r.config["run"]], r.error) for r in grid if r.error is not None]
    if failed:
        raise ValueError(
            f"bench-accuracy: {len(failed)} trial{'s' * (len(failed) > 1)} failed: "
            + "; ".join(f"{run.variant.label}, seed {run.seed}: {last_line(error)}" for run, error in failed)
            + f". Run the same command again: the search resumes, and retries only these (Ray's logs: {path})."
        )
    reported = {}
    for trial_result in grid:
        frame = trial_result.metrics_dataframe
        rows = [] if frame is None or frame.empty else zip(frame["epoch"], frame["map50_95"])
        reported[trial_result.config["run"]] = [(int(epoch), float(score)) for epoch, score in rows]
    finished = [
        run for run in runs if [epoch for epoch, _ in reported.get(run.folder.name, [])][-1:] == milestones[-1:]
    ]
    history = {f"{run.variant.label}, seed {run.seed}": reported.get(run.folder.name, []) for run in runs}
    return [read_back(run, run.folder / "result.json", data, recipe) for run in finished], history


def check_same_trials(record: Path, names: list[str]) -> None:
    """A ValueError unless the search recorded in `record` (TRIALS, written when it started) is over the runs named
    `names` (their folders)."""
    import json

    if not record.is_file() or json.loads(record.read_text()) != names:
        raise ValueError(
            f"bench-accuracy: {record.parent / EXPERIMENT} holds a search over other models or seeds. Pass another "
            f"project= for this one, or delete it to start over."
        )


def last_line(error: BaseException) -> str:
    """The last line of an error's message (a failed trial's error holds its whole traceback)."""
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


def history_markdown(history: History, milestones: list[int]) -> str:
    """Each trial's mAP50-95 at every rung it reached, and where it stopped."""
    lines = [
        "| trial | " + " | ".join(f"mAP50-95 at epoch {epoch}" for epoch in milestones) + " | stopped |",
        "|---|" + "---|" * (len(milestones) + 1),
    ]
    for label, reported in history.items():
        scores = dict(reported)
        cells = [f"{scores[epoch]:.3f}" if epoch in scores else "" for epoch in milestones]
        last = reported[-1][0] if reported else None
        stopped = "trained to the end" if last == milestones[-1] else f"after epoch {last}" if last else "not run"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {stopped} |")
    return "\n".join(lines) + "\n"
