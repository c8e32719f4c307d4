"""Training lifecycle with pretrained backbones: rebuilds from checkpoints without ImageNet files, freezing, export."""

from __future__ import annotations

import csv
import signal
import sys
import time

import pytest
import torch

TRAIN_ARGS = ("epochs=2", "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False")

SLOW_SECOND_EPOCH = """
import sys, time
from pathlib import Path
from ultralytics import YOLO

def slow_second_epoch(trainer):  # gives the test time to interrupt epoch 2 in its middle
    if trainer.epoch == 1:
        Path(sys.argv[3]).touch()
        time.sleep(0.5)

model = YOLO("yolov5n-shufflenetv2.yaml")
model.add_callback("on_train_batch_end", slow_second_epoch)
qat = {"quantize": 8} if sys.argv[4:] == ["qat"] else {}  # quantization-aware training (NVIDIA ModelOpt)
model.train(data=sys.argv[1], project=sys.argv[2], name="run", epochs=2, imgsz=64, batch=2, workers=0,
            device="cpu", plots=False, **qat)
"""


def results_epochs(run_dir) -> list[int]:
    with open(run_dir / "results.csv") as f:
        return [int(float(row["epoch"])) for row in csv.DictReader(f)]


def assert_backbone_convs_quantized(onnx_file) -> None:
    """Every convolution of the backbone rows (model.0-2) reads its input and weight through DequantizeLinear."""
    import onnx

    graph = onnx.load(str(onnx_file)).graph
    producers = {output: node for node in graph.node for output in node.output}
    rows = ("/model.0/", "/model.1/", "/model.2/")
    convs = [n for n in graph.node if n.op_type == "Conv" and n.name.startswith(rows)]
    assert convs
    for conv in convs:
        assert [producers[name].op_type for name in conv.input[:2]] == ["DequantizeLinear"] * 2, conv.name


# Each signal once and each kind of run once: Ctrl-C a plain run, SIGKILL one with quantization-aware training
@pytest.mark.parametrize("signal_name, qat", [("SIGINT", False), ("SIGKILL", True)])
def test_killed_mid_epoch_resumes_and_fine_tunes_without_imagenet_file(
    signal_name, qat, detect_dataset, tmp_path, monkeypatch, run_fresh
):
    from helpers import start_fresh

    runs, marker = tmp_path / "runs", tmp_path / "in-epoch-2"
    command = [sys.executable, "-c", SLOW_SECOND_EPOCH, str(detect_dataset), str(runs), str(marker)] + ["qat"] * qat
    process = start_fresh(command, tmp_path)
    deadline = time.time() + 300
    while not marker.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert marker.exists(), process.communicate()[1][-3000:]
    process.send_signal(getattr(signal, signal_name))
    process.wait(timeout=60)
    assert process.returncode != 0
    last = runs / "run" / "weights" / "last.pt"
    assert results_epochs(runs / "run") == [1]  # killed in epoch 2: only epoch 1 was recorded

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty_torch_home"))  # the ImageNet cache is gone
    run_fresh("yolo", "train", "resume", f"model={last}")
    assert results_epochs(runs / "run") == [1, 2]  # every epoch exactly once

    if qat:  # the resumed run kept its fake quantization, and exports it as Q/DQ in front of our backbone's convs
        best = runs / "run" / "weights" / "best.pt"
        assert torch.load(best, map_location="cpu", weights_only=False)["modelopt"] is not None
        run_fresh("yolo", "export", f"model={best}", "format=onnx", "imgsz=64")
        assert_backbone_convs_quantized(best.with_suffix(".onnx"))

    if not qat:  # fine-tuning a trained checkpoint needs no ImageNet file either
        best = runs / "run" / "weights" / "best.pt"
        run_fresh(
            "yolo", "train", f"model={best}", f"data={detect_dataset}", *TRAIN_ARGS, f"project={runs}", "name=tuned"
        )
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
