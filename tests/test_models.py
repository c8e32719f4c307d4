"""Shipped YAMLs build through Ultralytics' own parser, sized from the backbones' declarations."""

from __future__ import annotations

import shutil
import sys

import pytest
import torch
from ultralytics.nn.tasks import DetectionModel, yaml_model_load

from ultralytics_light import MobileNetV2, ShuffleNetV2
from ultralytics_light.cfg import MODELS_DIR, model_names

BACKBONE_BUILDERS = {  # the builder each shipped backbone uses at scales n and s
    "mobilenetv2": ("mobilenet_v2", "mobilenet_v2"),
    "shufflenetv2": ("shufflenet_v2_x0_5", "shufflenet_v2_x1_0"),
    "mobilenetv3-large": ("mobilenet_v3_large", "mobilenet_v3_large"),
    "mobilenetv3-small": ("mobilenet_v3_small", "mobilenet_v3_small"),
    "efficientnet-b0": ("efficientnet_b0", "efficientnet_b0"),
    "regnetx-400mf": ("regnet_x_400mf", "regnet_x_400mf"),
    "regnety-400mf": ("regnet_y_400mf", "regnet_y_400mf"),
    "mnasnet": ("mnasnet1_0", "mnasnet1_0"),
    "resnet18": ("resnet18", "resnet18"),
}
TIMM_BUILDERS = {  # the same for timm's families (an optional extra)
    "mobilenetv4-conv-small": ("mobilenetv4_conv_small", "mobilenetv4_conv_small"),
    "mobilenetv4-conv-medium": ("mobilenetv4_conv_medium", "mobilenetv4_conv_medium"),
    "lcnet": ("lcnet_050", "lcnet_075"),
    "repvit-m0-9": ("repvit_m0_9", "repvit_m0_9"),
    "ghostnetv2": ("ghostnetv2_100", "ghostnetv2_100"),
}
BACKBONE_BUILDERS.update(TIMM_BUILDERS)
SHIPPED = [
    *(f"yolov5-{backbone}.yaml" for backbone in ("mobilenetv2", "shufflenetv2")),
    *(f"yolo11-{backbone}.yaml" for backbone in BACKBONE_BUILDERS),
    *(f"yolo11-lite-{backbone}.yaml" for backbone in BACKBONE_BUILDERS),
    *(f"yolo26-lite-{backbone}.yaml" for backbone in BACKBONE_BUILDERS),  # end-to-end: Ultralytics' dual head
]


def scaled(name: str, scale: str) -> str:
    """'yolo11-mobilenetv2.yaml', 's' -> 'yolo11s-mobilenetv2.yaml'."""
    head, _, rest = name.partition("-")
    return f"{head}{scale}-{rest}"


def test_the_shipped_models_are_these():
    tasks = [
        f"yolo11-{backbone}-{task}.yaml"
        for backbone in ("mobilenetv2", "shufflenetv2", "mobilenetv3-large")
        for task in ("cls", "obb", "pose", "seg")
    ]
    assert model_names() == sorted(SHIPPED + tasks)


