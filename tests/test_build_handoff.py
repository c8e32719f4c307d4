"""What building a model relies on, checked: the P3 row hands later rows their stage of one torchvision network only
when Ultralytics' parser calls a row's `declared_channels` right before building it, and nothing a build changes
outside the model survives it."""

from __future__ import annotations

import pytest
import torch
from ultralytics.nn.tasks import DetectionModel, parse_model

from ultralytics_light import MobileNetV2
from ultralytics_light.backbone import _build


def test_a_parser_that_skips_declared_channels_gets_a_message_not_a_second_network(monkeypatch):
    def channels_only(f, n, layers, *args):  # what a parser that worked channels out some other way would get
        builder, tap, _ = MobileNetV2.family.read(args)
        return MobileNetV2.feature(builder, tap).channels

    monkeypatch.setattr(MobileNetV2, "declared_channels", channels_only)
    with pytest.raises(RuntimeError) as error:
        DetectionModel("yolo11n-mobilenetv2.yaml", verbose=False)
    assert str(error.value).startswith(
        "MobileNetV2(mobilenet_v2) P4: Ultralytics' parser built this row without calling its declared_channels right "
        "before, which hands it the P3 row's network."
    )


def test_rows_built_in_one_model_share_one_network():
    model = DetectionModel("yolo11n-mobilenetv2.yaml", verbose=False)
    assert [row.weights for row in model.model[:3]] == ["IMAGENET1K_V2"] * 3
    assert all(not row._pending for row in model.model[:3])  # every stage was handed on, none left over


def test_a_build_that_raises_leaves_nothing_behind():
    initializers = dict(vars(torch.nn.init))
    backbone = [[-1, 1, "MobileNetV2", ["P3", None]], [-1, 1, "MobileNetV2", ["P4", "BOGUS"]]]
    with pytest.raises(ValueError, match="BOGUS"):  # raised while the parser builds P4
        parse_model({"nc": 2, "backbone": backbone, "head": []}, ch=3, verbose=False)
    assert _build.get() is None
    assert dict(vars(torch.nn.init)) == initializers
    stage = MobileNetV2(32, 96, "P4", None)  # a row built by hand afterwards: a network of its own, no stale handoff
    assert stage.builder == "mobilenet_v2" and sum(p.numel() for p in stage.parameters()) > 0
