"""What the tests share, and the compatibility matrix (compat/matrix.py) too, importable without pytest:
torchvision-format checkpoints and a tiny detection dataset made on the spot, fresh interpreters that cannot reach the
network, a copy of the installed Ultralytics that says it is a newer release, and how an export is compared with
PyTorch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import cv2
import numpy as np
import torch
from ultralytics.utils.nms import non_max_suppression

from ultralytics_light.patches import NEWEST_VERIFIED

# Tomorrow's Ultralytics release, as far as our version checks can tell: one patch release after the newest verified.
_MAJOR, _MINOR, _PATCH = NEWEST_VERIFIED.split(".")
NEWER = f"{_MAJOR}.{_MINOR}.{int(_PATCH) + 1}"
NEXT_MAJOR = int(_MAJOR) + 1  # the first Ultralytics release our requirement (setup.cfg) leaves out

# What the shipped YAMLs use at scales n and s.
SHIPPED_BUILDERS = (
    "mobilenet_v2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "mobilenet_v3_large", "mobilenet_v3_small",
    "efficientnet_b0", "regnet_x_400mf", "regnet_y_400mf", "mnasnet1_0", "resnet18",
)  # fmt: skip


def write_torchvision_checkpoint(checkpoints: Path, builder: str, tag: str = "DEFAULT", seed: int = 0) -> Path:
    """Save a seeded, random torchvision `builder` state dict under the file name torchvision caches `tag` as."""
    import torch
    from torchvision.models import get_model, get_model_weights

    torch.manual_seed(seed)
    path = checkpoints / get_model_weights(builder)[tag].url.rsplit("/", 1)[-1]
    torch.save(get_model(builder, weights=None).state_dict(), path)
    return path


def offline_torch_home(home: Path, builders=SHIPPED_BUILDERS) -> Path:
    """A TORCH_HOME whose hub cache holds torchvision-format files for `builders`' 'DEFAULT' weights."""
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    for builder in builders:
        write_torchvision_checkpoint(checkpoints, builder)
    return home


# What the shipped YAMLs of timm's families use at scales n and s.
SHIPPED_TIMM = (
    "mobilenetv4_conv_small", "mobilenetv4_conv_medium", "lcnet_050", "lcnet_075", "repvit_m0_9", "ghostnetv2_100",
)  # fmt: skip