@pytest.mark.parametrize("scale", ["n", "s"])
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_yaml_builds_by_bare_name(name, scale, tmp_path, monkeypatch):
    backbone_name = name.removesuffix(".yaml").split("-", 1)[1].removeprefix("lite-")
    if backbone_name in TIMM_BUILDERS:
        pytest.importorskip("timm")
    monkeypatch.chdir(tmp_path)  # bare names resolve from any working directory
    model = DetectionModel(scaled(name, scale), verbose=False)
    assert model.yaml["scale"] == scale
    assert model.stride.tolist() == [8.0, 16.0, 32.0]
    backbone = model.model[:3]
    assert [row.tap for row in backbone] == ["P3", "P4", "P5"]
    expected_builder = BACKBONE_BUILDERS[backbone_name]["ns".index(scale)]
    assert {row.builder for row in backbone} == {expected_builder}
    # The layer after P5 is sized from the declaration, not from a number in the YAML.
    first_conv = next(m for m in model.model[3].modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == type(backbone[2]).feature(expected_builder, "P5").channels
    model.eval()
    with torch.no_grad():
        predictions = model(torch.rand(1, 3, 320, 320))[0]
    assert predictions.shape == (1, 4 + 80, (40 * 40) + (20 * 20) + (10 * 10))
    assert hasattr(model.model[-1], "one2one_cv2") == name.startswith("yolo26")  # the NMS-free branch


def test_head_inputs_follow_backbone_width():
    """ShuffleNetV2 width changes with the scale; every layer that reads a tap follows it."""
    for scale, variant in (("n", "x0_5"), ("s", "x1_0")):
        model = DetectionModel(f"yolov5{scale}-shufflenetv2.yaml", verbose=False)
        p3, p4, p5 = (info.channels for info in ShuffleNetV2.feature_info(f"shufflenet_v2_{variant}"))
        concat_p4, concat_p3 = model.model[7].cv1.conv.in_channels, model.model[11].cv1.conv.in_channels
        assert model.model[3].cv1.conv.in_channels == p5
        assert concat_p4 == model.model[4].conv.out_channels + p4
        assert concat_p3 == model.model[8].conv.out_channels + p3


def test_lite_shufflenet_n_fits_the_edge_budget():
    """The lightest model: at most 1.0 M parameters and 3.0 GFLOPs at 640 (YOLOv5-Lite-e: 0.78 M, 2.9 at 640)."""
    from ultralytics.utils.torch_utils import get_flops

    model = DetectionModel("yolo11n-lite-shufflenetv2.yaml", verbose=False)
    assert sum(p.numel() for p in model.parameters()) <= 1.0e6
    assert get_flops(model, 640) <= 3.0
    assert all(type(m).__name__ != "SPPF" for m in model.modules())


def test_summary_names_our_modules_with_channels(monkeypatch):
    from ultralytics.utils import LOGGER

    lines = []
    monkeypatch.setattr(LOGGER, "info", lambda message, *a, **k: lines.append(str(message)))
    DetectionModel("yolo11n-mobilenetv2.yaml", verbose=True)
    rows = [line for line in lines if "ultralytics_light.mobilenetv2.MobileNetV2" in line]
    assert len(rows) == 3
    assert "[3, 32, 'P3', 'DEFAULT']" in rows[0]
    assert "[32, 96, 'P4', 'DEFAULT']" in rows[1]
    assert "[96, 320, 'P5', 'DEFAULT']" in rows[2]


def test_yaml_path_in_a_folder_whose_name_looks_scaled(tmp_path):
    """A scaled name next to its unscaled file, in a folder like 'run2s/', reads that file with that scale."""
    folder = tmp_path / "run2s"
    folder.mkdir()
    shutil.copy(MODELS_DIR / "yolo11-shufflenetv2.yaml", folder / "yolo11-shufflenetv2.yaml")
    d = yaml_model_load(folder / "yolo11s-shufflenetv2.yaml")
    assert d["scale"] == "s"
    assert d["backbone"][0][2] == "ShuffleNetV2"


def test_ultralytics_own_bare_names_still_load():
    d = yaml_model_load("yolo11n.yaml")
    assert d["scale"] == "n" and d["backbone"][0][2] == "Conv"


def test_registration_is_idempotent():
    import ultralytics.nn.tasks as tasks

    import ultralytics_light
    from ultralytics_light import patches

    parse_model, load = tasks.parse_model, tasks.yaml_model_load
    ultralytics_light.install()
    patches.apply(tasks)
    assert (tasks.parse_model, tasks.yaml_model_load) == (parse_model, load)
    assert tasks.MobileNetV2 is MobileNetV2 and tasks.ShuffleNetV2 is ShuffleNetV2
    assert not hasattr(tasks.parse_model.__wrapped__, "__wrapped__")  # patched once, not twice


@pytest.mark.parametrize("package, version", [("ultralytics", "8.3.252"), ("torchvision", "0.14.1")])
def test_an_older_release_is_reported_once_and_our_models_refuse(package, version, monkeypatch):
    """Releases older than the verified ones are refused outright (newer ones are tried: test_newer_release.py)."""
    import importlib.metadata
    import types

    from ultralytics.utils import LOGGER

    from ultralytics_light import patches
    from ultralytics_light.patches.unsupported_release import UnsupportedReleaseError

    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: version if name == package else real_version(name))
    warnings = []
    monkeypatch.setattr(LOGGER, "warning", lambda message, *a, **k: warnings.append(message))
    fake_tasks = types.ModuleType("fake_tasks")
    fake_tasks.yaml_model_load = lambda path: {"stock": str(path)}
    patches.apply(fake_tasks)
    patches.apply(fake_tasks)
    oldest, newest = patches.OLDEST_VERIFIED, patches.NEWEST_VERIFIED
    supported, way_out = {
        "ultralytics": (f">={oldest}", f">={oldest},<={newest}"), "torchvision": (">=0.15", ">=0.15")
    }[package]  # fmt: skip
    expected = (
        f"ultralytics-light supports {package}{supported}, but {package} {version} is installed, "
        f"{patches.unavailable()} Install a supported release: pip install '{package}{way_out}'"
    )
    assert warnings == [expected]
    assert not hasattr(fake_tasks, "parse_model")  # no real patch applied
    with pytest.raises(UnsupportedReleaseError) as error:
        fake_tasks.yaml_model_load("yolov5n-shufflenetv2.yaml")
    assert str(error.value) == expected
    assert fake_tasks.yaml_model_load("yolo11n.yaml") == {"stock": "yolo11n.yaml"}
    with pytest.raises(UnsupportedReleaseError, match="is installed, so its models"):
        fake_tasks.MobileNetV2(3, 32, "P3")


def test_startup_hook_is_cheap_and_registers_on_ultralytics_import(run_fresh):
    """A fresh interpreter has our finder but no torch; importing Ultralytics' parser registers our modules."""
    check = (
        "import sys\n"
        "assert 'torch' not in sys.modules and 'ultralytics' not in sys.modules, sorted(sys.modules)\n"
        "assert 'ultralytics_light' in sys.modules, 'the .pth start-up hook did not run'\n"
        "import ultralytics.nn.tasks as tasks\n"
        "print(tasks.MobileNetV2.__module__, tasks.ShuffleNetV2.__module__)\n"
    )
    result = run_fresh(sys.executable, "-c", check)
    assert result.stdout.splitlines()[-1].split() == ["ultralytics_light.mobilenetv2", "ultralytics_light.shufflenetv2"]


def test_the_package_exports_every_family_and_each_class_lives_where_its_family_says():
    import importlib

    import ultralytics_light
    from ultralytics_light.families import FAMILIES

    assert set(ultralytics_light.__all__) == {*FAMILIES, "__version__", "pretrained"}
    for name, family in FAMILIES.items():
        cls = getattr(ultralytics_light, name)
        assert (cls.__module__, cls.__qualname__, cls.family) == (family.module, name, family)
        assert getattr(importlib.import_module(family.module), name) is cls  # the path checkpoints pickle
