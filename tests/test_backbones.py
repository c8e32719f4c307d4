"""Backbone rows: declared outputs, torchvision's own weights and features, argument validation."""

from __future__ import annotations

import pytest
import torch
from torchvision.models import get_model

from ultralytics_light import MobileNetV2, ShuffleNetV2
from ultralytics_light.backbone import TAPS
from ultralytics_light.families import FAMILIES

VARIANTS = tuple(FAMILIES["ShuffleNetV2"].variants)


def rows_for(builder: str, weights=None) -> list[torch.nn.Module]:
    """The three backbone rows of a torchvision builder, chained as a YAML would: P3, P4, P5."""
    rows, c1 = [], 3
    for tap in TAPS:
        if builder == "mobilenet_v2":
            c2 = MobileNetV2.feature(builder, tap).channels
            rows.append(MobileNetV2(c1, c2, tap, weights))
        else:
            variant = builder.removeprefix("shufflenet_v2_")
            c2 = ShuffleNetV2.feature(builder, tap).channels
            rows.append(ShuffleNetV2(c1, c2, variant, tap, weights))
        c1 = c2
    return rows


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """torchvision's ImageNet preprocessing after ToTensor, written out."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (x - mean) / std


def torchvision_taps(builder: str, model: torch.nn.Module) -> list[torch.nn.Module]:
    """Where MobileNetV2 and ShuffleNetV2 are cut for P3/P4/P5, written out by hand against torchvision's model."""
    if builder == "mobilenet_v2":
        f = model.features
        return [f[:7], f[7:14], f[14:18]]
    return [
        torch.nn.Sequential(model.conv1, model.maxpool, model.stage2),
        model.stage3,
        model.stage4,
    ]


BUILDERS = ["mobilenet_v2", *(f"shufflenet_v2_{v}" for v in VARIANTS)]


