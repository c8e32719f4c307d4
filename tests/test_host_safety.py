"""A plug-in never hurts its host: whatever fails while we patch Ultralytics, stock Ultralytics works as if we were not
installed, and only our models refuse, with the message the user was warned with."""

from __future__ import annotations

import configparser
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from helpers import NEWER, NEXT_MAJOR, newer_release

from ultralytics_light import patches
from ultralytics_light.families import FAMILIES

ROOT = Path(__file__).parents[1]
PARSE_MODEL_ANCHOR = "        else:\n            c2 = ch[f]\n"  # one of patches/parse_model.py's anchors

# What a fresh interpreter's Ultralytics looks like: each attribute of the objects we patch (with those the trainer and
# the exporter get when imported), by where its value comes from. A function we wrapped or recompiled has
# `__wrapped__`, so it shows even where its name and module are stock's.
FINGERPRINT = """
import json


def fingerprint():
    import importlib

    import ultralytics.engine.exporter as exporter
    import ultralytics.engine.trainer as trainer
    import ultralytics.nn.tasks as tasks

    try:  # where Ultralytics 8.4 quantizes ONNX
        export_onnx = importlib.import_module("ultralytics.utils.export.onnx")
    except ImportError:
        export_onnx = object
    owners = {"tasks": tasks, "BaseModel": tasks.BaseModel, "_SafeLoad": getattr(tasks, "_SafeLoad", object),
              "BaseTrainer": trainer.BaseTrainer, "Exporter": exporter.Exporter, "export.onnx": export_onnx}
    return {
        f"{owner}.{name}": [getattr(value, "__module__", None), getattr(value, "__qualname__", type(value).__name__),
                            hasattr(value, "__wrapped__") or hasattr(getattr(value, "__func__", None), "__wrapped__")]
        for owner, obj in owners.items()
        for name, value in vars(obj).items()
        if not name.startswith("_ultralytics_light")
    }
"""

STOCK = (
    FINGERPRINT
    + """
import sys

sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_PatchAfterImport"]  # as if not installed
print("FINGERPRINT", json.dumps(fingerprint()))
"""
)

# A stock model is built and predicts, then one of ours is built. Arguments: ... "predict", or data project "train" to
# train the stock model one epoch first.
STOCK_RUNS_THEN_OURS = """
import sys

import torch
from ultralytics import YOLO

print("FINGERPRINT", json.dumps(fingerprint()))
stock = YOLO("yolo11n.yaml")
if sys.argv[-1] == "train":
    stock.train(data=sys.argv[-3], epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False,
                project=sys.argv[-2], name="stock")
print("STOCK PREDICTS", len(stock.predict(torch.zeros(1, 3, 64, 64), verbose=False)))
try:
    YOLO("yolo11n-mobilenetv2.yaml")
except Exception as error:
    print("REFUSED", type(error).__name__, error)
"""

BROKEN = (
    FINGERPRINT
    + """
import importlib
import sys

broken = sys.argv[1]


def fail(*args, **kwargs):
    raise AttributeError(f"simulated: this release lacks what '{broken}' patches")


if broken == "apply":  # a failure outside every patch: the start-up hook's last resort
    importlib.import_module("ultralytics_light.patches").apply = fail
else:
    importlib.import_module(f"ultralytics_light.patches.{broken}").apply = fail
"""
    + STOCK_RUNS_THEN_OURS
)


def compat(module: str) -> ModuleType:
    """A module of compat/, which holds the matrix's scripts, not a package."""
    sys.path.insert(0, str(ROOT / "compat"))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(ROOT / "compat"))


def fingerprint(output: str) -> dict:
    return json.loads(next(line for line in output.splitlines() if line.startswith("FINGERPRINT ")).split(" ", 1)[1])


@pytest.fixture(scope="module")
def stock_fingerprint(tmp_path_factory) -> dict:
    from helpers import fresh_run

    folder = tmp_path_factory.mktemp("stock")
    return fingerprint(fresh_run([sys.executable, "-c", STOCK], folder, folder / "settings").stdout)


