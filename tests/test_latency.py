"""`ultralytics-light time` on the target device, and what `bench-accuracy` does with its CSV (`latency=`) and with a
latency budget (`budget_ms=`): the models over budget never train, and the device's latencies decide the front."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from helpers import offline_torch_home

from ultralytics_light.accuracy.run import Result
from ultralytics_light.latency import COLUMNS, read_latencies, write_latencies

OURS = "yolo11n-lite-shufflenetv2"
MODELS = f"{OURS}.yaml,yolo11n.yaml"  # yolo11n: the stock reference, from scratch here
SCORES = {OURS: 0.20, "yolo11n": 0.25}  # mAP50-95 each fake run scores


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def latency_csv(path: Path, ms: dict[str, float], device: str, runtime: str = "openvino", imgsz: int = 64) -> Path:
    """A latency CSV as `time` writes it on `device`."""
    write_latencies([{"model": name, "ms": value, "iqr_ms": 0.1, "runtime": runtime, "imgsz": imgsz, "threads": 4,
                      "device": device, "versions": "made by the test", "source": f"{name}.yaml"}
                     for name, value in ms.items()], path)  # fmt: skip
    return path


@pytest.fixture
def fake_training(tmp_path, monkeypatch) -> list[str]:
    """bench-accuracy's runs 'trained' instantly at SCORES (the labels trained, in order), ShuffleNetV2's ImageNet file
    at hand, and no timing here: a test that reaches it fails."""
    from ultralytics_light import accuracy

    monkeypatch.setenv("TORCH_HOME", str(offline_torch_home(tmp_path / "torch_home", ["shufflenet_v2_x0_5"])))
    trained = []

    def train_and_validate(run, data, recipe, threads):
        trained.append(run.variant.label)
        score = SCORES[run.variant.name]
        return Result(run, 2 * score, score, 1.0, tmp_path / run.variant.name / "best.pt", 60.0)

    def no_timing(*args, **kwargs):
        raise AssertionError("timed on the training machine though a latency file was given")

    monkeypatch.setattr(accuracy, "train_and_validate", train_and_validate)
    monkeypatch.setattr(accuracy, "time_models", no_timing)
    monkeypatch.setattr(accuracy, "plot", lambda *args: None)  # the plot is test_accuracy_bench.py's
    monkeypatch.setattr("ultralytics_light.accuracy.budget.time_here", no_timing)
    return trained


def bench(tmp_path: Path, *args: str) -> dict[str, dict]:
    """Runs bench-accuracy (scratch twins and distillation off) and returns its CSV's rows by model."""
    from ultralytics_light.accuracy import benchmark, parse

    project = tmp_path / "runs"
    argv = ["data=d.yaml", f"models={MODELS}", "imgsz=64", "scratch_twin=False", "teacher=none", "spread_seeds=",
            f"project={project}", *args]  # fmt: skip
    assert benchmark(*parse(argv)) == 0
    return {row["model"]: row for row in read_csv(project / "accuracy.csv")}


def test_a_latency_file_from_another_device_decides_the_ratio_and_the_front(fake_training, tmp_path):
    # Where the lite model is the faster, it is on the front beside the more accurate reference; where it is slower
    # too, the reference dominates it
    pi = latency_csv(tmp_path / "pi.csv", {OURS: 4.0, "yolo11n": 10.0}, "Raspberry Pi 5")
    rows = bench(tmp_path, f"latency={pi}")
    assert fake_training == [OURS, "yolo11n"]
    assert (rows[OURS]["ort_ms"], rows["yolo11n"]["ort_ms"]) == ("4.0", "10.0")
    assert rows[OURS]["pareto"] == rows["yolo11n"]["pareto"] == "True"
    assert float(rows[OURS]["ort_vs_yolo11n"]) == 0.4
    text = (tmp_path / "runs" / "accuracy.md").read_text()
    assert "Latency: openvino on Raspberry Pi 5, 4 threads; made by the test, batch 1, 64 px (from pi.csv" in text
    assert "| OpenVINO ms | OpenVINO ÷ yolo11n |" in text

    x86 = latency_csv(tmp_path / "x86.csv", {OURS: 12.0, "yolo11n": 10.0}, "Xeon")
    rows = bench(tmp_path, f"latency={x86}")
    assert rows[OURS]["pareto"] == "False" and rows["yolo11n"]["pareto"] == "True"