@pytest.mark.parametrize("builder", BUILDERS)
def test_taps_match_declaration_and_torchvision(builder):
    torch.manual_seed(0)
    reference = get_model(builder, weights=None).eval()
    rows = rows_for(builder)
    # Same weights: our rows' keys are torchvision's own, so its state dict loads into them as is.
    reference_state = reference.state_dict()
    for row in rows:
        row.load_state_dict({k: reference_state[k] for k in row.state_dict()}, strict=True)
        row.eval()
    declared = type(rows[0]).feature_info(builder)
    x = torch.rand(1, 3, 256, 256)  # what Ultralytics feeds: RGB in [0, 1]; the P3 row normalizes it itself
    ours, reference_input = x, imagenet_normalize(x)
    with torch.no_grad():
        for row, cut, info in zip(rows, torchvision_taps(builder, reference), declared):
            ours, reference_input = row(ours), cut(reference_input)
            assert ours.shape == (1, info.channels, 256 // info.stride, 256 // info.stride)
            torch.testing.assert_close(ours, reference_input, rtol=0, atol=1e-5)
    assert [info.stride for info in declared] == [8, 16, 32]
    assert [info.tap for info in declared] == list(TAPS)


def test_fused_shufflenet_blocks_interleave_exactly_as_torchvisions_shuffle():
    from torchvision.models.shufflenetv2 import InvertedResidual

    from ultralytics_light.interleave import InterleavedInvertedResidual

    torch.manual_seed(0)
    rows = rows_for("shufflenet_v2_x1_0")
    inputs = {}  # each block's input, recorded while the rows run torchvision's own forward
    blocks = [m for row in rows for m in row.modules() if isinstance(m, InvertedResidual)]
    hooks = [block.register_forward_pre_hook(lambda m, args: inputs.setdefault(m, args[0])) for block in blocks]
    with torch.no_grad():
        for row in rows:
            row.eval()
        rows[2](rows[1](rows[0](torch.rand(1, 3, 128, 128))))
        for hook in hooks:
            hook.remove()
        expected = {block: block(x) for block, x in inputs.items()}
        for row in rows:
            row.fuse()
        assert {type(block) for block in blocks} == {InterleavedInvertedResidual}
        assert {block.stride for block in blocks} == {1, 2}
        for block, x in inputs.items():
            fused_reference = InvertedResidual.forward(block, x)  # torchvision's cat + channel_shuffle, fused weights
            assert torch.equal(block(x), fused_reference)
            torch.testing.assert_close(block(x), expected[block], rtol=1e-4, atol=1e-4)


def test_declared_channels_are_torchvisions():
    torch.manual_seed(0)
    mobilenet = get_model("mobilenet_v2", weights=None)
    assert [i.channels for i in MobileNetV2.feature_info("mobilenet_v2")] == [
        mobilenet.features[6].out_channels,
        mobilenet.features[13].out_channels,
        mobilenet.features[17].out_channels,
    ]
    for variant in VARIANTS:
        shufflenet = get_model(f"shufflenet_v2_{variant}", weights=None)
        assert [
            i.channels for i in ShuffleNetV2.feature_info(f"shufflenet_v2_{variant}")
        ] == shufflenet._stage_out_channels[1:4]


@pytest.mark.parametrize("builder", ["mobilenet_v2", "shufflenet_v2_x0_5"])
def test_rows_hold_exactly_torchvisions_backbone_keys(builder):
    rows = rows_for(builder)
    ours = [key for row in rows for key in row.state_dict()]
    classifier = ("classifier.", "fc.", "conv5.", "features.18.")
    expected = [k for k in get_model(builder, weights=None).state_dict() if not k.startswith(classifier)]
    assert ours == expected


def test_scale_letters_pick_shufflenet_width():
    assert [ShuffleNetV2.family.builder_for(s) for s in "nsmlx"] == [
        "shufflenet_v2_x0_5",
        "shufflenet_v2_x1_0",
        "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
        "shufflenet_v2_x2_0",
    ]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: ShuffleNetV2(3, 48, "x0_75", "P3", None), "unknown variant 'x0_75'; use one of ['x0_5', 'x1_0'"),
        (lambda: ShuffleNetV2(3, 48, 0.5, "P3", None), "unknown variant 0.5"),
        (lambda: ShuffleNetV2(3, 48, "x0_5", "P6", None), "unknown tap 'P6'; use one of ['P3', 'P4', 'P5']"),
        (lambda: MobileNetV2(3, 32, "C3", None), "MobileNetV2(mobilenet_v2): unknown tap 'C3'"),
        (lambda: MobileNetV2(3, 32, "P3", "IMAGENET"), "unknown weights 'IMAGENET' for torchvision's mobilenet_v2"),
        (lambda: MobileNetV2(3, 32, "P3", "IMAGENET"), "a path to a .pth state dict, or null to start from random"),
        (lambda: MobileNetV2(3, 32, "P3", "nowhere/mnv2.pth"), "weights file 'nowhere/mnv2.pth' does not exist"),
        (lambda: ShuffleNetV2(3, 48, "x0_5", "P3", "IMAGENET1K_V2"), "use one of ['DEFAULT', 'IMAGENET1K_V1']"),
        (lambda: MobileNetV2(3, 96, "P4", None), "P4: input has 3 channels, but this row takes the P3 row"),
        (lambda: MobileNetV2(1, 32, "P3", None), "P3: input has 1 channels, but this row takes an RGB image"),
        (lambda: MobileNetV2(3, 64, "P3", None), "declared 32 output channels, got c2=64"),
    ],
)
def test_bad_arguments_raise_clear_value_error(build, message):
    with pytest.raises(ValueError) as error:
        build()
    assert message in str(error.value)


def test_weights_tag_loads_the_cached_file(torch_home):
    """'DEFAULT' reads the hub cache under TORCH_HOME: the rows hold that file's tensors, bit for bit."""
    from torchvision.models import get_model_weights

    file = torch_home / "hub" / "checkpoints" / get_model_weights("shufflenet_v2_x0_5").DEFAULT.url.rsplit("/", 1)[-1]
    expected = torch.load(file, weights_only=True)
    rows = rows_for("shufflenet_v2_x0_5", weights="DEFAULT")
    assert [row.weights for row in rows] == ["IMAGENET1K_V1"] * 3  # what DEFAULT resolved to
    for row in rows:
        for key, tensor in row.state_dict().items():
            assert torch.equal(tensor, expected[key]), key


def test_frozen_stage_keeps_batchnorm_in_eval_mode():
    row = rows_for("mobilenet_v2")[1]
    norms = [m for m in row.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(norm.training for norm in row.train().modules())
    for parameter in row.parameters():
        parameter.requires_grad = False
    row.train()
    assert row.training and norms and not any(norm.training for norm in norms)


def test_a_second_family_of_a_name_is_refused():
    from ultralytics_light.families import Family, by_name

    first, second = Family("LCNet", "a.module"), Family("LCNet", "another.module", library="timm")
    with pytest.raises(ValueError, match="two backbone families are named 'LCNet'"):
        by_name(first, second)
    assert by_name(first) == {"LCNet": first}
