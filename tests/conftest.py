"""Shared fixtures: an offline torchvision weights cache, a tiny synthetic detection dataset, stock-CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SHIPPED_BUILDERS = ("mobilenet_v2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0")  # what scales n and s use
SHIPPED_N = (
    "yolov5n-mobilenetv2.yaml",
    "yolov5n-shufflenetv2.yaml",
    "yolo11n-mobilenetv2.yaml",
    "yolo11n-shufflenetv2.yaml",
    "yolo11n-lite-mobilenetv2.yaml",
    "yolo11n-lite-shufflenetv2.yaml",
)


def write_torchvision_checkpoint(checkpoints: Path, builder: str, tag: str = "DEFAULT", seed: int = 0) -> Path:
    """Save a seeded, random torchvision `builder` state dict under the file name torchvision caches `tag` as."""
    import torch
    from torchvision.models import get_model, get_model_weights

    torch.manual_seed(seed)
    path = checkpoints / get_model_weights(builder)[tag].url.rsplit("/", 1)[-1]
    torch.save(get_model(builder, weights=None).state_dict(), path)
    return path


@pytest.fixture(scope="session")
def torch_home(tmp_path_factory) -> Path:
    """A TORCH_HOME whose hub cache holds torchvision-format files for the shipped models' 'DEFAULT' weights.

    Tests never reach the network: with this cache, building a shipped YAML reads these files instead.
    """
    home = tmp_path_factory.mktemp("torch_home")
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    for builder in SHIPPED_BUILDERS:
        write_torchvision_checkpoint(checkpoints, builder)
    return home


@pytest.fixture(scope="session", autouse=True)
def offline_cache(torch_home):
    """Every test and fixture sees the offline cache, in this process and in the subprocesses it starts."""
    with pytest.MonkeyPatch.context() as session_patch:
        session_patch.setenv("TORCH_HOME", str(torch_home))
        yield


def rectangles_dataset(root: Path, task: str = "detect") -> Path:
    """A 2-class dataset of coloured rectangles on grey, 4 train and 4 val images of 96x96, in `task`'s format.

    Labels: boxes (detect), rectangles as polygons (segment), corners as keypoints (pose), corners as oriented boxes
    (obb); classify uses one rectangle per image in class folders. Returns the data.yaml (the folder for classify).
    """
    import cv2

    rng = np.random.default_rng(0)
    colours = ((0, 0, 255), (0, 255, 0))  # BGR: red, green
    for split in ("train", "val"):
        for i in range(4):
            image, labels = np.full((96, 96, 3), 114, np.uint8), []
            classes = [i % 2] if task == "classify" else [0, 1]
            for cls in classes:
                w, h = rng.integers(16, 40, size=2)
                x, y = rng.integers(0, 96 - w), rng.integers(0, 96 - h)
                cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), colours[cls], -1)
                x1, y1, x2, y2 = x / 96, y / 96, (x + w) / 96, (y + h) / 96
                corners = [x1, y1, x2, y1, x2, y2, x1, y2]
                box = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
                values = {
                    "detect": box,
                    "segment": corners,
                    "obb": corners,
                    "pose": box + [v for k in range(4) for v in (corners[2 * k], corners[2 * k + 1], 2)],
                }.get(task, [])
                labels.append(" ".join([str(cls), *(f"{v:.6f}" for v in values)]))
            if task == "classify":
                folder = root / split / ("red", "green")[classes[0]]
                folder.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(folder / f"{i}.jpg"), image)
                continue
            (root / "images" / split).mkdir(parents=True, exist_ok=True)
            (root / "labels" / split).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / "images" / split / f"{i}.jpg"), image)
            (root / "labels" / split / f"{i}.txt").write_text("\n".join(labels) + "\n")
    if task == "classify":
        return root
    data = root / "data.yaml"
    extra = "kpt_shape: [4, 3]\nflip_idx: [1, 0, 3, 2]\n" if task == "pose" else ""
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\n{extra}names:\n  0: red\n  1: green\n")
    return data


@pytest.fixture(scope="session")
def detect_dataset(tmp_path_factory) -> Path:
    """The rectangles dataset for detection; returns its data.yaml."""
    return rectangles_dataset(tmp_path_factory.mktemp("rectangles"))


@pytest.fixture(scope="session")
def bus_jpg() -> Path:
    """The real photo Ultralytics ships with its package."""
    import ultralytics

    return Path(ultralytics.__file__).parent / "assets" / "bus.jpg"


@pytest.fixture(scope="session", params=SHIPPED_N)
def trained(request, detect_dataset, tmp_path_factory) -> tuple[str, Path]:
    """(model name, best.pt) of one epoch of `yolo train` with each shipped YAML at scale n, in a fresh interpreter."""
    runs = tmp_path_factory.mktemp("runs")
    fresh_run(
        ["yolo", "train", f"model={request.param}", f"data={detect_dataset}", "epochs=1", "imgsz=64", "batch=4",
         "workers=0", "device=cpu", "plots=False", f"project={runs}", "name=train"],
        cwd=runs, settings=runs / "ultralytics_settings",
    )  # fmt: skip
    best = runs / "train" / "weights" / "best.pt"
    assert best.is_file()
    return request.param, best


def fresh_command(args: list[str], settings: Path) -> tuple[list[str], dict[str, str]]:
    """Command and environment for a fresh interpreter that never imports ultralytics_light by hand.

    `yolo` and `ultralytics-light` mean those console scripts of this Python. Ultralytics' settings go to `settings`,
    and any download is refused at once (a closed local port as the proxy).
    """
    script = Path(sys.executable).parent / args[0]
    command = [str(script), *args[1:]] if args[0] in ("yolo", "ultralytics-light") else list(args)
    env = {
        **os.environ,
        "YOLO_CONFIG_DIR": str(settings),
        "PYTHONPATH": "",
        **{name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")},
    }
    env.pop("no_proxy", None), env.pop("NO_PROXY", None)
    return command, env


def start_fresh(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start (not wait for) a command in a fresh interpreter, as `fresh_command` describes."""
    command, env = fresh_command(args, cwd / "ultralytics_settings")
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fresh_run(args: list[str], cwd: Path, settings: Path, check: bool = True, timeout: float = 600):
    """Run a command in a fresh interpreter (see `fresh_command`); fail the test with its output if it fails."""
    command, env = fresh_command(args, settings)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"{command} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.fixture
def run_fresh(tmp_path):
    """Run a command in a fresh interpreter (see `fresh_command`), settings in a temporary folder.

    Returns the CompletedProcess; fails the test with the output on a non-zero exit unless `check=False`.
    """

    def run(
        *args: str, cwd: Path | None = None, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        return fresh_run(list(args), cwd or tmp_path, tmp_path / "ultralytics_settings", check, timeout)

    return run
