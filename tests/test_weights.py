"""Pretrained weights: offline resolution, clear errors for missing or wrong files, exact loading, the weights CLI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from helpers import write_torchvision_checkpoint
from torchvision.models import get_model, get_model_weights
from ultralytics.nn.tasks import DetectionModel

from ultralytics_light import MobileNetV2, ShuffleNetV2
from ultralytics_light.families import FAMILIES
from ultralytics_light.weights import WeightsFileError, WeightsNotAvailableError

SHARED_MOBILENET = Path(__file__).resolve().parents[2] / "shared" / "weights" / "mobilenet_v2-b0353104.pth"


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    """An empty TORCH_HOME, and any download attempt refused at once (a closed local port as the proxy)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    return checkpoints


def cache_name(builder: str, tag: str = "DEFAULT") -> str:
    return get_model_weights(builder)[tag].url.rsplit("/", 1)[-1]


def test_missing_file_offline_says_what_to_do(empty_cache):
    with pytest.raises(WeightsNotAvailableError) as error:
        ShuffleNetV2(3, 48, "x0_5", "P3", "DEFAULT")
    message = str(error.value)
    for expected in (
        "ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1 for shufflenet_v2_x0_5",
        "file:      shufflenetv2_x0.5-f707e7126e.pth",
        f"looked in: {empty_cache}",
        f"get it:    {get_model_weights('shufflenet_v2_x0_5').IMAGENET1K_V1.url}",  # torchvision's own URL
        "ultralytics-light weights import file=/path/to/shufflenetv2_x0.5-f707e7126e.pth",
        "yolo train ... pretrained=False",
    ):
        assert expected in message
    assert not any(empty_cache.iterdir())  # nothing half-downloaded left behind


def test_truncated_file_is_named(empty_cache):
    good = write_torchvision_checkpoint(empty_cache, "shufflenet_v2_x0_5")
    good.write_bytes(good.read_bytes()[:100_000])
    with pytest.raises(
        WeightsFileError, match=r"shufflenetv2_x0.5-f707e7126e.pth cannot be read as a PyTorch state dict"
    ):
        ShuffleNetV2(3, 48, "x0_5", "P3", "DEFAULT")


def test_other_architecture_in_the_cache_is_named_with_the_mismatch(empty_cache):
    wrong = write_torchvision_checkpoint(empty_cache, "shufflenet_v2_x1_0")
    wrong.rename(empty_cache / cache_name("shufflenet_v2_x0_5"))
    with pytest.raises(WeightsFileError) as error:
        ShuffleNetV2(3, 48, "x0_5", "P3", "DEFAULT")
    message = str(error.value)
    assert "shufflenetv2_x0.5-f707e7126e.pth is not a state dict of torchvision's shufflenet_v2_x0_5" in message
    assert "shape mismatches (file vs model): stage2.0.branch1.2.weight (58, 24, 1, 1) vs (24, 24, 1, 1)" in message


def test_weights_path_of_another_architecture(tmp_path):
    path = write_torchvision_checkpoint(tmp_path, "mobilenet_v2")
    with pytest.raises(WeightsFileError) as error:
        ShuffleNetV2(3, 48, "x0_5", "P3", str(path))
    assert "missing keys: conv1.0.weight" in str(error.value)
    assert "unexpected keys: features.0.0.weight" in str(error.value)


def test_weights_path_that_is_not_a_state_dict(tmp_path):
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], path)
    with pytest.raises(WeightsFileError, match="list.pth is not a state dict .* it holds a list"):
        MobileNetV2(3, 32, "P3", str(path))


def test_weights_path_loads_that_file_exactly(tmp_path):
    path = write_torchvision_checkpoint(tmp_path, "shufflenet_v2_x0_5", seed=7)
    expected = torch.load(path, weights_only=True)
    row = ShuffleNetV2(48, 96, "x0_5", "P4", str(path))
    assert row.weights == str(path)
    assert all(torch.equal(tensor, expected[key]) for key, tensor in row.state_dict().items())


def test_default_uses_another_cached_tag_and_says_so(empty_cache, monkeypatch):
    """mobilenet_v2's DEFAULT is IMAGENET1K_V2; with only V1 cached, DEFAULT loads V1, with a warning."""
    from ultralytics.utils import LOGGER

    from ultralytics_light.weights import warn_once

    warn_once.cache_clear()
    warnings = []
    monkeypatch.setattr(LOGGER, "warning", lambda message, *a, **k: warnings.append(message))
    v1 = write_torchvision_checkpoint(empty_cache, "mobilenet_v2", tag="IMAGENET1K_V1", seed=3)
    row = MobileNetV2(3, 32, "P3", "DEFAULT")
    assert row.weights == "IMAGENET1K_V1"
    expected = torch.load(v1, weights_only=True)
    assert all(torch.equal(tensor, expected[key]) for key, tensor in row.state_dict().items())
    assert len(warnings) == 1 and "using the cached IMAGENET1K_V1" in warnings[0]
    assert "weights fetch variant=mobilenet_v2" in warnings[0]