@pytest.mark.parametrize("broken", [*patches.PATCHES, "apply"])
def test_a_failing_patch_leaves_ultralytics_stock_and_our_models_refuse(broken, stock_fingerprint, run_fresh):
    result = run_fresh(sys.executable, "-c", BROKEN, broken, "predict")
    output = result.stdout + result.stderr

    # Stock half: every patch applied before the failing one was undone, and a stock model predicts (it trains in the
    # test below: the fingerprint already shows the trainer stock).
    ours = fingerprint(result.stdout)
    differences = {key for key in stock_fingerprint.keys() | ours.keys() if stock_fingerprint.get(key) != ours.get(key)}
    assert "STOCK PREDICTS 1" in result.stdout
    if broken == "apply":
        assert differences == set()
        assert "UserWarning: ultralytics-light is disabled: AttributeError: simulated" in output
        return
    # Only the guards that make our models refuse remain.
    assert differences == {"tasks.yaml_model_load", *(f"tasks.{name}" for name in FAMILIES)}

    # Our half: one warning, and our model refuses with that same message.
    message = (
        f"ultralytics-light could not adapt to the installed release ({patches.versions()}): its "
        f"patch '{broken}' failed (AttributeError: simulated: this release lacks what '{broken}' patches), "
        f"{patches.unavailable()} Install a release it is verified on: pip install 'ultralytics{patches.VERIFIED}', "
        f"or report this message to ultralytics-light."
    )
    assert f"REFUSED UnsupportedReleaseError {message}" in result.stdout
    assert output.count("ultralytics-light could not adapt") == 2  # the warning, once, and the refusal


def test_a_newer_release_that_breaks_a_patch_is_refused_and_stays_stock(
    stock_fingerprint, detect_dataset, run_fresh, tmp_path
):
    """Tomorrow's release, tried (test_newer_release.py), with a source line parse_model's patch needs rewritten."""
    release = newer_release(tmp_path / "release")
    tasks = release / "ultralytics" / "nn" / "tasks.py"
    source = tasks.read_text()
    assert source.count(PARSE_MODEL_ANCHOR) == 1
    tasks.write_text(source.replace(PARSE_MODEL_ANCHOR, PARSE_MODEL_ANCHOR.replace("ch[f]", "ch[(f)]")))  # same code

    script = FINGERPRINT + STOCK_RUNS_THEN_OURS
    runs = str(tmp_path / "runs")
    result = run_fresh(sys.executable, "-c", script, str(detect_dataset), runs, "train", pythonpath=release)
    output = result.stdout + result.stderr
    assert f"Ultralytics {NEWER} " in output  # the copy ran, not the installed release
    ours = fingerprint(result.stdout)
    differences = {key for key in stock_fingerprint.keys() | ours.keys() if stock_fingerprint.get(key) != ours.get(key)}
    assert differences == {"tasks.yaml_model_load", *(f"tasks.{name}" for name in FAMILIES)}  # only the guards
    assert (tmp_path / "runs" / "stock" / "weights" / "best.pt").is_file() and "STOCK PREDICTS 1" in result.stdout
    message = (
        f"ultralytics-light could not adapt to the installed release (ultralytics {NEWER}, torchvision "
        f"{patches.installed_version('torchvision')}, torch {patches.installed_version('torch')}): its patch "
        f"'parse_model' failed (RuntimeError: ultralytics-light cannot patch this release's parse_model ({tasks}): "
        f"'else:\\n            c2 = ch[f]' was not found exactly once."
    )
    assert f"REFUSED UnsupportedReleaseError {message}" in result.stdout
    assert f"Install a release it is verified on: pip install 'ultralytics{patches.VERIFIED}'" in result.stdout
    assert output.count("ultralytics-light could not adapt") == 2  # the warning, once, and the refusal
    assert "is running: its patches applied" not in output


def test_patches_undo_in_reverse_and_restore_absent_attributes():
    class Owner:
        inherited = "stock"

    class Child(Owner):
        pass

    patcher = patches.Patcher()
    patcher.replace(Child, "inherited", "ours")
    patcher.replace(Child, "inherited", "ours again")
    patcher.replace(Child, "new", "ours")
    patcher.undo()
    assert Child.inherited == "stock" and "inherited" not in vars(Child) and not hasattr(Child, "new")


@pytest.mark.parametrize(
    "name, said",
    [
        ("yolo11n-lite-shufflenetv2.yaml", "sets reg_max: 1, which"),
        ("yolo26n-lite-shufflenetv2.yaml", "sets reg_max: 1 and end2end: True, which"),
    ],
)
def test_lite_models_refuse_where_detect_has_no_reg_max_or_end2end(name, said, monkeypatch, tmp_path):
    """Ultralytics 8.3's Detect has 16 DFL bins and no one-to-one branch: a lite model would silently change."""
    from ultralytics.nn import tasks

    class DetectOf83(tasks.Detect):
        def __init__(self, nc: int = 80, ch: tuple = ()):
            super().__init__(nc, ch=ch)

    from ultralytics_light.patches.model_yaml import HeadUnsupportedError

    monkeypatch.setattr(tasks, "Detect", DetectOf83)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HeadUnsupportedError) as error:  # a ValueError, as a bad YAML argument is
        tasks.yaml_model_load(name)
    message = str(error.value)
    assert message.startswith(f"{name} {said} the Detect head of the installed ultralytics ")
    assert "always has 16 DFL bins" in message and "came in ultralytics 8.4.0" in message
    assert ("has no one-to-one (NMS-free) branch" in message) == name.startswith("yolo26")
    assert "pip install 'ultralytics>=8.4.0," in message
    assert tasks.yaml_model_load("yolo11n-shufflenetv2.yaml")["backbone"][0][2] == "ShuffleNetV2"
    (tmp_path / "mine.yaml").write_text(
        "nc: 2\nreg_max: 1\nend2end: True\nbackbone: [[-1, 1, Conv, [16, 3, 2]]]\nhead: []\n"
    )
    assert tasks.yaml_model_load(tmp_path / "mine.yaml")["end2end"] is True  # not ours: Ultralytics' business