def write_timm_file(path: Path, name: str, seed: int = 0) -> Path:
    """Save a seeded, random state dict of timm's classifier `name` at `path`, as timm's hub files are (safetensors),
    with BatchNorm statistics that are not the defaults, so that loading them shows."""
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = timm.create_model(name, pretrained=False)
    for buffer in model.buffers():
        if buffer.is_floating_point():
            buffer.uniform_(0.5, 1.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def offline_hf_home(home: Path, names=SHIPPED_TIMM) -> Path:
    """An HF_HOME whose hub cache holds timm-format files for `names`' default pretrained tags, where huggingface_hub
    finds them offline (HF_HUB_OFFLINE=1): hub/models--timm--<name>.<tag>/snapshots/<commit>/model.safetensors. Where
    timm is not installed (it is an optional extra), an empty one."""
    import importlib.util

    if importlib.util.find_spec("timm") is None:
        return home
    from ultralytics_light.timm_backbone import pretrained_tag
    from ultralytics_light.timm_weights import snapshot_file

    for name in names:
        write_timm_file(snapshot_file(home / "hub", pretrained_tag(name, "DEFAULT"), "model.safetensors"), name)
    return home


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


def timm_yaml(folder: Path, name: str = "mobilenetv4_conv_small", weights: object = None,
              template: str = "yolo11-lite-resnet18.yaml") -> Path:  # fmt: skip
    """A shipped YAML (`template`, ResNet-18 rows) with TimmBackbone rows of timm's `name` instead, written to
    `folder` under a scale-n name."""
    from ultralytics_light.cfg import find_model_yaml

    text = find_model_yaml(template).read_text()
    spec = "null" if weights is None else str(weights)
    path = folder / template.replace("-", "n-", 1).replace("resnet18", f"timm-{name}")
    path.write_text(text.replace("ResNet, [18, ", f"TimmBackbone, [{name}, ").replace(", DEFAULT]]", f", {spec}]]"))
    return path


def pickled_globals(checkpoint: Path) -> set[str]:
    """The classes and functions a checkpoint pickles (torch's own allowed ones left out), whatever this process has
    allow-listed for weights_only loading meanwhile (Ultralytics' restricted loading adds to that list)."""
    allowed = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        return set(torch.serialization.get_unsafe_globals_in_checkpoint(str(checkpoint)))
    finally:
        torch.serialization.add_safe_globals(allowed)


def fresh_command(
    args: list[str], settings: Path, pythonpath: str = "", python: str = sys.executable
) -> tuple[list[str], dict[str, str]]:
    """Command and environment for a fresh interpreter that never imports ultralytics_light by hand.

    `yolo` and `ultralytics-light` mean those console scripts of `python` (this one unless told). Ultralytics' settings
    go to `settings`, and any download is refused at once (a closed local port as the proxy). `pythonpath` goes before
    site-packages (the matrix puts another Ultralytics release there).
    """
    script = Path(python).parent / args[0]
    command = [str(script), *args[1:]] if args[0] in ("yolo", "ultralytics-light") else list(args)
    env = {
        **os.environ,
        "YOLO_CONFIG_DIR": str(settings),
        "PYTHONPATH": pythonpath,
        **{name: "http://127.0.0.1:9" for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")},
    }
    env.pop("no_proxy", None), env.pop("NO_PROXY", None)
    return command, env


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


def start_fresh(args: list[str], cwd: Path) -> subprocess.Popen:
    """Start (not wait for) a command in a fresh interpreter, as `fresh_command` describes."""
    command, env = fresh_command(args, cwd / "ultralytics_settings")
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fresh_run(
    args: list[str],
    cwd: Path,
    settings: Path,
    check: bool = True,
    timeout: float = 600,
    pythonpath: str = "",
    python: str = sys.executable,
):
    """Run a command in a fresh interpreter (see `fresh_command`); fail the test with its output if it fails."""
    command, env = fresh_command(args, settings, pythonpath, python)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        import pytest

        pytest.fail(f"{command} exited {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


IMGSZ = 64
LITE_MODELS = ("yolo11n-lite-mobilenetv2.yaml", "yolo11n-lite-shufflenetv2.yaml")  # the edge models, for edge formats
# and a timm backbone through the same edge formats: what stays of timm in an export (its layers, re-parameterised
# blocks fused) is the same for every timm family; the ONNX test covers each
EDGE_MODELS = (*LITE_MODELS, "yolo11n-lite-mobilenetv4-conv-small.yaml")


def bus_input(bus_jpg) -> torch.Tensor:
    """bus.jpg as the models take it: RGB, [0, 1], NCHW; stretched rather than letterboxed, because the flat padding
    of a letterbox gives a barely trained model many exactly tied scores, which NMS may break either way."""
    image = cv2.resize(cv2.imread(str(bus_jpg)), (IMGSZ, IMGSZ), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1))).float().unsqueeze(0) / 255


def with_varied_scores(best, folder, x: torch.Tensor, logit_std: float = 3.0):
    """A copy of a barely trained (or built) checkpoint whose class scores vary widely with the image: its final class
    convolutions get seeded random weights, scaled so that the logits on `x` spread with std `logit_std`. Barely
    trained, every anchor scores about the same, and NMS breaks such near-ties either way; exactness of an export does
    not depend on the weights being good. An end-to-end head's one-to-one class branch is varied too."""
    ckpt = torch.load(best, map_location="cpu", weights_only=False)
    model = ckpt["model"].float().eval()
    head = model.model[-1]
    finals = [branch[-1] for cv3 in (head.cv3, getattr(head, "one2one_cv3", None) or ()) for branch in cv3]
    inputs = {}
    hooks = [f.register_forward_hook(lambda m, i, o, k=k: inputs.__setitem__(k, i[0])) for k, f in enumerate(finals)]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    generator = torch.Generator().manual_seed(0)
    for k, final in enumerate(finals):
        scale = logit_std / (inputs[k].std().item() * final.weight.shape[1] ** 0.5)
        final.weight.data = torch.randn(final.weight.shape, generator=generator) * scale
        final.bias.data.zero_()
    ckpt["model"], ckpt["ema"] = model.half(), None  # as Ultralytics saves it
    varied = folder / "varied.pt"
    torch.save(ckpt, varied)
    return varied


def built_checkpoint(name: str, folder: Path, x: torch.Tensor) -> Path:
    """A checkpoint of model `name` as `yolo train` saves one, without training: built from its YAML (seeded), its
    BatchNorm statistics measured on 16 seeded noise images of 128 px (so that fusing changes every weight and
    activations keep their scale through the fresh head; from a few 64 px images, the deepest layers see so few values
    that some variances nearly vanish, and fusing them amplifies float32 rounding), its class scores varied on `x` as
    `with_varied_scores` varies them."""
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel(name, verbose=False)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches
    model.train()
    with torch.no_grad():
        model(torch.rand(16, 3, 128, 128, generator=torch.Generator().manual_seed(0)))
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    built = folder / "built.pt"
    torch.save({"model": model.eval().half(), "ema": None, "train_args": {"model": name, "imgsz": IMGSZ}}, built)
    return with_varied_scores(built, folder, x)


def export_varied(best, bus_jpg, run_fresh, tmp_path, script: str, *args: str) -> tuple:
    """(varied checkpoint, bus.jpg input, stdout): a `with_varied_scores` copy of `best`, exported by `script` (given
    its path and `args`) in a fresh interpreter."""
    x = bus_input(bus_jpg)
    varied = with_varied_scores(best, tmp_path, x)
    return varied, x, run_fresh(sys.executable, "-c", script, str(varied), *args).stdout


def detections(raw: torch.Tensor) -> torch.Tensor:
    """Boxes after NMS, low confidence so that a one-epoch model yields some: (n, 6) xyxy, score, class."""
    return non_max_suppression(raw, conf_thres=0.001, iou_thres=0.7, max_det=50)[0]


def by_position(found: torch.Tensor) -> torch.Tensor:
    """Detections in a fixed order (by rounded box corners), so that near-tied scores ranked either way compare."""
    keys = (found[:, :4] * 10).round().tolist()
    return found[sorted(range(len(found)), key=lambda i: keys[i])]


def assert_close_predictions(ours: torch.Tensor, expected: torch.Tensor, box_atol: float, score_atol: float) -> None:
    """Raw predictions before NMS, every anchor: boxes within `box_atol` pixels, class scores within `score_atol`."""
    assert ours.shape == expected.shape
    torch.testing.assert_close(ours[:, :4], expected[:, :4], rtol=0, atol=box_atol)
    torch.testing.assert_close(ours[:, 4:], expected[:, 4:], rtol=0, atol=score_atol)


def assert_same_detections(ours: torch.Tensor, expected: torch.Tensor, score_atol: float) -> None:
    """The same predictions (boxes to 0.01 px), and so the same boxes after NMS (as sets), same classes, scores within
    `score_atol`."""
    assert_close_predictions(ours, expected, box_atol=1e-2, score_atol=score_atol)
    ours, expected = by_position(detections(ours)), by_position(detections(expected))
    assert len(expected) > 0
    assert ours.shape == expected.shape
    torch.testing.assert_close(ours[:, 4], expected[:, 4], rtol=0, atol=score_atol)  # scores
    torch.testing.assert_close(ours[:, :4], expected[:, :4], rtol=0, atol=1e-2)  # boxes, pixels
    assert torch.equal(ours[:, 5], expected[:, 5])  # classes
