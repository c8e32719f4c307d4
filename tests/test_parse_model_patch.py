"""What the parse_model patch survives (patches/parse_model.py recompiles Ultralytics' `parse_model` from its source
with two anchored edits): the source reformatted gets the same patched behaviour, a missing anchor refuses by name."""

from __future__ import annotations

import ast
import inspect
import shutil
import subprocess
import textwrap

import pytest
import ultralytics.nn.tasks as tasks
from ultralytics.nn.tasks import DetectionModel

from ultralytics_light.patches import Patcher
from ultralytics_light.patches.parse_model import EDITS, FALLBACK, apply, patched_parse_model

MODEL = "yolo11n-lite-mobilenetv2.yaml"


def stock_source() -> str:
    return textwrap.dedent(inspect.getsource(tasks.parse_model.__wrapped__))


def unparsed(source: str) -> str:
    """The source as `ast.unparse` writes it: comments gone, every statement re-spaced on one line."""
    return ast.unparse(ast.parse(source))


def rewrapped(source: str) -> str:
    """`unparsed`, then formatted at 60 columns: long lines wrapped over several."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff (the test extra) is not installed")
    result = subprocess.run([ruff, "format", "--isolated", "--line-length", "60", "-"], input=unparsed(source),
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout


def built_with(parse_model, monkeypatch, yaml=MODEL) -> dict[str, tuple]:
    """Every tensor shape of the model `yaml` builds with `parse_model` in place of the task parser's."""
    monkeypatch.setattr(tasks, "parse_model", parse_model)
    return {key: tuple(value.shape) for key, value in DetectionModel(yaml, verbose=False).state_dict().items()}


@pytest.mark.parametrize("reformat", [unparsed, rewrapped])
def test_the_patch_applies_to_parse_model_reformatted_and_builds_the_same_model(reformat, monkeypatch):
    source = reformat(stock_source())
    assert source != stock_source() and "# " not in source  # comments and spacing are really gone
    expected = built_with(tasks.parse_model, monkeypatch)
    assert built_with(patched_parse_model(tasks, source), monkeypatch) == expected


def test_reformatted_patch_keeps_an_absolute_weights_path_a_string(torch_home, monkeypatch):
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml

    weights = next((torch_home / "hub" / "checkpoints").glob("mobilenet_v2-*.pth"))
    yaml = YAML.load(find_model_yaml(MODEL))
    for row in yaml["backbone"][:3]:
        row[3][-1] = str(weights)  # an absolute path: a SyntaxError for ast.literal_eval
    yaml["scale"] = "n"
    patched = patched_parse_model(tasks, unparsed(stock_source()))
    monkeypatch.setattr(tasks, "parse_model", patched)
    model = DetectionModel(yaml, verbose=False)
    assert [row.weights for row in model.model[:3]] == [str(weights)] * 3


@pytest.mark.parametrize("anchor", list(EDITS))
def test_a_missing_anchor_refuses_by_name_and_leaves_parse_model_as_it_is(anchor, monkeypatch):
    before = tasks.parse_model
    broken = stock_source().replace(anchor, anchor.replace("c2 = ch[f]", "c2 = ch[f]  # moved") if anchor == FALLBACK
                                    else anchor.replace("ValueError", "(ValueError)"))  # fmt: skip
    assert broken.count(anchor) == 0
    monkeypatch.setattr(inspect, "getsource", lambda _: broken)
    patcher = Patcher()
    with pytest.raises(RuntimeError, match="was not found exactly once") as error:
        apply(tasks, patcher)
    assert repr(anchor.strip()) in str(error.value)
    assert tasks.parse_model is before