def test_declared_range_starts_at_the_oldest_verified_release_and_admits_the_next_ones():
    """pip keeps a user's newer Ultralytics (up to the next major release), which our start-up hook then tries."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    requirements = setup["options"]["install_requires"].split()
    assert f"ultralytics>={patches.OLDEST_VERIFIED},<{NEXT_MAJOR}" in requirements
    assert patches.SUPPORTED["ultralytics"] == f">={patches.OLDEST_VERIFIED}"
    pinned = (ROOT / "requirements-pinned.txt").read_text().split()
    assert f"ultralytics=={patches.NEWEST_VERIFIED}" in pinned

    releases = sorted(compat("releases").IN_RANGE, key=compat("releases").version_key)
    assert (releases[0], releases[-1]) == (patches.OLDEST_VERIFIED, patches.NEWEST_VERIFIED)
    assert all(
        not __import__("ultralytics").utils.checks.check_version(v, patches.SUPPORTED["ultralytics"])
        for v in compat("releases").OUT_OF_RANGE
    )


def test_the_matrix_fails_for_verified_releases_only():
    """CI stays green on the day a new Ultralytics release breaks us; the table and a warning say so."""
    kind, exit_status, older = compat("releases").kind, compat("report").exit_status, compat("releases").OUT_OF_RANGE[0]
    assert [kind(r) for r in (older, patches.OLDEST_VERIFIED, patches.NEWEST_VERIFIED, NEWER)] == [
        "older", "supported", "supported", "newer"
    ]  # fmt: skip
    assert exit_status({NEWER: ["train"], patches.NEWEST_VERIFIED: []}) == 0
    assert exit_status({NEWER: [], patches.NEWEST_VERIFIED: ["onnx"]}) == 1
    assert exit_status({older: ["yamls"]}) == 1


def test_an_allow_list_we_cannot_extend_leaves_restricted_loading_stock(monkeypatch):
    """The allow-list is built at the first restricted load, long after patching: failing there would fail stock."""
    from ultralytics.nn.tasks import _SafeLoad

    from ultralytics_light.patches import safe_load

    def unknown_shape(allowed):
        raise TypeError(f"unknown allow-list type {type(allowed).__name__}")

    monkeypatch.setattr(safe_load, "with_our_classes", unknown_shape)
    assert _SafeLoad._build().keys() == _SafeLoad._build.__func__.__wrapped__(_SafeLoad).keys()


CLI_HOOK_FAILS = """
import importlib
import warnings

def fail(cfg):
    raise AttributeError("simulated: this release's CLI is not what cli_pretrained expects")

