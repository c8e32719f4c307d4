"""Any torchvision classifier as backbone rows: stages found from the model, torchvision's keys, tensors and
BatchNorm settings, one build per model, and a clear refusal for what cannot be cut."""

from __future__ import annotations

import pytest
import torch
from helpers import write_torchvision_checkpoint
from torchvision.models import get_model
from ultralytics.nn.tasks import DetectionModel, parse_model

from ultralytics_light import MobileNetV2, ShuffleNetV2, TorchvisionBackbone
from ultralytics_light.families import TAPS

# The reference cuts, written out against torchvision's models: the module whose output each tap is.
REFERENCE_TAPS = {
    "mobilenet_v3_large": ("features.6", "features.12", "features.15"),
    "mobilenet_v3_small": ("features.3", "features.8", "features.11"),
    "efficientnet_b0": ("features.3", "features.5", "features.7"),
    "efficientnet_b1": ("features.3", "features.5", "features.7"),
    "regnet_x_400mf": ("trunk_output.block2", "trunk_output.block3", "trunk_output.block4"),
    "regnet_y_400mf": ("trunk_output.block2", "trunk_output.block3", "trunk_output.block4"),
    "regnet_y_800mf": ("trunk_output.block2", "trunk_output.block3", "trunk_output.block4"),
    "mnasnet1_0": ("layers.9", "layers.11", "layers.13"),
    "resnet18": ("layer2", "layer3", "layer4"),
    "resnet34": ("layer2", "layer3", "layer4"),
    "mobilenet_v2": ("features.6", "features.13", "features.17"),
    "shufflenet_v2_x0_5": ("stage2", "stage3", "stage4"),
}


def backbone_dict(builder: str, weights=None, module: str = "TorchvisionBackbone") -> dict:
    args = (
        []
        if module == "MobileNetV2"
        else [builder.removeprefix("shufflenet_v2_") if module == "ShuffleNetV2" else builder]
    )
    return {"nc": 2, "backbone": [[-1, 1, module, [*args, tap, weights]] for tap in TAPS], "head": []}


def build_rows(builder: str, weights=None) -> torch.nn.Module:
    """The three rows as Ultralytics' parser builds them from a YAML."""
    model, _ = parse_model(backbone_dict(builder, weights), ch=3, verbose=False)
    return model.eval()


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (x - mean) / std


