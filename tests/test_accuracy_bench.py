"""`python -m ultralytics_light bench-accuracy`: trains, validates, times and reports; resumes instead of retraining.

Tiny models, two tiny epochs on the rectangles set: no mAP or time is asserted, only what the user gets.
"""

from __future__ import annotations

import csv
import json
import signal
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import offline_torch_home

from ultralytics_light.accuracy.plan import Run, Variant
from ultralytics_light.accuracy.run import Result

MODELS = "yolo11n-lite-shufflenetv2.yaml,yolo11n.pt"


KILLED_IN_TWINS_SECOND_EPOCH = """
import sys, time
from pathlib import Path
from ultralytics.utils.callbacks.base import default_callbacks
from ultralytics_light.cli import main

def slow_second_epoch_of_twin(trainer):  # gives the test time to kill the from-scratch twin in its epoch 2
    if trainer.epoch == 1 and "scratch" in Path(trainer.save_dir).name:
        Path(sys.argv[1]).touch()
        time.sleep(0.5)

default_callbacks["on_train_batch_end"].append(slow_second_epoch_of_twin)
sys.exit(main(["bench-accuracy", *sys.argv[2:]]))
"""


def made_result(
    name: str, init: str, seed: int, map50: float, map50_95: float, twin: bool = False, **variant
) -> Result:
    """A finished run's result, as train_and_validate returns it, without training."""
    made = Variant(f"{name}.yaml", name, init, pretrained=not twin, scratch_twin=twin, **variant)
    return Result(Run(made, seed, Path(name)), map50, map50_95, params_M=1, best=Path(name) / "best.pt")


def coco_stand_in(path: Path, data: Path) -> Path:
    """A stand-in for Ultralytics' COCO-pretrained release `path.name` (no network here): the stock model trained one
    epoch, saved under the release's name where Ultralytics looks first (the working directory)."""
    from ultralytics import YOLO

    model = YOLO(f"{path.stem}.yaml")
    model.train(data=str(data), epochs=1, imgsz=64, batch=4, workers=0, device="cpu", val=False, plots=False,
                project=str(path.parent / "stand-in"), name=path.stem)  # fmt: skip
    YOLO(path.parent / "stand-in" / path.stem / "weights" / "last.pt").save(path)
    return path


def results_epochs(run_dir: Path) -> list[str]:
    return [line.split(",")[0].strip() for line in (run_dir / "results.csv").read_text().splitlines()[1:]]


