"""Every Ultralytics task: segment, pose, obb and classify YAMLs build on every backbone, and train one tiny epoch and
predict."""

from __future__ import annotations

import pytest
import torch
from helpers import rectangles_dataset
from ultralytics import YOLO

TASK_YAMLS = {
    "segment": "yolo11{scale}-{backbone}-seg.yaml",
    "pose": "yolo11{scale}-{backbone}-pose.yaml",
    "obb": "yolo11{scale}-{backbone}-obb.yaml",
    "classify": "yolo11{scale}-{backbone}-cls.yaml",
}
BACKBONES = ("mobilenetv2", "shufflenetv2", "mobilenetv3-large")


@pytest.mark.parametrize("scale", ["n", "s"])
@pytest.mark.parametrize("backbone", BACKBONES)
@pytest.mark.parametrize("task", list(TASK_YAMLS))
def test_task_yaml_builds_with_the_task_head(task, backbone, scale):
    model = YOLO(TASK_YAMLS[task].format(scale=scale, backbone=backbone))
    assert model.task == task
    rows = model.model.model[:3]
    assert [row.tap for row in rows] == ["P3", "P4", "P5"]
    head = model.model.model[-1]
    assert type(head).__name__ == {"segment": "Segment", "pose": "Pose", "obb": "OBB", "classify": "Classify"}[task]
    if task == "classify":  # the P5 output feeds Classify directly
        assert head.conv.conv.in_channels == type(rows[2]).feature(rows[2].builder, "P5").channels
    else:
        assert model.model.stride.tolist() == [8.0, 16.0, 32.0]


# Each task trains once, on one of the backbones in turn: a task's head and loss are Ultralytics' own, and what our
# rows give them (P3/P4/P5, or P5 alone for classify) is checked for every backbone and scale above.
TRAINED = {"segment": "mobilenetv2", "pose": "shufflenetv2", "obb": "mobilenetv3-large", "classify": "shufflenetv2"}


@pytest.mark.slow  # trains
@pytest.mark.parametrize("task, backbone", TRAINED.items())
def test_task_trains_one_epoch_and_predicts(task, backbone, tmp_path, bus_jpg):
    data = rectangles_dataset(tmp_path / "data", task)
    name = TASK_YAMLS[task].format(scale="n", backbone=backbone)
    YOLO(name).train(data=str(data), epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False,
                     project=str(tmp_path / "runs"), name="train")  # fmt: skip
    best = tmp_path / "runs" / "train" / "weights" / "best.pt"
    model = YOLO(best)
    assert model.task == task and sorted(model.names.values()) == ["green", "red"]  # classify sorts folder names
    result = model.predict(bus_jpg, imgsz=64, device="cpu", conf=0.0, save=False)[0]
    if task == "classify":
        assert result.probs is not None and result.probs.data.shape == (2,)
        assert torch.isclose(result.probs.data.sum(), torch.tensor(1.0), atol=1e-4)
    else:
        output = {"segment": result.masks, "pose": result.keypoints, "obb": result.obb}[task]
        assert output is not None and len(output) > 0
        if task == "pose":
            assert output.data.shape[1:] == (4, 3)  # the dataset's kpt_shape, not the YAML's default
