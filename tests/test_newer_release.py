"""The day Ultralytics releases again: a release newer than every verified one is tried, not refused.

A copy of the installed release whose version metadata says it is one patch release newer than the newest verified
stands in for tomorrow's release, offline: put first on PYTHONPATH, as compat/matrix.py does with real releases.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

from conftest import fresh_run

from ultralytics_light import patches

MAJOR, MINOR, PATCH = patches.NEWEST_VERIFIED.split(".")
NEWER = f"{MAJOR}.{MINOR}.{int(PATCH) + 1}"
PARSE_MODEL_ANCHOR = "        else:\n            c2 = ch[f]\n"  # one of patches/parse_model.py's anchors

STOCK_AND_OURS = """
import sys

import ultralytics.nn.tasks as tasks
from ultralytics import YOLO

data, project = sys.argv[1:3]
print("PATCHED", [name for name in ("parse_model", "load_checkpoint") if hasattr(getattr(tasks, name), "__wrapped__")])
YOLO("yolo11n.yaml").train(data=data, epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False,
                           project=project, name="stock")
try:
    YOLO("yolo11n-lite-shufflenetv2.yaml")
except Exception as error:
    print("REFUSED", type(error).__name__, error)
"""


def newer_release(folder: Path) -> Path:
    """A copy of the installed Ultralytics that says it is release NEWER, in `folder` (to go first on PYTHONPATH)."""
    installed = distribution("ultralytics")
    shutil.copytree(
        Path(installed.locate_file("ultralytics")), folder / "ultralytics", ignore=shutil.ignore_patterns("__pycache__")
    )
    init = folder / "ultralytics" / "__init__.py"
    stock_line = f'__version__ = "{installed.version}"'
    assert init.read_text().count(stock_line) == 1
    init.write_text(init.read_text().replace(stock_line, f'__version__ = "{NEWER}"'))
    info = folder / f"ultralytics-{NEWER}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ultralytics\nVersion: {NEWER}\n")
    return folder


def run(release: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`args` in a fresh interpreter with `release` first on PYTHONPATH; fails the test on a non-zero exit."""
    return fresh_run(list(args), cwd, cwd / "settings", pythonpath=str(release))


def test_a_newer_release_is_tried_and_our_models_work_with_one_warning(detect_dataset, bus_jpg, tmp_path):
    release = newer_release(tmp_path / "release")
    warning = patches.unverified_message(NEWER)
    assert f"verified on ultralytics {patches.OLDEST_VERIFIED} to {patches.NEWEST_VERIFIED}, and {NEWER} is" in warning

    trained = run(release, tmp_path, "yolo", "train", "model=yolo11n-lite-shufflenetv2.yaml", f"data={detect_dataset}",
                  "epochs=1", "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False",
                  f"project={tmp_path / 'runs'}", "name=train")  # fmt: skip
    output = trained.stdout + trained.stderr
    assert f"Ultralytics {NEWER} " in output  # the copy ran, not the installed release
    assert output.count(warning) == 1
    best = tmp_path / "runs" / "train" / "weights" / "best.pt"
    assert best.is_file()

    predicted = run(
        release, tmp_path, "yolo", "predict", f"model={best}", f"source={bus_jpg}", "imgsz=64", "save=False"
    )
    assert "bus.jpg: 64x" in predicted.stdout + predicted.stderr
    assert (predicted.stdout + predicted.stderr).count(warning) == 1  # loading our checkpoint warns too

    stock = run(release, tmp_path, sys.executable, "-c", "from ultralytics import YOLO; YOLO('yolo11n.yaml')")
    assert "ultralytics-light" not in stock.stdout + stock.stderr  # stock models: as if we were not installed


def test_a_newer_release_that_breaks_a_patch_is_refused_and_stays_stock(detect_dataset, tmp_path):
    release = newer_release(tmp_path / "release")
    tasks = release / "ultralytics" / "nn" / "tasks.py"
    source = tasks.read_text()
    assert source.count(PARSE_MODEL_ANCHOR) == 1
    tasks.write_text(source.replace(PARSE_MODEL_ANCHOR, PARSE_MODEL_ANCHOR.replace("ch[f]", "ch[(f)]")))  # same code

    result = run(release, tmp_path, sys.executable, "-c", STOCK_AND_OURS, str(detect_dataset), str(tmp_path / "runs"))
    output = result.stdout + result.stderr
    assert "PATCHED []" in result.stdout  # every patch undone
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