def test_bench_accuracy_reports_every_model_and_resumes(run_fresh, detect_dataset, tmp_path, monkeypatch):
    from helpers import start_fresh

    # ImageNet file at hand for ShuffleNetV2 only (MNASNet's, below, is not), and no download happens
    monkeypatch.setenv("TORCH_HOME", str(offline_torch_home(tmp_path / "torch_home", ["shufflenet_v2_x0_5"])))
    coco_stand_in(tmp_path / "yolo11n.pt", detect_dataset)
    project, marker = tmp_path / "runs", tmp_path / "in-epoch-2"
    args = (
        f"data={detect_dataset}", f"models={MODELS}", "epochs=2", "imgsz=64", "batch=4", "workers=0", "runs=2",
        "warmup=1", "ort_threads=1", "spread_seeds=", f"project={project}", "students=yolo11n-lite-shufflenetv2",
    )  # fmt: skip
    process = start_fresh([sys.executable, "-c", KILLED_IN_TWINS_SECOND_EPOCH, str(marker), *args], tmp_path)
    deadline = time.time() + 300
    while not marker.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()[1][-3000:]
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    pretrained_run = project / "yolo11n-lite-shufflenetv2-seed0"
    twin_run = project / "yolo11n-lite-shufflenetv2-scratch-seed0"
    assert (pretrained_run / "result.json").is_file() and not (twin_run / "result.json").exists()
    assert results_epochs(twin_run) == ["1"]
    kept = pretrained_run / "weights" / "best.pt"
    kept_mtime = kept.stat().st_mtime_ns

    result = run_fresh(sys.executable, "-m", "ultralytics_light", "bench-accuracy", *args)
    recipe = (
        "recipe: epochs=2 imgsz=64 batch=4 optimizer=SGD lr0=0.01 warmup_epochs=0 val=False plots=False workers=0 "
        "nbs=4 seeds=0\n"
    )
    assert recipe in result.stdout
    for line in (
        "[1/3] yolo11n-lite-shufflenetv2, seed 0, backbone from ImageNet\n    finished earlier",
        "[2/3] yolo11n-lite-shufflenetv2 (scratch), seed 0, backbone from scratch\n    resuming from "
        f"{twin_run / 'weights' / 'last.pt'}",
        "[3/3] yolo11n, seed 0, backbone from COCO",
        "teacher=auto: yolo11n, the best fine-tuned reference",
        "[distilled 1/1] yolo11n-lite-shufflenetv2 (distilled from yolo11n), seed 0",
    ):
        assert line in result.stdout
    assert kept.stat().st_mtime_ns == kept_mtime  # not retrained
    assert results_epochs(twin_run) == ["1", "2"]  # every epoch exactly once
    with open(project / "accuracy.csv") as f:
        rows = {row["model"]: row for row in csv.DictReader(f)}
    distilled = "yolo11n-lite-shufflenetv2 (distilled from yolo11n)"
    assert rows.keys() == {"yolo11n-lite-shufflenetv2", "yolo11n-lite-shufflenetv2 (scratch)", "yolo11n", distilled}
    shufflenet, twin = rows["yolo11n-lite-shufflenetv2"], rows["yolo11n-lite-shufflenetv2 (scratch)"]
    assert (shufflenet["init"], twin["init"], rows[distilled]["init"]) == ("ImageNet", "scratch", "ImageNet")
    assert shufflenet["params_M"] == twin["params_M"] == rows[distilled]["params_M"]
    assert shufflenet["ort_ms"] == twin["ort_ms"] == rows[distilled]["ort_ms"]  # one architecture, one timing
    assert rows["yolo11n"]["init"] == "COCO" and rows["yolo11n"]["reference"] == "True"
    assert float(rows["yolo11n"]["ort_vs_yolo11n"]) == 1.0 and "map50_95_vs_yolo11n" in rows["yolo11n"]
    assert all(float(row["train_min"]) > 0 for row in rows.values())
    teacher = project / "yolo11n-coco-seed0" / "weights" / "best.pt"
    student = torch.load(project / "yolo11n-lite-shufflenetv2-distilled-from-yolo11n-seed0" / "weights" / "best.pt",
                         map_location="cpu", weights_only=False)  # fmt: skip
    assert student["train_args"]["distill_model"] == str(teacher)
    assert (
        "Reference: yolo11n (COCO), the stock model a user would otherwise fine-tune"
        in (project / "accuracy.md").read_text()
    )
    assert all(0 <= float(row["map50_95"]) <= float(row["map50"]) <= 1 for row in rows.values())
    assert any(row["pareto"] == "True" for row in rows.values())
    assert (project / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    # from random weights through pretrained=False, as a model without its ImageNet file is (test_plan_…)
    checkpoint = torch.load(twin_run / "weights" / "best.pt", map_location="cpu", weights_only=False)
    assert [row.init for row in checkpoint["model"].model[:3]] == ["random weights"] * 3
    assert checkpoint["train_args"]["pretrained"] is False

    how = json.loads((project / "accuracy.json").read_text())
    assert (how["recipe"]["epochs"], how["seeds"], how["left_out"]) == (2, [0], [])

    # Another distillation weight trains the distilled row again, beside the first, and reads every other run back;
    # no_imagenet=skip leaves out MNASNet, whose ImageNet file is not here, and says so
    with_mnasnet = f"models=yolo11n-lite-mnasnet.yaml,{MODELS}"
    weighted = run_fresh(
        sys.executable, "-m", "ultralytics_light", "bench-accuracy", *args, with_mnasnet, "dis=2", "no_imagenet=skip"
    )
    assert weighted.stdout.count("    finished earlier") == 3
    assert "yolo11n-lite-mnasnet: no ImageNet weights here, so it is left out (no_imagenet=skip" in weighted.stdout
    assert "[distilled 1/1] yolo11n-lite-shufflenetv2 (distilled from yolo11n, dis=2), seed 0" in weighted.stdout
    assert (project / "yolo11n-lite-shufflenetv2-distilled-from-yolo11n-dis2-seed0" / "result.json").is_file()
    assert json.loads((project / "accuracy.json").read_text())["left_out"] == ["yolo11n-lite-mnasnet"]
    header = (project / "accuracy.md").read_text()
    assert "left out, their ImageNet files not here (no_imagenet=skip): yolo11n-lite-mnasnet" in header
    assert "| yolo11n-lite-mnasnet |" not in header

    # The project holds a 2-epoch recipe: a 3-epoch one must not mix with it
    refused = run_fresh(sys.executable, "-m", "ultralytics_light", "bench-accuracy", *args, "epochs=3", check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("ultralytics-light: error: ")
    assert "holds a run of another recipe, dataset or teacher" in refused.stderr
    assert "Pass another project=" in refused.stderr


def test_bench_accuracy_needs_data(run_fresh):
    result = run_fresh(sys.executable, "-m", "ultralytics_light", "bench-accuracy", "epochs=1", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("ultralytics-light: error: bench-accuracy: data= (dataset YAML")
    assert "usage: ultralytics-light bench-accuracy data=… [key=value ...]" in result.stderr


def test_bench_accuracy_steps_the_optimizer_every_batch_unless_told_otherwise():
    from ultralytics_light.accuracy import parse

    assert parse(["data=d.yaml"])[1]["nbs"] == 16
    assert parse(["data=d.yaml", "batch=8"])[1]["nbs"] == 8
    assert parse(["data=d.yaml", "batch=8", "nbs=64"])[1]["nbs"] == 64
    assert "nbs" not in parse(["data=d.yaml", "batch=-1"])[1]  # AutoBatch: Ultralytics' own default


def test_bench_accuracy_runs_the_first_imagenet_model_at_the_spread_seeds_too(tmp_path, monkeypatch):
    from ultralytics_light.accuracy import parse
    from ultralytics_light.accuracy.plan import plan

    monkeypatch.setenv("TORCH_HOME", str(offline_torch_home(tmp_path / "torch_home", ["shufflenet_v2_x0_5"])))
    options = parse(["data=d.yaml", "models=yolo11n.yaml,yolo11n-lite-shufflenetv2.yaml,yolo26n.yaml"])[0]
    assert (options["seeds"], options["spread_seeds"]) == ([0], [1])
    runs = plan(options["models"], options["seeds"], True, tmp_path, options["spread_seeds"])
    shufflenet = "yolo11n-lite-shufflenetv2"
    assert [(run.variant.label, run.seed) for run in runs] == [
        ("yolo11n", 0), (shufflenet, 0), (shufflenet, 1), (f"{shufflenet} (scratch)", 0), ("yolo26n", 0)
    ]  # fmt: skip
    twin = runs[3]
    assert (twin.variant.name, twin.variant.scratch_twin, twin.variant.pretrained) == (shufflenet, True, False)
    assert twin.folder == tmp_path / f"{shufflenet}-scratch-seed0"
    left_out = plan(["yolo11n-lite-mnasnet.yaml", "yolo11n-lite-shufflenetv2.yaml"], [0], False, tmp_path, [], True)
    assert [run.variant.label for run in left_out] == [shufflenet]  # no MNASNet file here: left out, not from scratch
    stock_only = plan(["yolo11n.yaml", "yolo26n.yaml"], [0], True, tmp_path, [1])  # nothing from ImageNet: the first
    assert [(run.variant.label, run.seed) for run in stock_only] == [("yolo11n", 0), ("yolo11n", 1), ("yolo26n", 0)]
    assert parse(["data=d.yaml", "spread_seeds="])[0]["spread_seeds"] == []


def test_a_model_without_its_imagenet_file_trains_from_scratch_says_so_and_has_no_twin(tmp_path, monkeypatch, capsys):
    from ultralytics_light.accuracy.plan import variants

    monkeypatch.setenv("TORCH_HOME", str(offline_torch_home(tmp_path / "torch_home", ["shufflenet_v2_x0_5"])))
    found = variants(["yolo11n-lite-mnasnet.yaml", "yolo11n-lite-shufflenetv2.yaml"], twins=True)
    assert [(v.name, v.init, v.pretrained, v.scratch_twin) for v in found] == [
        ("yolo11n-lite-mnasnet", "scratch (no ImageNet file)", False, False),
        ("yolo11n-lite-shufflenetv2", "ImageNet", True, False),
        ("yolo11n-lite-shufflenetv2", "scratch", False, True),
    ]
    assert "yolo11n-lite-mnasnet: no ImageNet weights here, so it trains from scratch (" in capsys.readouterr().out


def test_bench_accuracy_says_so_when_no_imagenet_skip_leaves_nothing_to_train(tmp_path, monkeypatch):
    from ultralytics_light.accuracy import benchmark, parse
    from ultralytics_light.cli import UsageError

    monkeypatch.setenv("TORCH_HOME", str(offline_torch_home(tmp_path / "torch_home", [])))
    with pytest.raises(UsageError, match="no_imagenet= takes scratch or skip"):
        parse(["data=d.yaml", "no_imagenet=drop"])
    argv = ["data=d.yaml", "models=yolo11n-lite-mnasnet.yaml", "no_imagenet=skip", f"project={tmp_path / 'runs'}"]
    with pytest.raises(UsageError, match="no model left to train: none of yolo11n-lite-mnasnet has its ImageNet file"):
        benchmark(*parse(argv))


def test_bench_accuracy_ratios_are_against_the_coco_reference_first_and_name_it():
    from ultralytics_light.accuracy.references import NO_COCO
    from ultralytics_light.accuracy.report import markdown, summarize

    ours = made_result("a", "ImageNet", 0, map50=0.2, map50_95=0.1)
    scratch = made_result("yolo11n", "scratch", 0, map50=0.1, map50_95=0.05, reference=True, note=NO_COCO)
    coco = made_result("yolo26n", "COCO", 0, map50=0.4, map50_95=0.2, reference=True)
    latency = {"a": (2.0, 0.1), "yolo11n": (5.0, 0.1), "yolo26n": (4.0, 0.1)}

    table = markdown(summarize([ours, scratch, coco], latency), "")
    assert "Reference: yolo26n (COCO), the stock model a user would otherwise fine-tune" in table
    assert "| ORT ms | ORT ÷ yolo26n | mAP50-95 ÷ yolo26n |" in table
    assert "| a | ImageNet | 1.00 | 0.200 | 0.100 | 2.0 ± 0.1 | 0.50 | 0.50 |" in table
    assert "| yolo11n (scratch: no COCO checkpoint here) | scratch |" in table

    offline = markdown(summarize([ours, scratch], latency), "")  # no COCO checkpoint: the scratch one, said so
    assert "Reference: yolo11n (scratch: no COCO checkpoint here)" in offline
    assert "its COCO checkpoint could not be had here, so it trained from scratch" in offline
    assert "| ORT ÷ yolo11n |" in offline

    alone = markdown(summarize([ours], {"a": (2.0, 0.1)}), "")
    assert "No stock model among the models: no reference, no ratio." in alone and "÷" not in alone


def test_bench_accuracy_takes_a_coco_release_found_here_and_says_when_it_cannot(tmp_path, monkeypatch, capsys):
    from ultralytics import YOLO
    from ultralytics.utils import downloads

    from ultralytics_light.accuracy.plan import variants

    def offline(*args, **kwargs):
        raise ConnectionError("Download failure for yolo26n.pt. Environment may be offline.")

    monkeypatch.setattr(downloads, "safe_download", offline)  # never the network, on any machine
    monkeypatch.chdir(tmp_path)
    (fallback,) = variants(["yolo26n.pt"], twins=True)
    assert fallback == Variant(
        "yolo26n.yaml", "yolo26n", "scratch", reference=True, note="scratch: no COCO checkpoint here"
    )
    assert fallback.label == "yolo26n (scratch: no COCO checkpoint here)"
    assert "yolo26n: no COCO checkpoint here, so this reference trains yolo26n.yaml from scratch (Download failure" in (
        capsys.readouterr().out
    )

    YOLO("yolo26n.yaml").save(tmp_path / "yolo26n.pt")  # where Ultralytics looks before downloading
    mine = tmp_path / "runs" / "my_yolo.pt"  # any other stock checkpoint is a reference as it is
    mine.parent.mkdir()
    YOLO("yolo11n.yaml").save(mine)
    found, given = variants(["yolo26n.pt", str(mine)], twins=True)
    assert (found.name, found.init, found.reference, Path(found.model).resolve()) == (
        "yolo26n", "COCO", True, tmp_path / "yolo26n.pt"
    )  # fmt: skip
    assert found.slug == "yolo26n-coco" != fallback.slug  # a COCO run never reads back a scratch one
    assert (given.label, given.init, given.reference) == ("my_yolo", "checkpoint", True)


def test_bench_accuracy_teacher_auto_is_the_best_fine_tuned_reference(tmp_path, capsys):
    from ultralytics_light.accuracy import distill

    ours = made_result("yolo11n-lite-lcnet", "scratch (no ImageNet file)", 0, 0.2, 0.1)
    full = made_result("yolo11n-mobilenetv2", "ImageNet", 0, 0.5, 0.4)
    scratch = made_result("yolo11n", "scratch", 0, 0.6, 0.5, reference=True, note="scratch: no COCO checkpoint here")
    weak = made_result("yolo26n", "COCO", 0, 0.3, 0.2, reference=True)
    strong = made_result("stand-in", "checkpoint", 0, 0.4, 0.3, reference=True)
    results = [ours, full, scratch, weak, strong]

    assert distill.pick_teachers(["auto"], results) == [strong]  # not the scratch one, though it scored higher
    assert distill.pick_teachers(["auto"], [ours, scratch]) == []
    assert "no reference here that was fine-tuned from COCO or a checkpoint" in capsys.readouterr().out
    assert distill.pick_teachers(["yolo11n-mobilenetv2.yaml", "auto"], results) == [full, strong]
    assert distill.parse_teachers("none") == distill.parse_teachers("") == []

    every = [result.run.variant for result in results]
    assert distill.students(every, None) == [ours.run.variant]  # every lite model of ours, no reference
    learners = distill.students(every, ["yolo11n-lite-lcnet", "yolo11n-mobilenetv2"])
    runs = distill.distilled_runs([full], learners, [0, 1], tmp_path, {"epochs": 40})
    assert [(run.variant.label, run.seed, run.teacher) for run in runs] == [
        ("yolo11n-lite-lcnet (distilled from yolo11n-mobilenetv2)", 0, full.best),
        ("yolo11n-lite-lcnet (distilled from yolo11n-mobilenetv2)", 1, full.best),
    ]  # never a teacher distilling into itself
    assert runs[1].folder == tmp_path / "yolo11n-lite-lcnet-distilled-from-yolo11n-mobilenetv2-seed1"

    # another distillation weight is another row, in its own folder; the runs that distil from nothing ignore it
    (weighted,) = distill.distilled_runs([full], learners, [0], tmp_path, {"epochs": 40, "dis": 1.5})
    assert weighted.variant.label == "yolo11n-lite-lcnet (distilled from yolo11n-mobilenetv2, dis=1.5)"
    assert weighted.folder == tmp_path / "yolo11n-lite-lcnet-distilled-from-yolo11n-mobilenetv2-dis1.5-seed0"
    assert distill.without_settings({"epochs": 40, "dis": 1.5}) == {"epochs": 40}


def test_bench_accuracy_warns_that_it_sets_a_passed_seed_itself(log_lines):
    from ultralytics_light.accuracy import parse

    options, recipe = parse(["data=d.yaml", "seed=3", "lr0=0.001"])
    assert "seed" not in recipe and recipe["lr0"] == 0.001 and options["seeds"] == [0]
    assert len(log_lines) == 1
    expected = "bench-accuracy: seed=3 is ignored: each run's seed comes from seeds= and spread_seeds=."
    assert log_lines[0].endswith(expected)  # after the logger's WARNING prefix


def test_bench_accuracy_table_shows_the_seed_spread_of_rows_run_twice():
    from ultralytics_light.accuracy.report import markdown, summarize

    def result(name: str, seed: int, map50: float) -> Result:
        return made_result(name, "ImageNet", seed, map50=map50, map50_95=map50 / 5)

    results = [result("a", 0, 0.3), result("a", 1, 0.2), result("b", 0, 0.1)]
    table = markdown(summarize(results, {"a": (2.0, 0.1), "b": (1.0, 0.1)}), "about")
    assert "| a | ImageNet | 1.00 | 0.250 (± 0.050) | 0.050 (± 0.010) |" in table
    assert "| b | ImageNet | 1.00 | 0.100 | 0.020 |" in table


def test_bench_accuracy_trains_on_every_core_it_is_given(detect_dataset, tmp_path):
    import torch
    from ultralytics import YOLO
    from ultralytics.utils import NUM_THREADS

    from ultralytics_light.accuracy.run import with_threads

    threads, seen = NUM_THREADS + 1, set()  # Ultralytics itself would train with NUM_THREADS
    model = with_threads(YOLO("yolo11n.yaml"), threads)
    model.add_callback("on_train_batch_start", lambda trainer: seen.add(torch.get_num_threads()))
    before = torch.get_num_threads()
    try:
        model.train(data=str(detect_dataset), epochs=1, imgsz=64, batch=4, device="cpu", val=False, plots=False,
                    project=str(tmp_path), name="threads", workers=0)  # fmt: skip
    finally:
        torch.set_num_threads(before)
    assert seen == {threads}


def test_bench_accuracy_gain_is_over_the_scratch_twin_of_the_same_architecture():
    from ultralytics_light.accuracy.report import summarize

    results = [
        made_result("a", "ImageNet", 0, map50=0.375, map50_95=0.1),
        made_result("a", "scratch", 0, map50=0.125, map50_95=0.05, twin=True),
        made_result("b", "ImageNet", 0, map50=0.2, map50_95=0.1),  # no twin: no gain
    ]
    rows = {row.model: row for row in summarize(results, {"a": (2.0, 0.1), "b": (1.0, 0.1)})}
    assert rows.keys() == {"a", "a (scratch)", "b"}
    assert rows["a"].pretraining_gain == 3.0 and rows["a (scratch)"].pretraining_gain is None
    assert rows["b"].pretraining_gain is None
    assert rows["a"].ort_ms == rows["a (scratch)"].ort_ms == 2.0  # the twin is timed as its architecture
