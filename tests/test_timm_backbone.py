"""TimmBackbone: any timm classifier as YOLO backbone rows, cut where its feature_info says, weights through timm's
own loading. No network: weights are seeded random state dicts written in timm's format."""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import pytest
import torch
from helpers import timm_yaml, write_timm_file

timm = pytest.importorskip("timm")  # an optional extra: `pip install ultralytics-light[timm]`; `make install` has it

MODEL = "mobilenetv4_conv_small"


def weights_file(folder: Path, name: str = MODEL, seed: int = 0) -> Path:
    """A seeded, random state dict of timm's classifier `name`, saved as timm's hub files are (safetensors)."""
    return write_timm_file(folder / f"{name}-seed{seed}.safetensors", name, seed)


def rows(name: str, weights: object) -> list[torch.nn.Module]:
    from ultralytics_light.backbone import model_build
    from ultralytics_light.rows import TimmBackbone

    channels = [info.channels for info in TimmBackbone.feature_info(name)]
    with model_build():  # as Ultralytics' parser builds them: one network, handed from row to row
        built = []
        for tap, c1 in zip(("P3", "P4", "P5"), [3, *channels[:2]]):
            TimmBackbone.declared_channels(-1, 1, built, name, tap, weights)
            built.append(TimmBackbone(c1, channels[len(built)], name, tap, weights))
    return built


