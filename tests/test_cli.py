"""The stock `yolo` CLI and Python API, in fresh interpreters that never import ultralytics_light by hand."""

from __future__ import annotations

import sys

import pytest
import torch

SHIPPED_N = [
    "yolov5n-mobilenetv2.yaml",
    "yolov5n-shufflenetv2.yaml",
    "yolo11n-mobilenetv2.yaml",
    "yolo11n-shufflenetv2.yaml",
]


@pytest.mark.parametrize("model", SHIPPED_N)
def test_yolo_train_then_predict_from_another_directory(model, detect_dataset, bus_jpg, run_fresh, tmp_path):
    run_fresh(
        "yolo", "train", f"model={model}", f"data={detect_dataset}", "epochs=1", "imgsz=64", "batch=4",
        "workers=0", "device=cpu", "plots=False", f"project={tmp_path / 'runs'}", "name=train",
    )  # fmt: skip
    best = tmp_path / "runs" / "train" / "weights" / "best.pt"
    assert best.is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_fresh(
        "yolo", "predict", f"model={best}", f"source={bus_jpg}", "imgsz=64", "device=cpu",
        f"project={tmp_path / 'predict'}", "name=bus", "save=False", "save_txt=True",
        cwd=elsewhere,
    )  # fmt: skip
    assert "bus.jpg: 64x" in result.stdout + result.stderr

    checkpoint = torch.load(best, map_location="cpu", weights_only=False)
    backbone = checkpoint["model"].model[:3]
    assert [type(row).__module__ for row in backbone] == [
        f"ultralytics_light.{'mobilenetv2' if 'mobilenet' in model else 'shufflenetv2'}"
    ] * 3
    assert checkpoint["model"].names == {0: "red", 1: "green"}


def test_python_api_with_bare_name(run_fresh):
    result = run_fresh(
        sys.executable, "-c", "from ultralytics import YOLO; print(YOLO('yolo11n-mobilenetv2.yaml').info())"
    )
    assert "YOLO11n-mobilenetv2 summary" in result.stdout + result.stderr