importlib.import_module("ultralytics_light.patches.cli_pretrained").apply = fail
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import ultralytics.cfg
print("WARNED", [str(w.message) for w in caught if "ultralytics-light" in str(w.message)])
print("STOCK", not hasattr(ultralytics.cfg.entrypoint, "__wrapped__"))
"""


def test_a_failing_cli_hook_warns_and_leaves_the_yolo_command_stock(run_fresh):
    out = run_fresh(sys.executable, "-c", CLI_HOOK_FAILS).stdout
    expected = (
        "ultralytics-light could not adapt ultralytics.cfg: AttributeError: simulated: this release's CLI is not "
        "what cli_pretrained expects"
    )
    assert f"WARNED [{expected!r}]" in out
    assert "STOCK True" in out


def without_onnx_int8_quantize(monkeypatch):
    from ultralytics.utils.export import onnx as export_onnx

    monkeypatch.delattr(export_onnx, "onnx_int8_quantize")
    return SimpleNamespace()


# A release that lacks what a patch of an optional feature adapts: (the patch, what it is handed, the feature named)
MISSING_TARGETS = {
    "safe_load": (lambda monkeypatch: SimpleNamespace(), "restricted loading of our checkpoints"),
    "onnx_int8_quantize": (without_onnx_int8_quantize, "our ONNX Runtime INT8 settings"),
    "cli_pretrained": (lambda monkeypatch: SimpleNamespace(smart_value=str), "`pretrained=False` on the yolo command"),
}


@pytest.mark.parametrize("name", MISSING_TARGETS)
def test_a_patch_whose_target_is_gone_says_once_which_feature_is_off(name, monkeypatch, log_lines):
    """On a release that should have the target (it is past the release that brought it), the feature is off, said
    once per process and listed by `checks`; the other patches are not undone, since our models work without it."""
    module = importlib.import_module(f"ultralytics_light.patches.{name}")
    make_target, feature = MISSING_TARGETS[name]
    target = make_target(monkeypatch)
    monkeypatch.setattr(patches, "STATES", {})
    for _ in range(2):
        module.apply(target) if name == "cli_pretrained" else module.apply(target, patches.Patcher())
    said = [line for line in log_lines if "ultralytics-light: " in line]  # after the release's own WARNING prefix
    assert len(said) == 1 and f"ultralytics-light: {feature}" in said[0] and " is off: " in said[0]
    assert patches.STATES[name].startswith(f"off: {feature}")


@pytest.mark.parametrize("name", ["safe_load", "onnx_int8_quantize"])
def test_a_patch_whose_feature_came_later_is_not_needed_and_says_nothing(name, monkeypatch, log_lines):
    module = importlib.import_module(f"ultralytics_light.patches.{name}")
    target = MISSING_TARGETS[name][0](monkeypatch)
    monkeypatch.setattr(patches, "STATES", {})
    monkeypatch.setattr(patches, "installed_version", lambda package: "8.3.253")  # the oldest verified release
    module.apply(target, patches.Patcher())
    assert patches.STATES[name].startswith("not needed (") and " came in ultralytics 8.4." in patches.STATES[name]
    assert not [line for line in log_lines if "ultralytics-light: " in line]


def test_onnx_int8_settings_are_off_where_the_release_binds_the_quantizer_at_import(monkeypatch, log_lines):
    """Our settings swap onnxruntime's quantize_static, which the release imports inside its quantizer: bound when its
    module is imported instead, the swap could not reach it, and applying the patch would change nothing silently."""
    from ultralytics.utils.export import onnx as export_onnx

    from ultralytics_light.patches import onnx_int8_quantize

    monkeypatch.setattr(export_onnx, "quantize_static", object(), raising=False)
    monkeypatch.setattr(patches, "STATES", {})
    patcher = patches.Patcher()
    onnx_int8_quantize.apply(SimpleNamespace(), patcher)
    assert patches.STATES["onnx_int8_quantize"].startswith("off: our ONNX Runtime INT8 settings")
    assert "binds onnxruntime's quantize_static when its export module is imported" in "\n".join(log_lines)
    assert not patcher._originals  # nothing replaced


def test_a_patch_that_fails_once_its_module_is_imported_puts_back_what_it_replaced_and_says_so(monkeypatch, log_lines):
    """A patch that finishes when a later module is imported (the trainer, the exporter) fails there while the others
    are in use: it undoes its own replacements and says once which feature is off; the others stay."""
    import ultralytics.engine.exporter  # noqa: F401  (imported: the hook runs now)

    monkeypatch.setattr(patches, "STATES", {"onnx_int8_quantize": "applied"})  # its first step, applied with the rest
    owner = SimpleNamespace(kept="stock", replaced="stock")
    patcher = patches.Patcher()
    patcher.replace(owner, "kept", "ours")  # an earlier change of the same patcher, applied with the rest

    def half_way(module):
        patcher.replace(owner, "replaced", "ours")
        raise AttributeError("simulated: Exporter is not what it was")

    patcher.when_imported("ultralytics.engine.exporter", half_way, "onnx_int8_quantize", "our ONNX INT8 settings")
    assert (owner.kept, owner.replaced) == ("ours", "stock")
    said = [line for line in log_lines if "ultralytics-light: " in line]
    assert (
        len(said) == 1
        and "our ONNX INT8 settings is off: ultralytics.engine.exporter is not what it expects" in said[0]
    )
    assert "AttributeError: simulated: Exporter is not what it was" in said[0]
    assert patches.STATES["onnx_int8_quantize"].startswith("off: our ONNX INT8 settings")


def test_our_model_dicts_have_the_keys_stock_adds_and_a_release_adding_one_stops_our_models(monkeypatch):
    from ultralytics.nn import tasks

    from ultralytics_light.patches import model_yaml

    d = tasks.yaml_model_load("yolo11n-lite-shufflenetv2.yaml")
    assert model_yaml._stock_adds == model_yaml.OURS <= set(d)  # this release adds what ours adds, no more
    monkeypatch.setattr(model_yaml, "_stock_adds", {*model_yaml.OURS, "end2end_default"})  # a release adding a key
    with pytest.raises(RuntimeError, match="its yaml_model_load now adds end2end_default to a model's dict"):
        tasks.yaml_model_load("yolo11n-lite-shufflenetv2.yaml")
    assert tasks.yaml_model_load("yolo11n.yaml")["yaml_file"] == "yolo11n.yaml"  # stock models are not ours to stop