def test_a_budget_leaves_out_the_models_over_it_before_any_training(fake_training, tmp_path):
    device = latency_csv(tmp_path / "device.csv", {OURS: 6.0, "yolo11n": 9.0}, "Jetson")
    rows = bench(tmp_path, f"latency={device}", "budget_ms=5")
    assert fake_training == ["yolo11n"] and set(rows) == {"yolo11n"}  # the reference trains: the ratios need it
    text = (tmp_path / "runs" / "accuracy.md").read_text()
    assert f"over budget_ms=5, left out before training: {OURS} (6.0 ms)" in text


def test_a_latency_file_must_hold_every_model_at_the_size_they_train_at(tmp_path):
    from ultralytics_light.accuracy.budget import check_covers
    from ultralytics_light.accuracy.plan import Run, Variant

    runs = [Run(Variant(f"{name}.yaml", name, "scratch"), 0, tmp_path) for name in ("a", "b")]
    partial = latency_csv(tmp_path / "partial.csv", {"a": 3.0}, "Pi")
    with pytest.raises(ValueError, match="has no row for b. Time them on the device: ultralytics-light time "
                                         "models=b.yaml imgsz=64 runtime=openvino"):  # fmt: skip
        check_covers(read_latencies(partial), runs, partial, 64)
    other_size = latency_csv(tmp_path / "640.csv", {"a": 3.0, "b": 4.0}, "Pi", imgsz=640)
    with pytest.raises(ValueError, match="was measured at 640 px and the models train at imgsz=64"):
        check_covers(read_latencies(other_size), runs, other_size, 64)

    two_devices = tmp_path / "two.csv"
    rows = [read_csv(latency_csv(two_devices, {name: 1.0}, device)) for name, device in (("a", "Pi"), ("b", "Xeon"))]
    write_latencies([row for device_rows in rows for row in device_rows], two_devices)
    with pytest.raises(ValueError, match="rows from more than one device"):
        read_latencies(two_devices)


@pytest.mark.slow  # exports
def test_time_writes_the_csv_bench_accuracy_reads(tmp_path, monkeypatch, capsys):
    from ultralytics.utils import downloads

    from ultralytics_light.cli import main

    def offline(*args, **kwargs):
        raise ConnectionError("Download failure for yolo26n.pt. Environment may be offline.")

    monkeypatch.setattr(downloads, "safe_download", offline)  # never the network, on any machine
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "latency.csv"
    argv = ["time", "models=yolo11n-lite-lcnet.yaml,yolo26n.pt", "imgsz=64", "runs=3", "warmup=1", "threads=1",
            f"out={out}"]  # fmt: skip
    assert main(argv) == 0
    rows = read_csv(out)
    assert tuple(rows[0]) == COLUMNS
    assert [row["model"] for row in rows] == ["yolo11n-lite-lcnet", "yolo26n"]
    assert rows[0]["source"] == "yolo11n-lite-lcnet.yaml (random weights)"
    assert rows[1]["source"] == "yolo26n.yaml (random weights; yolo26n.pt is not here, the graph is the same)"
    assert {(row["runtime"], row["imgsz"], row["threads"]) for row in rows} == {("onnxruntime", "64", "1")}
    latencies = read_latencies(out)
    assert set(latencies.ms) == {"yolo11n-lite-lcnet", "yolo26n"} and all(ms > 0 for ms, _ in latencies.ms.values())
    assert (tmp_path / "runs" / "time" / "yolo11n-lite-lcnet.onnx").is_file()  # exports beside, not in the package
    assert f"pass it to bench-accuracy as latency={out}" in capsys.readouterr().out


def test_time_refuses_an_unknown_runtime_with_the_choices(capsys):
    from ultralytics_light.cli import main

    assert main(["time", "runtime=tensorrt"]) == 2
    assert "time: runtime= takes one of onnxruntime, openvino, ncnn, litert, got 'tensorrt'." in capsys.readouterr().err
