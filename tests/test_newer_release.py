"""The day Ultralytics releases again: a release newer than every verified one is tried, not refused.

A copy of the installed release whose version metadata says it is one patch release newer than the newest verified
stands in for tomorrow's release, offline: put first on PYTHONPATH, as compat/matrix.py does with real releases. The
same copy with a patch's source anchor rewritten: test_host_safety.py.
"""

from __future__ import annotations

import sys

from helpers import NEWER, newer_release

from ultralytics_light import patches


def test_a_newer_release_is_tried_and_our_models_work_with_one_warning(detect_dataset, bus_jpg, run_fresh, tmp_path):
    release = newer_release(tmp_path / "release")
    warning = patches.unverified_message(NEWER)
    assert f"verified on ultralytics {patches.OLDEST_VERIFIED} to {patches.NEWEST_VERIFIED}, and {NEWER} is" in warning

    trained = run_fresh("yolo", "train", "model=yolo11n-lite-shufflenetv2.yaml", f"data={detect_dataset}", "epochs=1",
                        "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False", f"project={tmp_path / 'runs'}",
                        "name=train", pythonpath=release)  # fmt: skip
    output = trained.stdout + trained.stderr
    assert f"Ultralytics {NEWER} " in output  # the copy ran, not the installed release
    assert output.count(warning) == 1
    best = tmp_path / "runs" / "train" / "weights" / "best.pt"
    assert best.is_file()

    predicted = run_fresh("yolo", "predict", f"model={best}", f"source={bus_jpg}", "imgsz=64", "save=False",
                          pythonpath=release)  # fmt: skip
    assert "bus.jpg: 64x" in predicted.stdout + predicted.stderr
    assert (predicted.stdout + predicted.stderr).count(warning) == 1  # loading our checkpoint warns too

    stock = run_fresh(sys.executable, "-c", "from ultralytics import YOLO; YOLO('yolo11n.yaml')", pythonpath=release)
    assert "ultralytics-light" not in stock.stdout + stock.stderr  # stock models: as if we were not installed
