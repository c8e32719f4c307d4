"""`bench-accuracy rungs=`: successive halving on Ray Tune's ASHA, embedded on this machine; a stopped search resumes
where it stopped. Ray is the optional `search` extra: without it, the option says how to install it."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ultralytics_light.accuracy.plan import Run, Variant

# mAP50-95 of each fake trial at the first rung and at the end: the second is below the first at the first rung
SCORES = ((0.5, 0.6), (0.1, 0.2), (0.9, 0.95))


def fake_trial(config, runs, data, recipe, threads, rungs):
    """A trial that trains nothing: it reports SCORES, fails where its run's folder holds a 'fail' file, and counts
    its starts."""
    from ray import tune

    k = [run.folder.name for run in runs].index(config["run"])
    run = runs[k]
    run.folder.mkdir(parents=True, exist_ok=True)
    with open(run.folder / "starts", "a") as f:
        f.write("started\n")
    if (run.folder / "fail").exists():
        raise RuntimeError("stopped by the test")
    tune.report({"epoch": rungs[0], "map50": 0.0, "map50_95": SCORES[k][0]})
    result = {"map50": 0.0, "map50_95": SCORES[k][1], "params_M": 1.0, "best": str(run.folder / "best.pt"),
              "recipe": recipe, "data": data, "teacher": None}  # fmt: skip
    (run.folder / "result.json").write_text(json.dumps(result))
    tune.report({"epoch": rungs[-1], "map50": 0.0, "map50_95": SCORES[k][1]})


@pytest.mark.slow  # starts Ray
def test_asha_stops_the_trial_below_the_rung_cutoff_and_a_stopped_search_resumes(tmp_path, monkeypatch):
    pytest.importorskip("ray.tune", reason="the search extra: pip install 'ultralytics-light[search]'")
    from ultralytics_light.accuracy.search import history_markdown, rung_epochs, search

    # Ray's workers import this module to run fake_trial
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]))
    runs = [Run(Variant(f"{name}.yaml", name, "scratch"), 0, tmp_path / name) for name in ("a", "b", "c")]
    milestones = rung_epochs(4, 2, 0.5)
    assert milestones == [2, 4]
    recipe = {"epochs": 4, "imgsz": 64, "batch": 4}
    runs[2].folder.mkdir(parents=True)
    (runs[2].folder / "fail").touch()  # the search stops at its last trial
    threads = os.cpu_count()  # every core to one trial: one after another, in order
    with pytest.raises(ValueError, match="1 trial failed: c, seed 0: .*stopped by the test.* Run the same command"):
        search(runs, "d.yaml", recipe, tmp_path, threads, milestones, 0.5, None, fake_trial)

    (runs[2].folder / "fail").unlink()
    results, history = search(runs, "d.yaml", recipe, tmp_path, threads, milestones, 0.5, None, fake_trial)
    # a continues (the first at its rung); b is below the median of (a, b) at epoch 2; c, above that of (a, b, c)
    assert [result.run.variant.name for result in results] == ["a", "c"]
    assert history == {"a, seed 0": [(2, 0.5), (4, 0.6)], "b, seed 0": [(2, 0.1)], "c, seed 0": [(2, 0.9), (4, 0.95)]}
    starts = [len((run.folder / "starts").read_text().splitlines()) for run in runs]
    assert starts == [1, 1, 2]  # resumed: only the failed trial ran again
    with pytest.raises(ValueError, match="holds a search over other models or seeds. Pass another project="):
        search(runs[:2], "d.yaml", recipe, tmp_path, threads, milestones, 0.5, None, fake_trial)
    table = history_markdown(history, milestones)
    assert "| b, seed 0 | 0.100 |  | after epoch 2 |" in table
    assert "| a, seed 0 | 0.500 | 0.600 | trained to the end |" in table


@pytest.mark.slow  # trains, in Ray's workers
def test_bench_accuracy_searches_in_rungs_and_keeps_each_trials_history(run_fresh, detect_dataset, tmp_path):
    pytest.importorskip("ray.tune", reason="the search extra: pip install 'ultralytics-light[search]'")
    project = tmp_path / "runs"
    result = run_fresh(
        sys.executable, "-m", "ultralytics_light", "bench-accuracy", f"data={detect_dataset}",
        "models=yolo11n-lite-shufflenetv2.yaml,yolo11n.yaml", "epochs=2",
        "imgsz=64", "batch=4", "workers=0", "rungs=2", "teacher=none", "scratch_twin=False", "spread_seeds=",
        "runs=2", "warmup=1", "ort_threads=1", f"project={project}",
    )  # fmt: skip
    assert "[1/1] yolo11n, seed 0, backbone from scratch" in result.stdout  # the reference, to the end, first
    assert "search: 1 trial on Ray Tune's ASHA, compared at epochs [1, 2], keeping the top 0.5" in result.stdout
    text = (project / "accuracy.md").read_text()
    assert "Searched with Ray Tune's ASHA: trials compared at epochs 1, 2, the top 0.5 kept at each" in text
    assert "| trial | mAP50-95 at epoch 1 | mAP50-95 at epoch 2 | stopped |" in text
    record = json.loads((project / "accuracy.json").read_text())
    assert record["rungs"] == [1, 2] and list(record["history"]) == ["yolo11n-lite-shufflenetv2, seed 0"]
    assert [epoch for epoch, _ in record["history"]["yolo11n-lite-shufflenetv2, seed 0"]] == [1, 2]  # at each rung
    assert "| yolo11n | scratch |" in text  # the reference is a row, whatever the search stopped
    assert (project / "yolo11n-lite-shufflenetv2-seed0" / "rung-1").is_dir()  # validated on the held-out split there
    assert (project / "search").is_dir()  # Ray Tune's experiment, for a resume


def test_rungs_without_ray_say_how_to_install_it(monkeypatch):
    import importlib.util

    from ultralytics_light.accuracy import parse

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name.startswith("ray") else real(name, *a)
    )
    with pytest.raises(ValueError, match=r"rungs= searches with Ray Tune, which is not installed: pip install "
                                         r"'ultralytics-light\[search\]'"):  # fmt: skip
        parse(["data=d.yaml", "rungs=4"])
    assert parse(["data=d.yaml"])[0]["rungs"] == 1  # without rungs=, bench-accuracy needs no Ray
