"""Training lifecycle with pretrained backbones: rebuilds from checkpoints without ImageNet files, freezing, export."""

from __future__ import annotations

import csv
import sys

import pytest
import torch

TRAIN_ARGS = ("epochs=2", "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False")

STOP_AFTER_FIRST_SAVE = """
import os, sys
from ultralytics import YOLO

model = YOLO("yolov5n-shufflenetv2.yaml")
model.add_callback("on_model_save", lambda trainer: os._exit(3))  # killed right after epoch 1 is saved
model.train(data=sys.argv[1], project=sys.argv[2], name="run", epochs=2, imgsz=64, batch=4, workers=0,
            device="cpu", plots=False)
"""


def results_epochs(run_dir) -> list[int]:
    with open(run_dir / "results.csv") as f:
        return [int(float(row["epoch"])) for row in csv.DictReader(f)]


def test_resume_and_fine_tune_need_no_imagenet_file(detect_dataset, run_fresh, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    killed = run_fresh(sys.executable, "-c", STOP_AFTER_FIRST_SAVE, str(detect_dataset), str(runs), check=False)
    assert killed.returncode == 3, killed.stderr[-3000:]
    last = runs / "run" / "weights" / "last.pt"
    assert results_epochs(runs / "run") == [1]

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))  # the ImageNet cache is gone
    run_fresh("yolo", "train", "resume", f"model={last}")
    assert results_epochs(runs / "run") == [1, 2]

    best = runs / "run" / "weights" / "best.pt"
    run_fresh("yolo", "train", f"model={best}", f"data={detect_dataset}", *TRAIN_ARGS, f"project={runs}", "name=tuned")
    assert (runs / "tuned" / "weights" / "best.pt").is_file()


def test_freezing_the_backbone_keeps_weights_and_batchnorm_statistics(detect_dataset, tmp_path):
    from ultralytics import YOLO

    model = YOLO("yolo11n-mobilenetv2.yaml")
    before = {k: v.clone() for k, v in model.model.model[:3].state_dict().items()}
    after = {}

    def grab_backbone(trainer):
        after.update({k: v.clone() for k, v in trainer.model.model[:3].state_dict().items()})

    model.add_callback("on_train_end", grab_backbone)
    model.train(data=str(detect_dataset), freeze=3, project=str(tmp_path), name="frozen", epochs=1, imgsz=64,
                batch=4, workers=0, device="cpu", plots=False, val=False)  # fmt: skip
    assert any("running_mean" in k for k in after)
    assert after.keys() == before.keys()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed == []


@pytest.fixture(scope="module")
def trained(detect_dataset, tmp_path_factory, torch_home):
    """best.pt of a one-epoch yolo11n-shufflenetv2 run."""
    from ultralytics import YOLO

    project = tmp_path_factory.mktemp("runs")
    YOLO("yolo11n-shufflenetv2.yaml").train(data=str(detect_dataset), project=str(project), name="run", epochs=1,
                                            imgsz=64, batch=4, workers=0, device="cpu", plots=False)  # fmt: skip
    return project / "run" / "weights" / "best.pt"


def test_torchscript_export_keeps_the_normalization(trained, run_fresh):
    from ultralytics import YOLO

    run_fresh("yolo", "export", f"model={trained}", "format=torchscript", "imgsz=64")
    exported = torch.jit.load(str(trained.with_suffix(".torchscript")))
    graph = str(exported.inlined_graph)
    assert "aten::sub" in graph and "aten::div" in graph
    model = YOLO(trained).model.fuse().eval()
    x = torch.rand(1, 3, 64, 64)  # RGB in [0, 1], as Ultralytics feeds both
    with torch.no_grad():
        expected, ours = model(x)[0], exported(x)
    ours = ours[0] if isinstance(ours, (list, tuple)) else ours
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-4)