@pytest.mark.parametrize("name", [MODEL, "lcnet_050", "repvit_m0_9", "ghostnetv2_100"])  # every named family
def test_taps_equal_timms_own_features_and_channels_are_its_declaration(name, tmp_path):
    file = weights_file(tmp_path, name)
    ours = rows(name, str(file))
    overlay = {"file": str(file)}
    reference = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, features_only=True).eval()
    by_stride = {info["reduction"]: i for i, info in enumerate(reference.feature_info.get_dicts())}
    assert [row.channels for row in ours] == [reference.feature_info.channels()[by_stride[s]] for s in (8, 16, 32)]
    x = torch.rand(1, 3, 96, 128, generator=torch.Generator().manual_seed(0))
    cfg = reference.pretrained_cfg
    normalized = (x - torch.tensor(cfg["mean"]).view(1, 3, 1, 1)) / torch.tensor(cfg["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference(normalized)
        y, taps = x, []
        for row in ours:
            y = row.eval()(y)
            taps.append(y)
    for tap, stride in zip(taps, (8, 16, 32)):
        torch.testing.assert_close(tap, expected[by_stride[stride]], rtol=1e-5, atol=1e-5)


def test_weights_load_bit_for_bit_from_a_file(tmp_path):
    from safetensors.torch import load_file

    file = weights_file(tmp_path, seed=3)
    saved = load_file(str(file))
    ours = {
        k: v for row in rows(MODEL, str(file)) for k, v in row.state_dict().items() if not k.startswith("normalize")
    }
    assert ours.keys() < saved.keys()  # all but the classifier's head
    assert all(torch.equal(ours[k], saved[k]) for k in ours)
    assert rows(MODEL, str(file))[0].init == f"file {file}"


def test_a_file_of_another_model_is_refused_with_both_names(tmp_path):
    from ultralytics_light.weights import WeightsFileError

    other = weights_file(tmp_path, "lcnet_050")
    with pytest.raises(WeightsFileError) as error:
        rows(MODEL, str(other))
    assert str(error.value).startswith(f"{other} is not a state dict of timm's {MODEL} (RuntimeError: ")


# RepViT's blocks are re-parameterised by fuse() (their branches summed into one convolution), the others folded
@pytest.mark.parametrize("name", ["mobilenetv4_conv_medium", "lcnet_050", "repvit_m0_9", "ghostnetv2_100"])
def test_fused_rows_compute_the_same(name, tmp_path):
    ours = rows(name, str(weights_file(tmp_path, name)))
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = x
        for row in ours:
            y = row.eval()(y)
        fused = copy.deepcopy(ours)
        for row in fused:
            row.fuse()
        z = x
        for row in fused:
            z = row(z)
    assert all(row.is_fused() for row in fused)
    # float32 rounding grows with the depth and the output's scale (random weights give large activations)
    torch.testing.assert_close(z, y, rtol=1e-4, atol=1e-5 * float(y.abs().max()))


@pytest.mark.parametrize("model", ["yolo11n-lite-repvit-m0-9.yaml", "yolo11s-lcnet.yaml"])
def test_shipped_models_keep_timms_batchnorm_settings(model):
    from ultralytics.nn.tasks import DetectionModel

    built = DetectionModel(model, verbose=False)  # Ultralytics' initialize_weights sets eps 1e-3, momentum 0.03
    backbone = built.model[:3]
    reference = dict(timm.create_model(backbone[0].builder, pretrained=False).named_modules())
    norms = [(name, norm) for row in backbone for name, norm in row.named_modules() if name in reference]
    norms = [(name, norm) for name, norm in norms if isinstance(norm, torch.nn.BatchNorm2d)]
    assert len(norms) > 10
    for name, norm in norms:
        ref = reference[name]
        assert (norm.eps, norm.momentum) == (ref.eps, max(ref.momentum, 0.03)), name


def test_a_yolo_model_trains_and_reloads_restricted(tmp_path, detect_dataset):
    from ultralytics import YOLO
    from ultralytics.nn.tasks import torch_safe_load

    model = YOLO(timm_yaml(tmp_path, weights=weights_file(tmp_path)))
    assert [type(row).__name__ for row in model.model.model[:3]] == ["TimmBackbone"] * 3
    model.train(data=str(detect_dataset), epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False,
                val=False, project=str(tmp_path), name="timm")  # fmt: skip
    best = tmp_path / "timm" / "weights" / "best.pt"
    ckpt, _ = torch_safe_load(str(best), safe_only=True)  # Ultralytics' restricted loading admits timm's classes
    assert type(ckpt["model"].model[0]).__name__ == "TimmBackbone"
    assert YOLO(best).predict(torch.rand(1, 3, 64, 64), verbose=False)[0].boxes is not None


def test_models_without_stride_8_to_32_features_are_refused_with_the_reason(tmp_path):
    from ultralytics import YOLO

    with pytest.raises(ValueError) as error:
        YOLO(timm_yaml(tmp_path, "vit_tiny_patch16_224"))
    assert "TimmBackbone: timm's vit_tiny_patch16_224 has no features at stride 8 and 32" in str(error.value)
    with pytest.raises(ValueError) as error:
        YOLO(timm_yaml(tmp_path, "mobilenetv4_small"))
    assert "unknown timm model 'mobilenetv4_small'; similar names: [" in str(error.value)
    assert "'mobilenetv4_conv_small'" in str(error.value)


def test_without_timm_a_timm_row_says_how_to_install_it(tmp_path, monkeypatch):
    from ultralytics import YOLO

    from ultralytics_light.timm_backbone import timm_units

    timm_units.cache_clear()
    monkeypatch.setitem(sys.modules, "timm", None)  # as if not installed: `import timm` raises ImportError
    with pytest.raises(ImportError) as error:
        YOLO(timm_yaml(tmp_path))
    assert (
        str(error.value) == "TimmBackbone rows need timm, which is not installed: pip install 'ultralytics-light[timm]'"
    )


def test_missing_pretrained_weights_offline_stop_the_build_with_the_way_out(tmp_path, run_fresh, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty_hf_home"))
    # offline as huggingface_hub knows it: a refused connection would be retried with back-off for about a minute
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    script = f"from ultralytics import YOLO; YOLO({str(timm_yaml(tmp_path, weights='DEFAULT'))!r})"
    result = run_fresh(sys.executable, "-c", script, check=False)
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()
    message = "\n".join(error[next(i for i, line in enumerate(error) if "WeightsNotAvailableError" in line) :])
    assert f"ImageNet weights of timm's {MODEL}.e2400_r224_in1k are not cached and could not be downloaded" in message
    assert f"repository: https://huggingface.co/timm/{MODEL}.e2400_r224_in1k" in message
    assert f"looked in:  {tmp_path / 'empty_hf_home' / 'hub'}" in message
    assert "pretrained=False" in message


def test_once_the_hub_is_out_of_reach_a_later_missing_model_is_not_looked_up_again(monkeypatch):
    """huggingface_hub retries a refused connection for up to about a minute a model: offline, bench-accuracy's plan
    of five timm models spent four minutes there."""
    from huggingface_hub.utils import LocalEntryNotFoundError

    from ultralytics_light import timm_backbone
    from ultralytics_light.weights import WeightsNotAvailableError

    real, asked = timm.create_model, []

    def create_model(name, pretrained=False, **kwargs):
        if pretrained and not timm_backbone.is_cached(name):
            asked.append(name)
            raise LocalEntryNotFoundError("the connection was refused")
        return real(name, pretrained=pretrained, **kwargs)

    monkeypatch.setattr(timm, "create_model", create_model)
    monkeypatch.setattr(timm_backbone, "HUB_OUT_OF_REACH", [])
    build = timm_backbone.TimmStage.build_network
    with pytest.raises(WeightsNotAvailableError, match=r"lcnet_100\.ra2_in1k are not cached .*\(LocalEntryNotFound"):
        build("lcnet_100", "DEFAULT")
    with pytest.raises(WeightsNotAvailableError) as error:
        build("lcnet_150", "DEFAULT")
    assert "out of reach for an earlier model in this process, so not asked again: LocalEntryNotFoundError" in str(
        error.value
    )
    assert asked == ["lcnet_100.ra2_in1k"]
    assert build("lcnet_050", "DEFAULT")[1] == "ra2_in1k"  # a cached file still loads


def test_cli_list_shows_timm_variants_their_hub_repository_cache_state_and_top1(run_fresh):
    from ultralytics_light.weights_cli import TIMM_BUILDERS

    out = run_fresh(sys.executable, "-m", "ultralytics_light", "weights", "list").stdout
    timm_part = out.split(f"cache: {Path(os.environ['HF_HOME']) / 'hub'}\n", 1)[1]
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in timm_part.splitlines()[1:]}
    repo = f"timm/{MODEL}.e2400_r224_in1k"
    assert rows[(MODEL, "DEFAULT=e2400_r224_in1k")] == [repo, "yes", "73.76%"]  # in the tests' offline cache
    assert rows[("lcnet_100", "ra2_in1k")] == ["timm/lcnet_100.ra2_in1k", "no", "72.13%"]
    defaults = {variant: cells for (variant, tag), cells in rows.items() if tag.startswith("DEFAULT=")}
    assert sorted(defaults) == sorted(TIMM_BUILDERS)
    assert all(cells[-1].endswith("%") for cells in defaults.values())  # every default tag has timm's top-1


def test_cli_import_puts_a_timm_file_where_timm_reads_it_offline(run_fresh, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    file = weights_file(tmp_path, "lcnet_050", seed=5)
    other = weights_file(tmp_path, "lcnet_075")
    command = (sys.executable, "-m", "ultralytics_light", "weights")
    refused = run_fresh(*command, "import", f"file={other}", "variant=lcnet_050", check=False)
    assert refused.returncode == 1 and f"{other} is not a state dict of timm's lcnet_050" in refused.stderr
    missing = run_fresh(*command, "fetch", "variant=lcnet_050", check=False)
    assert missing.returncode == 1
    assert "ImageNet weights of timm's lcnet_050.ra2_in1k are not cached and could not be downloaded" in missing.stderr
    out = run_fresh(*command, "import", f"file={file}", "variant=lcnet_050").stdout
    assert "holds timm's lcnet_050; cached as" in out and "models--timm--lcnet_050.ra2_in1k" in out
    check = (
        "import sys, timm, torch; from safetensors.torch import load_file\n"
        "model = timm.create_model('lcnet_050', pretrained=True)\n"  # DEFAULT, from the hub cache, offline
        "saved = load_file(sys.argv[1])\n"
        "print(all(torch.equal(v, saved[k]) for k, v in model.state_dict().items()))\n"
    )
    assert run_fresh(sys.executable, "-c", check, str(file)).stdout.split()[-1] == "True"
    assert "is in the cache" in run_fresh(*command, "fetch", "variant=lcnet_050").stdout
