"""The stock `yolo` CLI and Python API, in fresh interpreters that never import ultralytics_light by hand."""

from __future__ import annotations

import sys

import torch
from ultralytics.nn.tasks import yaml_model_load


def test_yolo_train_writes_a_checkpoint_of_our_modules(trained):
    model_name, best = trained
    checkpoint = torch.load(best, map_location="cpu", weights_only=False)
    backbone = checkpoint["model"].model[:3]
    family = next(row[2] for row in yaml_model_load(model_name)["backbone"])
    expected = {"MobileNetV2": "ultralytics_light.mobilenetv2", "ShuffleNetV2": "ultralytics_light.shufflenetv2"}
    assert [type(row).__name__ for row in backbone] == [family] * 3
    assert [type(row).__module__ for row in backbone] == [expected.get(family, "ultralytics_light.rows")] * 3
    assert checkpoint["model"].names == {0: "red", 1: "green"}


def test_yolo_predict_from_another_directory(trained, bus_jpg, run_fresh, tmp_path):
    _, best = trained
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_fresh(
        "yolo", "predict", f"model={best}", f"source={bus_jpg}", "imgsz=64", "device=cpu",
        f"project={tmp_path / 'predict'}", "name=bus", "save=False", cwd=elsewhere,
    )  # fmt: skip
    assert "bus.jpg: 64x" in result.stdout + result.stderr


def test_python_api_with_bare_name(run_fresh):
    result = run_fresh(
        sys.executable, "-c", "from ultralytics import YOLO; print(YOLO('yolo11n-mobilenetv2.yaml').info())"
    )
    assert "YOLO11n-mobilenetv2 summary" in result.stdout + result.stderr
