"""Knowledge distillation through Ultralytics' own path (`yolo train ... distill_model=teacher.pt`), our students."""

from __future__ import annotations

import csv
import math

import pytest
import torch
from ultralytics import YOLO

STUDENT = "yolo11n-lite-shufflenetv2.yaml"


@pytest.fixture
def teacher(request, trained, tmp_path):
    """A teacher checkpoint: ours (one epoch of lite MobileNetV2) or stock (yolo26n, end-to-end head, 80 classes)."""
    if request.param == "ours":
        return trained[1]
    stock = tmp_path / "yolo26n-teacher.pt"
    YOLO("yolo26n.yaml").save(stock)
    return stock


@pytest.mark.parametrize("trained", ["yolo11n-lite-mobilenetv2.yaml"], indirect=True)
@pytest.mark.parametrize("teacher", ["ours", "stock"], indirect=True)
def test_a_student_of_ours_distills_from_a_teacher_and_saves_without_it(
    teacher, detect_dataset, bus_jpg, run_fresh, tmp_path
):
    run_fresh("yolo", "train", f"model={STUDENT}", f"data={detect_dataset}", f"distill_model={teacher}", "epochs=1",
              "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False", f"project={tmp_path}",
              "name=student")  # fmt: skip

    with open(tmp_path / "student" / "results.csv") as f:
        (epoch,) = list(csv.DictReader(f))
    distill_loss = float(epoch["train/dis_loss"])
    assert math.isfinite(distill_loss) and distill_loss > 0

    best = tmp_path / "student" / "weights" / "best.pt"
    ckpt = torch.load(best, map_location="cpu", weights_only=False)
    assert ckpt["train_args"]["distill_model"] == str(teacher)
    student = YOLO(best)
    assert type(student.model).__name__ == "DetectionModel"  # the trainer's DistillationModel wrapper is gone
    assert type(student.model.model[0]).__name__ == "ShuffleNetV2"
    assert not any("teacher" in name for name, _ in student.model.named_modules())
    assert len(student.predict(bus_jpg, imgsz=64, device="cpu", verbose=False)[0].boxes.shape) == 2