@pytest.mark.parametrize("builder", list(REFERENCE_TAPS))
def test_taps_are_torchvisions_own_modules_outputs(builder):
    rows = build_rows(builder)
    reference = get_model(builder, weights=None).eval()
    reference_state = reference.state_dict()
    for row in rows:  # our keys are torchvision's: its state dict loads into the rows as is
        row.load_state_dict({k: reference_state[k] for k in row.state_dict()}, strict=True)
    outputs = {}
    modules = dict(reference.named_modules())
    hooks = [modules[name].register_forward_hook(lambda m, i, o, name=name: outputs.setdefault(name, o))
             for name in REFERENCE_TAPS[builder]]  # fmt: skip
    x = torch.rand(1, 3, 128, 96)
    with torch.no_grad():
        reference(imagenet_normalize(x))
        ours = x
        for row, name, info, stride in zip(rows, REFERENCE_TAPS[builder], rows[0].feature_info(builder), (8, 16, 32)):
            ours = row(ours)
            assert (info.channels, info.stride) == (outputs[name].shape[1], stride)
            assert ours.shape == (1, info.channels, 128 // stride, 96 // stride)
            torch.testing.assert_close(ours, outputs[name], rtol=0, atol=1e-4)
    for hook in hooks:
        hook.remove()


@pytest.mark.parametrize(
    "builder", ["mobilenet_v3_small", "regnet_x_400mf", "resnet18", "efficientnet_b0", "mnasnet0_5"]
)
def test_rows_hold_a_torchvision_file_bit_for_bit_with_its_batchnorm_settings(builder, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    file = write_torchvision_checkpoint(tmp_path / "hub" / "checkpoints", builder, seed=3)
    expected = torch.load(file, weights_only=True)
    model = DetectionModel(
        {**backbone_dict(builder, "DEFAULT"), "head": [[[0, 1, 2], 1, "Detect", ["nc"]]]}, verbose=False
    )
    rows = model.model[:3]
    keys = [key for row in rows for key in row.state_dict()]
    assert keys == [k for k in expected if k in keys] and len(keys) > 0
    for row in rows:
        for key, tensor in row.state_dict().items():
            assert torch.equal(tensor, expected[key]), key
    reference = dict(get_model(builder, weights=None).named_modules())
    for row in rows:
        for name, norm in row.named_modules():
            if isinstance(norm, torch.nn.BatchNorm2d):
                ref = reference[name]
                # torchvision's eps; its momentum, but never slower than Ultralytics' 0.03 (MNASNet's is 0.0003)
                assert (norm.eps, norm.momentum) == (ref.eps, max(ref.momentum, 0.03)), name


@pytest.mark.parametrize("builder", ["mobilenet_v3_large", "regnet_y_400mf", "resnet18", "mnasnet1_0"])
def test_fused_rows_keep_their_output(builder):
    rows = build_rows(builder)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        expected = rows(x)
        for row in rows:
            row.fuse()
        fused = rows(x)
    assert all(row.is_fused() for row in rows)
    torch.testing.assert_close(fused, expected, rtol=1e-4, atol=1e-4)


def test_a_model_builds_its_backbone_once(monkeypatch):
    import ultralytics_light.backbone as backbone

    builds = []
    stock = backbone.build_torchvision_model
    monkeypatch.setattr(backbone, "build_torchvision_model", lambda *a: builds.append(a) or stock(*a))
    rows = build_rows("regnet_x_400mf")
    assert builds == [("regnet_x_400mf", None)]
    assert [row.tap for row in rows] == list(TAPS)
    assert not any(getattr(row, "_pending", None) for row in rows)  # nothing left waiting once P5 is built


def test_named_families_are_the_generic_row_under_a_name():
    for builder, module in (("mobilenet_v2", "MobileNetV2"), ("shufflenet_v2_x0_5", "ShuffleNetV2")):
        ours, _ = parse_model(backbone_dict(builder, None, module), ch=3, verbose=False)
        generic = build_rows(builder)
        assert [list(a.state_dict()) for a in ours] == [list(b.state_dict()) for b in generic]
    assert MobileNetV2.feature_info("mobilenet_v2") == TorchvisionBackbone.feature_info("mobilenet_v2")
    assert ShuffleNetV2.feature_info("shufflenet_v2_x1_0") == TorchvisionBackbone.feature_info("shufflenet_v2_x1_0")


@pytest.mark.parametrize(
    "builder, message",
    [
        ("vit_b_16", "TorchvisionBackbone: vit_b_16 has no sequential stages ending at stride 8 and 32"),
        ("swin_t", "TorchvisionBackbone: swin_t has no sequential stages ending at stride 8 and 16 and 32"),
        ("googlenet", "googlenet re-normalizes its input inside its forward (transform_input)"),
        (
            "resnet19",
            "TorchvisionBackbone: unknown torchvision classifier 'resnet19' (did you mean 'resnet18'?); builders that "
            "work: [",
        ),
        ("fasterrcnn_resnet50_fpn", "unknown torchvision classifier 'fasterrcnn_resnet50_fpn'"),
    ],
)
def test_builders_that_cannot_be_cut_are_refused_with_the_reason_and_the_ones_that_work(builder, message):
    with pytest.raises(ValueError) as error:
        build_rows(builder)
    text = str(error.value)
    assert message in text
    assert "'resnet18'" in text and "'regnet_y_800mf'" in text and "'mobilenet_v3_small'" in text
    assert "'vit_b_16'" not in text.split("work:")[1] and "'swin_t'" not in text.split("work:")[1]


@pytest.mark.slow  # a shape-only pass over every torchvision classifier
def test_the_builders_recorded_as_working_are_the_ones_that_can_be_cut():
    """The refusals above list the recorded builders for the installed torchvision, which must be what cutting each
    classifier finds now (record again after a torchvision or pyramid.py change)."""
    from ultralytics_light import builder_record
    from ultralytics_light.backbone import computed_working_builders

    assert builder_record.recorded() == computed_working_builders(), "python -m ultralytics_light.builder_record"


def test_a_tag_the_builder_does_not_have_is_refused_with_its_tags():
    with pytest.raises(ValueError) as error:
        build_rows("resnet18", "IMAGENET1K_V2")
    assert "unknown weights 'IMAGENET1K_V2' for torchvision's resnet18; use one of ['DEFAULT', 'IMAGENET1K_V1']" in str(
        error.value
    )


@pytest.mark.parametrize(
    "row, builder",
    [
        (["ResNet", [18, "P3", None]], "resnet18"),  # YAML reads 18 as a number
        (["MNASNet", ["x1_0", "P3", None]], "mnasnet1_0"),
        (["RegNet", ["y_400mf", "P3"]], "regnet_y_400mf"),
        (["MobileNetV3", ["small", "P3", None]], "mobilenet_v3_small"),
        (["EfficientNet", ["b0", "P3", None]], "efficientnet_b0"),
    ],
)
def test_named_families_read_their_variant(row, builder):
    module, args = row
    model, _ = parse_model({"nc": 2, "backbone": [[-1, 1, module, args]], "head": []}, ch=3, verbose=False)
    assert model[0].builder == builder and type(model[0]).__module__ == "ultralytics_light.rows"


@pytest.mark.parametrize(
    "row, message",
    [
        (["EfficientNet", ["b9", "P3", None]], "EfficientNet: unknown variant 'b9'; use one of ['b0', 'b1',"),
        (["ResNet", [19, "P3", None]], "ResNet: unknown variant '19'; use one of ['18', '34', '50']."),
        (
            ["TorchvisionBackbone", ["P3"]],
            "TorchvisionBackbone: a YAML row's args are [builder, tap, weights], got ['P3']",
        ),
        (["TorchvisionBackbone", ["P3", None]], "TorchvisionBackbone: unknown torchvision classifier 'P3'; builders"),
        (["TorchvisionBackbone", [3, "P3", None]], "builder must be a torchvision classifier's name, got 3."),
    ],
)
def test_named_family_mistakes_name_the_choices(row, message):
    module, args = row
    with pytest.raises(ValueError) as error:
        parse_model({"nc": 2, "backbone": [[-1, 1, module, args]], "head": []}, ch=3, verbose=False)
    assert message in str(error.value)
