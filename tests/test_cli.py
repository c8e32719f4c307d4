"""The stock `yolo` CLI and Python API, in fresh interpreters that never import ultralytics_light by hand."""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.metadata import version

import pytest
import torch
from ultralytics.nn.tasks import yaml_model_load

from ultralytics_light import patches


def test_yolo_train_writes_a_checkpoint_of_our_modules(trained):
    model_name, best = trained
    checkpoint = torch.load(best, map_location="cpu", weights_only=False)
    backbone = checkpoint["model"].model[:3]
    family = next(row[2] for row in yaml_model_load(model_name)["backbone"])
    expected = {"MobileNetV2": "ultralytics_light.mobilenetv2", "ShuffleNetV2": "ultralytics_light.shufflenetv2"}
    assert [type(row).__name__ for row in backbone] == [family] * 3
    assert [type(row).__module__ for row in backbone] == [expected.get(family, "ultralytics_light.rows")] * 3
    assert checkpoint["model"].names == {0: "red", 1: "green"}


@pytest.mark.parametrize("trained", ["yolo11n-lite-shufflenetv2.yaml"], indirect=True)  # the same for every family
def test_yolo_predict_from_another_directory(trained, bus_jpg, run_fresh, tmp_path):
    _, best = trained
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_fresh(
        "yolo", "predict", f"model={best}", f"source={bus_jpg}", "imgsz=64", "device=cpu",
        f"project={tmp_path / 'predict'}", "name=bus", "save=False", cwd=elsewhere,
    )  # fmt: skip
    assert "bus.jpg: 64x" in result.stdout + result.stderr


def test_python_api_with_bare_name(run_fresh):
    result = run_fresh(
        sys.executable, "-c", "from ultralytics import YOLO; print(YOLO('yolo11n-mobilenetv2.yaml').info())"
    )
    assert "YOLO11n-mobilenetv2 summary" in result.stdout + result.stderr


def test_one_tool_lists_every_command_and_each_commands_options_with_help_at_every_level(capsys):
    from ultralytics_light.cli import commands, main

    assert main(["help"]) == 0
    listing = capsys.readouterr().out
    assert [command.name for command in commands()] == ["weights list", "weights fetch", "weights import",
                                                        "bench-accuracy", "time", "checks"]  # fmt: skip
    assert all(f"  {command.name}  " in listing for command in commands())
    for command in commands():
        for asking in ("help", "--help", "-h"):
            assert main([*command.words, asking]) == 0
            shown = capsys.readouterr().out
            assert shown.startswith(f"usage: ultralytics-light {command.name}")
            assert all(f"  {key} " in shown for key in command.options)  # every option, with its meaning
    assert main(["weights", "help"]) == 0 and "weights fetch" in capsys.readouterr().out


def test_usage_errors_exit_2_with_the_tools_prefix_and_the_way_out(capsys):
    from ultralytics_light.cli import main

    assert main(["weights", "fetch", "shufflenet_v2_x0_5"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ultralytics-light: error: weights fetch: arguments are key=value")
    assert "Did you mean variant=shufflenet_v2_x0_5?" in error
    assert main(["bench-accuracy", "data=d.yaml", "epoch=3"]) == 2
    assert "unknown key 'epoch'. Similar: epochs" in capsys.readouterr().err
    assert main(["weights"]) == 2 and "weights needs one of its commands" in capsys.readouterr().err
    assert main(["bench-acuracy"]) == 2 and "unknown command 'bench-acuracy'" in capsys.readouterr().err


def test_the_command_and_python_m_are_the_same_tool(run_fresh):
    command = run_fresh("ultralytics-light", "--help").stdout
    module = run_fresh(sys.executable, "-m", "ultralytics_light", "--help").stdout
    assert command == module and "bench-accuracy" in command and "weights import" in command
    checks = run_fresh("ultralytics-light", "checks").stdout
    assert "patches: applied" in checks and "ultralytics 8." in checks
    assert all(f"\n  {name}: applied\n" in checks for name in (*patches.PATCHES, "cli_pretrained"))  # each patch
    if importlib.util.find_spec("timm"):  # an optional extra
        assert f"timm {version('timm')}: weights in the Hugging Face hub cache {os.environ['HF_HOME']}/hub" in checks
    else:
        assert "timm: not installed, for timm's backbones: pip install 'ultralytics-light[timm]'" in checks


def test_commands_declare_themselves_without_importing_the_tool_that_lists_them(run_fresh):
    # cli.py imports the commands; were a command to import cli.py, the two would depend on each other's import order
    code = (
        "import sys, ultralytics_light.accuracy, ultralytics_light.checks, ultralytics_light.weights_cli; "
        "print('ultralytics_light.cli' in sys.modules)"
    )
    assert run_fresh(sys.executable, "-c", code).stdout.strip().splitlines()[-1] == "False"
