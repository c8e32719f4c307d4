"""Bad input a user can cause: one clear message naming the problem and the way out, never a deep traceback."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ultralytics.nn.tasks import DetectionModel, parse_model

from ultralytics_light.weights import WeightsNotAvailableError

ROWS = {  # valid rows, one per tap: what the random rows are drawn around
    "MobileNetV2": [["P3", None], ["P4", None], ["P5", None]],
    "ShuffleNetV2": [["x0_5", "P3", None], ["x0_5", "P4", None], ["x0_5", "P5", None]],
}


def model_dict(backbone: list[list], head: list[list] | None = None) -> dict:
    return {"nc": 2, "backbone": backbone, "head": head or []}


def build(backbone: list[list]) -> torch.nn.Module:
    model, _ = parse_model(model_dict(backbone), ch=3, verbose=False)
    return model


@pytest.mark.parametrize(
    "backbone, message",
    [
        ([[-1, 1, "ShuffleNetV2", ["x3_0", "P3", None]]], "ShuffleNetV2: unknown variant 'x3_0'; use one of"),
        ([[-1, 1, "MobileNetV2", ["P6", None]]], "MobileNetV2(mobilenet_v2): unknown tap 'P6'; use one of ['P3'"),
        ([[-1, 1, "MobileNetV2", ["P3", "IMAGENET1K_V9"]]], "unknown weights 'IMAGENET1K_V9' for torchvision's"),
        ([[-1, 1, "MobileNetV2", []]], "MobileNetV2: a YAML row's args are [tap, weights], got []."),
        (
            [[-1, 1, "MobileNetV2", ["P3", None, 5]]],
            "MobileNetV2: a YAML row's args are [tap, weights], got ['P3', None, 5]",
        ),
        ([[-1, 1, "ShuffleNetV2", [0.5, "P3"]]], "ShuffleNetV2: unknown variant 0.5"),
        ([[-1, 1, "MobileNetV2", [3, None]]], "unknown tap 3"),
        ([[-1, 2, "MobileNetV2", ["P3", None]]], "a backbone row is built once; set its repeats to 1, not 2."),
        ([[-1, 1, "MobileNetV2", ["P4", None]]], "MobileNetV2(mobilenet_v2) P4 must take the P3 row of"),
        (
            [[-1, 1, "ShuffleNetV2", ["x0_5", "P3", None]], [-1, 1, "ShuffleNetV2", ["x0_5", "P5", None]]],
            "P5 must take the P4 row of ShuffleNetV2(shufflenet_v2_x0_5) as input, but its 'from' (-1) is the P3 row",
        ),  # fmt: skip
        (
            [
                [-1, 1, "ShuffleNetV2", ["x0_5", "P3", None]],
                [-1, 1, "ShuffleNetV2", ["x0_5", "P4", None]],
                [-1, 1, "MobileNetV2", ["P5", None]],
            ],
            "MobileNetV2(mobilenet_v2) P5 must take the P4 row of MobileNetV2(mobilenet_v2) as input, but its 'from' "
            "(-1) is the P4 row of ShuffleNetV2(shufflenet_v2_x0_5)",
        ),  # same channels (96) on both sides: only the wiring check catches this mix
        (
            [[-1, 1, "MobileNetV2", ["P3", None]], [-1, 1, "Conv", [32, 3, 1]], [-1, 1, "MobileNetV2", ["P4", None]]],
            "P4 must take the P3 row of MobileNetV2(mobilenet_v2) as input, but its 'from' (-1) is layer 1 (Conv)",
        ),
        (
            [[-1, 1, "MobileNetV2", ["P3", None]], [[-1, 0], 1, "MobileNetV2", ["P4", None]]],
            "'from' must be a single layer",
        ),
    ],
)
def test_bad_backbone_rows_raise_one_clear_error(backbone, message):
    with pytest.raises(ValueError) as error:
        build(backbone)
    assert message in str(error.value)


@pytest.mark.parametrize(
    "weights, message",
    [
        ("missing/mnv2.pth", "MobileNetV2(mobilenet_v2): weights file 'missing/mnv2.pth' does not exist."),
        ("{tmp}/junk.pth", "junk.pth cannot be read as a PyTorch state dict"),
        ("{tmp}/list.pth", "list.pth is not a state dict (a mapping of names to tensors): it holds a list."),
        ("{tmp}/shufflenet.pth", "shufflenet.pth is not a state dict of torchvision's mobilenet_v2: missing keys"),
    ],
)
def test_bad_weights_paths_in_a_yaml_row(weights, message, tmp_path):
    from helpers import write_torchvision_checkpoint

    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    write_torchvision_checkpoint(tmp_path, "shufflenet_v2_x0_5").rename(tmp_path / "shufflenet.pth")
    with pytest.raises(ValueError) as error:
        build([[-1, 1, "MobileNetV2", ["P3", weights.format(tmp=tmp_path)]]])
    assert message in str(error.value)


def test_unknown_bare_yaml_name_lists_ours(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as error:
        DetectionModel("yolo11n-mobilenetv3.yaml", verbose=False)
    message = str(error.value)
    assert "'yolo11n-mobilenetv3.yaml' is not a model YAML of ultralytics-light, nor of Ultralytics" in message
    assert "yolo11-lite-shufflenetv2.yaml" in message and "yolov5-mobilenetv2.yaml" in message


def test_cli_bad_row_exits_non_zero_with_the_message_and_writes_nothing(run_fresh, tmp_path, detect_dataset):
    bad = tmp_path / "bad-shufflenetv2.yaml"
    bad.write_text("nc: 2\nbackbone:\n  - [-1, 1, ShuffleNetV2, [x0_7, P3, null]]\nhead:\n  - [[0], 1, Detect, [nc]]\n")
    result = run_fresh("yolo", "train", f"model={bad}", f"data={detect_dataset}", "epochs=1", "imgsz=64",
                       f"project={tmp_path / 'runs'}", check=False)  # fmt: skip
    assert result.returncode != 0
    assert (
        "ValueError: ShuffleNetV2: unknown variant 'x0_7'; use one of ['x0_5', 'x1_0', 'x1_5', 'x2_0']" in result.stderr
    )
    assert not (tmp_path / "runs").exists()


OUR_ERRORS = (ValueError, WeightsNotAvailableError)
VALUES = st.one_of(
    st.sampled_from(["P3", "P4", "P5", "P2", "x0_5", "x1_0", "x1_5", "x2_0", "n", "s", "x", "scale",
                     "DEFAULT", "IMAGENET1K_V1", "IMAGENET1K_V2", "bogus", "a/b.pth", "", None]),
    st.integers(-3, 1000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(0, 3), max_size=2),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(module=st.sampled_from(sorted(ROWS)), position=st.integers(0, 2), args=st.lists(VALUES, max_size=4))
def test_random_rows_build_a_working_model_or_raise_our_error(module, position, args, monkeypatch):
    """Random args in one backbone row (after valid rows before it): a model whose forward works, or our error."""
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # weights not in the test cache must not download
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    backbone = [[-1, 1, module, list(row)] for row in ROWS[module][:position]] + [[-1, 1, module, list(args)]]
    try:
        model = build(backbone).eval()
    except OUR_ERRORS as error:
        assert module in str(error) or "shufflenet_v2" in str(error) or "mobilenet_v2" in str(error)
        return
    with torch.no_grad():
        out = model(torch.rand(1, 3, 64, 64))
    assert out.shape[1] == model[-1].channels and out.shape[-1] == 64 // model[-1].stride
