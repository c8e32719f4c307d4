"""Shared fixtures: offline weights caches (torchvision's and timm's), a tiny synthetic detection dataset, stock-CLI
runners."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

# Ultralytics' settings for the tests run in this process: a folder of its own, set before Ultralytics is imported, so
# that parallel workers never write one settings file at once and a user's settings never change a test.
os.environ["YOLO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="ultralytics-settings-")
# The Hugging Face hub cache timm's weights are read from, and no network for it: huggingface_hub reads both once, when
# first imported, so they are set here, before anything imports it. The `offline_cache` fixture fills the cache.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="hf-home-")
os.environ["HF_HUB_OFFLINE"] = "1"

from helpers import (  # noqa: E402
    built_checkpoint,
    bus_input,
    fresh_run,
    offline_hf_home,
    offline_torch_home,
    rectangles_dataset,
)

from ultralytics_light.cfg import model_names  # noqa: E402

# One detect model of each family, the lite one (the fastest to build and export): the checks that depend on the
# backbone (fuse, ONNX export, pickled classes, restricted loading) run once per family, on a model built and
# calibrated in-process (`built`); the end-to-end (NMS-free) head is one of them. Every shipped YAML builds at n and s
# (test_models.py).
FAMILY_MODELS = (
    *(name.replace("-", "n-", 1) for name in model_names() if name.startswith("yolo11-lite-")),
    "yolo26n-lite-shufflenetv2.yaml",
)
# What a `yolo train` run adds to a build depends on the kind of backbone row, not on the family: one model of each
# kind is trained (`trained`), so the suite does not grow with the families.
TRAINED_MODELS = (
    "yolo11n-lite-mobilenetv2.yaml",  # a family with a class of its own
    "yolo11n-lite-shufflenetv2.yaml",  # the same, with a block of ours that fusing swaps in
    "yolo11n-lite-mobilenetv3-small.yaml",  # a torchvision row (ultralytics_light.rows)
    "yolo11n-lite-mobilenetv4-conv-small.yaml",  # a timm row
    "yolo26n-lite-shufflenetv2.yaml",  # the end-to-end head
)


# Tests that use these train, build every family, export or start fresh interpreters: `make test-fast` (-m "not slow")
# leaves them out.
SLOW_FIXTURES = {"trained", "built", "run_fresh", "detect_dataset"}


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def torch_home(tmp_path_factory) -> Path:
    """A TORCH_HOME whose hub cache holds torchvision-format files for the shipped models' 'DEFAULT' weights.

    Tests never reach the network: with this cache, building a shipped YAML reads these files instead.
    """
    return offline_torch_home(tmp_path_factory.mktemp("torch_home"))


@pytest.fixture(scope="session", autouse=True)
def offline_cache(torch_home):
    """Every test and fixture sees the offline caches (torchvision's, and the Hugging Face hub's for timm's shipped
    models), in this process and in the subprocesses it starts."""
    offline_hf_home(Path(os.environ["HF_HOME"]))
    with pytest.MonkeyPatch.context() as session_patch:
        session_patch.setenv("TORCH_HOME", str(torch_home))
        yield


@pytest.fixture(scope="session")
def detect_dataset(tmp_path_factory) -> Path:
    """The rectangles dataset for detection; returns its data.yaml."""
    return rectangles_dataset(tmp_path_factory.mktemp("rectangles"))


@pytest.fixture(scope="session")
def bus_jpg() -> Path:
    """The real photo Ultralytics ships with its package."""
    import ultralytics

    return Path(ultralytics.__file__).parent / "assets" / "bus.jpg"


@pytest.fixture(scope="session")
def shared_folder(tmp_path_factory, worker_id) -> Path:
    """A folder every pytest-xdist worker of this run sees (each worker's basetemp is a child of the run's)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session", params=TRAINED_MODELS)
def trained(request, detect_dataset, shared_folder) -> tuple[str, Path]:
    """(model name, best.pt) of one epoch of `yolo train` of each kind of backbone row, in a fresh interpreter.

    Trained once per test run: the first worker that needs a model trains it, the others wait for it and share it.
    """
    from filelock import FileLock

    runs = shared_folder / "trained" / request.param.removesuffix(".yaml")
    best = runs / "train" / "weights" / "best.pt"
    runs.mkdir(parents=True, exist_ok=True)
    with FileLock(runs / "lock"):
        if not best.is_file():
            fresh_run(
                ["yolo", "train", f"model={request.param}", f"data={detect_dataset}", "epochs=1", "imgsz=64",
                 "batch=4", "workers=0", "device=cpu", "plots=False", f"project={runs}", "name=train"],
                cwd=runs, settings=runs / "ultralytics_settings",
            )  # fmt: skip
    assert best.is_file()
    return request.param, best


@pytest.fixture(scope="session", params=FAMILY_MODELS)
def built(request, bus_jpg, tmp_path_factory) -> tuple[str, Path]:
    """(model name, checkpoint) of each family's model as `yolo train` saves one, built in-process without training:
    see `built_checkpoint`."""
    folder = tmp_path_factory.mktemp(request.param.removesuffix(".yaml"))
    return request.param, built_checkpoint(request.param, folder, bus_input(bus_jpg))


@pytest.fixture
def log_lines():
    """The messages Ultralytics' logger emits during the test."""
    import logging

    from ultralytics.utils import LOGGER

    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    LOGGER.addHandler(handler)
    yield lines
    LOGGER.removeHandler(handler)


@pytest.fixture
def run_fresh(tmp_path):
    """Run a command in a fresh interpreter (see `fresh_command`), settings in a temporary folder.

    Returns the CompletedProcess; fails the test with the output on a non-zero exit unless `check=False`.
    """

    def run(
        *args: str, cwd: Path | None = None, check: bool = True, timeout: float = 600, pythonpath: Path | str = ""
    ) -> subprocess.CompletedProcess:
        return fresh_run(
            list(args), cwd or tmp_path, tmp_path / "ultralytics_settings", check, timeout, str(pythonpath)
        )

    return run
