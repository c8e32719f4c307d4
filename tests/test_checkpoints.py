"""Checkpoints load through every stock route, also under Ultralytics' restricted (weights_only) loading."""

from __future__ import annotations

import sys

import pytest
from helpers import pickled_globals

LOAD_EVERY_WAY = """
import sys
from ultralytics import YOLO
from ultralytics.nn.tasks import torch_safe_load

best, data = sys.argv[1], sys.argv[2]
ckpt, _ = torch_safe_load(best)  # Ultralytics' own loader
model = YOLO(best)
metrics = model.val(data=data, imgsz=64, batch=4, device="cpu", plots=False, workers=0)
print("LOADED", type(ckpt["model"]).__name__, model.task, type(model.model.model[0]).__name__, metrics.box.map50 >= 0)
"""

PICKLED_PATHS = {  # moving any of these breaks old checkpoints: keep an alias at the old path if one ever moves
    "ultralytics_light.mobilenetv2.MobileNetV2",
    "ultralytics_light.shufflenetv2.ShuffleNetV2",
    "ultralytics_light.normalize.ImageNetNormalize",
    "ultralytics_light.interleave.InterleavedInvertedResidual",  # a ShuffleNetV2 model saved after fuse()
    *(f"ultralytics_light.rows.{name}" for name in ("MobileNetV3", "EfficientNet", "RegNet", "MNASNet", "ResNet")),
    *(f"ultralytics_light.rows.{name}" for name in ("MobileNetV4", "LCNet", "RepViT", "GhostNetV2")),
    "ultralytics_light.rows.TorchvisionBackbone",
    "ultralytics_light.rows.TimmBackbone",
}


@pytest.mark.parametrize("trained", ["yolov5n-mobilenetv2.yaml"], indirect=True)
@pytest.mark.parametrize("safe_load", ["0", "1"])
def test_checkpoint_loads_every_stock_way(trained, safe_load, detect_dataset, run_fresh, monkeypatch):
    monkeypatch.setenv("ULTRALYTICS_SAFE_LOAD", safe_load)
    monkeypatch.setenv("TORCH_HOME", "/nonexistent/torch_home")  # loading never needs ImageNet files
    _, best = trained
    out = run_fresh(sys.executable, "-c", LOAD_EVERY_WAY, str(best), str(detect_dataset)).stdout
    assert "LOADED DetectionModel detect MobileNetV2 True" in out
    result = run_fresh(
        "yolo", "val", f"model={best}", f"data={detect_dataset}", "imgsz=64", "device=cpu", "plots=False"
    )
    assert "all" in result.stdout + result.stderr


def test_checkpoints_pickle_our_classes_under_stable_paths(built):
    _, checkpoint = built
    pickled = pickled_globals(checkpoint)
    ours = {name for name in pickled if name.startswith("ultralytics_light")}
    assert ours <= PICKLED_PATHS and "ultralytics_light.normalize.ImageNetNormalize" in ours
    assert len(ours) == 2  # one backbone class and the normalization


def test_restricted_loading_admits_exactly_our_classes(built):
    """Ours, the module classes of the torchvision modules that define its classifiers (and torchvision.ops' blocks),
    and timm's model and layer classes (timm installed): every class a checkpoint of ours pickles, and nothing from
    anywhere else."""
    from ultralytics.nn.tasks import _SafeLoad

    stock = _SafeLoad._build.__func__.__wrapped__(_SafeLoad)
    ours = _SafeLoad._build()
    assert set(stock) <= set(ours)
    added = set(ours) - set(stock)
    assert PICKLED_PATHS <= added
    assert {name.split(".")[0] for name in added} == {"ultralytics_light", "torchvision", "timm"}
    roots = ("torchvision.models.", "torchvision.ops.", "timm.models.", "timm.layers.", "ultralytics_light.")
    assert all(name.startswith(roots) for name in added)
    _, checkpoint = built
    pickled = pickled_globals(checkpoint)
    assert {name for name in pickled if name.startswith(("torchvision", "ultralytics_light"))} <= added