@pytest.mark.parametrize(
    "name, builder", [("yolov5n-mobilenetv2.yaml", "mobilenet_v2"), ("yolo11s-shufflenetv2.yaml", "shufflenet_v2_x1_0")]
)
def test_detection_model_holds_the_files_tensors_and_torchvisions_batchnorm(name, builder, torch_home):
    model = DetectionModel(name, verbose=False)
    backbone = model.model[:3]
    expected = torch.load(torch_home / "hub" / "checkpoints" / cache_name(builder), weights_only=True)
    ours = {key: tensor for row in backbone for key, tensor in row.state_dict().items()}
    assert ours and all(torch.equal(tensor, expected[key]) for key, tensor in ours.items())
    reference = get_model(builder, weights=None)
    reference_norms = [(m.eps, m.momentum) for m in reference.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    our_norms = [(m.eps, m.momentum) for m in backbone.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert set(our_norms) == set(reference_norms) == {(1e-5, 0.1)}
    head_norms = {(m.eps, m.momentum) for m in model.model[3:].modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert head_norms == {(1e-3, 0.03)}  # Ultralytics' own layers keep Ultralytics' settings


@pytest.mark.skipif(not SHARED_MOBILENET.is_file(), reason="needs ../shared/weights/mobilenet_v2-b0353104.pth")
def test_real_imagenet_weights_give_torchvisions_top1_for_bus(empty_cache, bus_jpg):
    from PIL import Image

    (empty_cache / SHARED_MOBILENET.name).symlink_to(SHARED_MOBILENET)
    weights = get_model_weights("mobilenet_v2").IMAGENET1K_V1
    reference = get_model("mobilenet_v2", weights=weights).eval()  # reads the same cached file
    transforms = weights.transforms()
    image = transforms(Image.open(bus_jpg).convert("RGB")).unsqueeze(0)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in (transforms.mean, transforms.std))

    model = DetectionModel("yolov5n-mobilenetv2.yaml", verbose=False).eval()
    assert [row.weights for row in model.model[:3]] == ["IMAGENET1K_V1"] * 3
    with torch.no_grad():
        expected = reference(image)
        p5 = model.model[2](model.model[1](model.model[0](image * std + mean)))  # Ultralytics' [0, 1] input
        pooled = torch.nn.functional.adaptive_avg_pool2d(reference.features[18](p5), 1).flatten(1)
        ours = reference.classifier(pooled)
    assert weights.meta["categories"][expected.argmax()] == "minibus"
    assert ours.argmax() == expected.argmax()
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-3)


def test_cli_list_shows_every_variant_tag_cache_state_and_top1(run_fresh, torch_home):
    out = run_fresh(sys.executable, "-m", "ultralytics_light", "weights", "list").stdout
    assert f"cache: {torch_home / 'hub' / 'checkpoints'}" in out
    torchvision_part = out.split("\n\n", 1)[0].splitlines()[2:]  # timm's families follow (test_timm_backbone.py)
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in torchvision_part}
    assert rows[("mobilenet_v2", "DEFAULT=IMAGENET1K_V2")] == ["mobilenet_v2-7ebf99e0.pth", "yes", "72.15%"]
    assert rows[("mobilenet_v2", "IMAGENET1K_V1")] == ["mobilenet_v2-b0353104.pth", "no", "71.88%"]
    assert rows[("shufflenet_v2_x2_0", "IMAGENET1K_V1")] == ["shufflenetv2_x2_0-8be3c8ee.pth", "no", "76.23%"]
    assert rows[("resnet18", "DEFAULT=IMAGENET1K_V1")] == ["resnet18-f37072fd.pth", "yes", "69.76%"]
    assert rows[("efficientnet_b7", "IMAGENET1K_V1")][-2:] == ["no", "84.12%"]  # every variant of every family
    families = [b for family in FAMILIES.values() if family.library == "torchvision" for b in family.builders]
    assert len(rows) == sum(1 + len(get_model_weights(builder)) for builder in families)  # DEFAULT and each tag


def test_cli_fetch_offline_fails_with_the_message(run_fresh, empty_cache):
    result = run_fresh("ultralytics-light", "weights", "fetch", "variant=shufflenet_v2_x1_5", check=False)
    assert result.returncode == 1 and result.stderr.startswith("ultralytics-light: error: ImageNet weights")
    assert "shufflenetv2_x1_5-3c479a10.pth" in result.stderr and "weights import file=" in result.stderr
    result = run_fresh("ultralytics-light", "weights", "fetch", "variant=shufflenet_v2_x3", check=False)
    assert result.returncode == 1 and "unknown variant 'shufflenet_v2_x3'; use one of ['mobilenet_v2'" in result.stderr


def test_cli_import_refuses_a_file_that_is_not_torchvisions(run_fresh, empty_cache):
    mine = write_torchvision_checkpoint(empty_cache.parent, "mobilenet_v2")  # right format, but not the release
    result = run_fresh(sys.executable, "-m", "ultralytics_light", "weights", "import", f"file={mine}", check=False)
    assert result.returncode == 1
    assert "is not one of torchvision's released weights" in result.stderr
    assert not any(empty_cache.iterdir())


@pytest.mark.skipif(not SHARED_MOBILENET.is_file(), reason="needs ../shared/weights/mobilenet_v2-b0353104.pth")
def test_cli_import_caches_a_real_file_under_torchvisions_name(run_fresh, empty_cache):
    result = run_fresh(sys.executable, "-m", "ultralytics_light", "weights", "import", f"file={SHARED_MOBILENET}")
    assert "is mobilenet_v2:IMAGENET1K_V1" in result.stdout
    cached = empty_cache / "mobilenet_v2-b0353104.pth"
    assert cached.read_bytes() == SHARED_MOBILENET.read_bytes()
