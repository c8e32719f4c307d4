"""A plug-in never hurts its host: whatever fails while we patch Ultralytics, stock Ultralytics works as if we were not
installed, and only our models refuse, with the message the user was warned with."""

from __future__ import annotations

import configparser
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import NEWER, NEXT_MAJOR, newer_release

from ultralytics_light import patches
from ultralytics_light.families import FAMILIES

ROOT = Path(__file__).parents[1]
PARSE_MODEL_ANCHOR = "        else:\n            c2 = ch[f]\n"  # one of patches/parse_model.py's anchors

# What a fresh interpreter's Ultralytics looks like: each attribute of the objects we patch, by where its value comes
# from. A function we wrapped or recompiled has `__wrapped__`, so it shows even where its name and module are stock's.
FINGERPRINT = """
import json


def fingerprint():
    import ultralytics.nn.tasks as tasks

    owners = {"tasks": tasks, "BaseModel": tasks.BaseModel, "_SafeLoad": getattr(tasks, "_SafeLoad", object)}
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

# A stock model trains one epoch, then one of ours is built. Arguments: ... data project.
STOCK_TRAINS_THEN_OURS = """
import sys

from ultralytics import YOLO

print("FINGERPRINT", json.dumps(fingerprint()))
YOLO("yolo11n.yaml").train(data=sys.argv[-2], epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False,
                           project=sys.argv[-1], name="stock")
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
    + STOCK_TRAINS_THEN_OURS
)


def matrix() -> ModuleType:
    """compat/matrix.py, which is a script, not a package."""
    sys.path.insert(0, str(ROOT / "compat"))
    try:
        return importlib.import_module("matrix")
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
def test_a_failing_patch_leaves_ultralytics_stock_and_our_models_refuse(
    broken, stock_fingerprint, detect_dataset, run_fresh, tmp_path
):
    result = run_fresh(sys.executable, "-c", BROKEN, broken, str(detect_dataset), str(tmp_path / "runs"))
    output = result.stdout + result.stderr

    # Stock half: every patch applied before the failing one was undone, and a stock model trains.
    ours = fingerprint(result.stdout)
    differences = {key for key in stock_fingerprint.keys() | ours.keys() if stock_fingerprint.get(key) != ours.get(key)}
    assert (tmp_path / "runs" / "stock" / "weights" / "best.pt").is_file()
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

    script = FINGERPRINT + STOCK_TRAINS_THEN_OURS
    result = run_fresh(sys.executable, "-c", script, str(detect_dataset), str(tmp_path / "runs"), pythonpath=release)
    output = result.stdout + result.stderr
    assert f"Ultralytics {NEWER} " in output  # the copy ran, not the installed release
    ours = fingerprint(result.stdout)
    differences = {key for key in stock_fingerprint.keys() | ours.keys() if stock_fingerprint.get(key) != ours.get(key)}
    assert differences == {"tasks.yaml_model_load", *(f"tasks.{name}" for name in FAMILIES)}  # only the guards
    assert (tmp_path / "runs" / "stock" / "weights" / "best.pt").is_file()
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
    import ultralytics.nn.tasks as tasks

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

    releases = sorted(matrix().IN_RANGE, key=matrix().version_key)
    assert (releases[0], releases[-1]) == (patches.OLDEST_VERIFIED, patches.NEWEST_VERIFIED)
    assert all(
        not __import__("ultralytics").utils.checks.check_version(v, patches.SUPPORTED["ultralytics"])
        for v in matrix().OUT_OF_RANGE
    )


def test_the_matrix_fails_for_verified_releases_only():
    """CI stays green on the day a new Ultralytics release breaks us; the table and a warning say so."""
    kind, exit_status, older = matrix().kind, matrix().exit_status, matrix().OUT_OF_RANGE[0]
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
