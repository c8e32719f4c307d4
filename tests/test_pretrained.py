"""`pretrained=` for our models, as Ultralytics users pass it: False trains the backbone rows from random weights and
reads no ImageNet file, True (the default) starts them from the YAML's weights, a checkpoint path transfers its
tensors. Asserted on the tensors the training starts from, and on what the log and the checkpoint say."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from torchvision.models import get_model_weights

MODEL = "yolo11n-lite-mobilenetv2.yaml"
TRAIN = {"epochs": 1, "imgsz": 64, "batch": 4, "workers": 0, "device": "cpu", "plots": False, "exist_ok": True}


@pytest.fixture
def imagenet_file(tmp_path, monkeypatch) -> Path:
    """The file the YAML's DEFAULT tag reads, in a cache of its own: a stand-in with seed 1, since the tests' usual
    stand-ins (seed 0) equal the random initialization a training seeded 0 draws."""
    from helpers import write_torchvision_checkpoint

    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    path = write_torchvision_checkpoint(checkpoints, "mobilenet_v2", seed=1)
    assert path.name == get_model_weights("mobilenet_v2")["DEFAULT"].url.rsplit("/", 1)[-1]
    return path


def p3_features(state: dict) -> dict[str, torch.Tensor]:
    """A copy of the P3 row's torchvision tensors (training changes them in place), by torchvision's key."""
    return {
        key.removeprefix("model.0."): value.float().clone()
        for key, value in state.items()
        if key.startswith("model.0.")
    }


def same_tensors(ours: dict[str, torch.Tensor], reference: dict[str, torch.Tensor]) -> list[bool]:
    """For each of our tensors that the reference has too: whether they are equal."""
    return [torch.equal(tensor, reference[key].float()) for key, tensor in ours.items() if key in reference]


def train_and_capture(tmp_path: Path, data: Path, name: str, files_opened: list | None = None, **kwargs):
    """Build YOLO(MODEL), train one epoch with `kwargs`; (P3 tensors the training started from, the trained model).

    With `files_opened`, every file opened during `train()` (not while YOLO() builds) is appended to it."""
    from ultralytics import YOLO

    model = YOLO(MODEL)
    start = {}
    model.add_callback("on_train_start", lambda trainer: start.update(p3_features(trainer.model.state_dict())))
    recording = []
    if files_opened is not None:
        sys.addaudithook(lambda event, args: recording and event == "open" and files_opened.append(str(args[0])))
        recording.append(True)
    try:
        model.train(data=str(data), project=str(tmp_path), name=name, **TRAIN, **kwargs)
    finally:
        recording.clear()
    return start, model


def test_pretrained_false_trains_from_random_weights_and_reads_no_imagenet_file(
    tmp_path, detect_dataset, imagenet_file
):
    imagenet = torch.load(imagenet_file, map_location="cpu")
    opened = []
    start, model = train_and_capture(tmp_path, detect_dataset, "scratch", opened, pretrained=False)
    convolutions = {key: tensor for key, tensor in start.items() if tensor.dim() == 4}
    matches = same_tensors(convolutions, imagenet)
    assert len(matches) == len(convolutions) > 0 and not any(matches)  # every convolution differs from the file's
    assert opened and not [path for path in opened if "checkpoints" in path or path.endswith(".pth")]
    checkpoint = torch.load(tmp_path / "scratch" / "weights" / "best.pt", map_location="cpu", weights_only=False)
    assert [row.init for row in checkpoint["model"].model[:3]] == ["random weights"] * 3
    assert [row[3] for row in checkpoint["model"].yaml["backbone"][:3]] == [["P3", None], ["P4", None], ["P5", None]]


def test_pretrained_true_starts_from_the_yamls_imagenet_weights(tmp_path, detect_dataset, imagenet_file, log_lines):
    imagenet = torch.load(imagenet_file, map_location="cpu")
    start, _ = train_and_capture(tmp_path, detect_dataset, "imagenet")
    matches = same_tensors(start, imagenet)
    assert len(matches) == len([key for key in start if not key.startswith("normalize")]) and all(matches)
    assert "ultralytics-light: backbone MobileNetV2(mobilenet_v2) starts from ImageNet IMAGENET1K_V2" in log_lines


def test_pretrained_checkpoint_transfers_its_tensors_and_says_so(tmp_path, detect_dataset, log_lines):
    _, scratch = train_and_capture(tmp_path, detect_dataset, "scratch", pretrained=False)
    best = tmp_path / "scratch" / "weights" / "best.pt"
    trained = p3_features(torch.load(best, map_location="cpu", weights_only=False)["model"].state_dict())
    log_lines.clear()
    start, _ = train_and_capture(tmp_path, detect_dataset, "from-checkpoint", pretrained=str(best))
    assert all(same_tensors(start, trained)) and len(same_tensors(start, trained)) == len(start)
    assert (
        f"ultralytics-light: backbone MobileNetV2(mobilenet_v2) starts from checkpoint best.pt (pretrained={best})"
        in (log_lines)
    )
    checkpoint = torch.load(
        tmp_path / "from-checkpoint" / "weights" / "best.pt", map_location="cpu", weights_only=False
    )
    assert [row.init for row in checkpoint["model"].model[:3]] == ["checkpoint best.pt"] * 3


def test_yolo_cli_pretrained_false_needs_no_imagenet_file(run_fresh, detect_dataset, tmp_path, monkeypatch):
    """The whole `yolo train` command, also the model the CLI builds before training, with no ImageNet file anywhere
    and no network: it trains, and says the backbone started from random weights."""
    empty = tmp_path / "no-imagenet"
    empty.mkdir()
    monkeypatch.setenv("TORCH_HOME", str(empty))
    args = ("yolo", "train", f"model={MODEL}", f"data={detect_dataset}", *(f"{k}={v}" for k, v in TRAIN.items()))
    result = run_fresh(*args, "pretrained=False", f"project={tmp_path}", "name=cli")
    log = result.stdout + result.stderr
    expected = "backbone MobileNetV2(mobilenet_v2) starts from random weights (pretrained=False); no ImageNet file read"
    assert expected in log
    assert not any(empty.rglob("*"))  # nothing downloaded or cached either
    refused = run_fresh(*args, f"project={tmp_path}", "name=default", check=False)  # the default needs the file
    assert refused.returncode != 0 and "mobilenet_v2-7ebf99e0.pth" in refused.stdout + refused.stderr


def test_python_api_builds_without_the_file_inside_pretrained_false(tmp_path, monkeypatch):
    from ultralytics import YOLO

    from ultralytics_light import pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pretrained(False):
        model = YOLO(MODEL)
    assert [row.init for row in model.model.model[:3]] == ["random weights"] * 3
    with pytest.raises(Exception, match="mobilenet_v2-7ebf99e0.pth"):  # outside the block: the YAML's weights
        YOLO(MODEL)
