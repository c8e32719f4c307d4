"""Deployment: fused inference folds every BatchNorm, and exports give PyTorch's detections in a fresh interpreter."""

from __future__ import annotations

import copy
import sys

import cv2
import numpy as np
import torch
from ultralytics import YOLO
from ultralytics.utils.nms import non_max_suppression

IMGSZ = 64
LITE_MODELS = ("yolo11n-lite-mobilenetv2.yaml", "yolo11n-lite-shufflenetv2.yaml")  # the edge models, for edge formats

EXPORT_ALL = (
    """
import sys
from ultralytics import YOLO

for fmt in sys.argv[2:]:
    print("exported", YOLO(sys.argv[1]).export(format=fmt, imgsz=%d))
"""
    % IMGSZ
)


def bus_input(bus_jpg) -> torch.Tensor:
    """bus.jpg as the models take it: RGB, [0, 1], NCHW; stretched rather than letterboxed, because the flat padding
    of a letterbox gives a barely trained model many exactly tied scores, which NMS may break either way."""
    image = cv2.resize(cv2.imread(str(bus_jpg)), (IMGSZ, IMGSZ), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(image[..., ::-1].transpose(2, 0, 1))).float().unsqueeze(0) / 255


def with_varied_scores(best, folder, x: torch.Tensor, logit_std: float = 3.0):
    """A copy of a one-epoch checkpoint whose class scores vary widely with the image: its final class convolutions
    get seeded random weights, scaled so that the logits on `x` spread with std `logit_std`. Barely trained, every
    anchor scores about the same, and NMS breaks such near-ties either way; exactness of an export does not depend on
    the weights being good."""
    ckpt = torch.load(best, map_location="cpu", weights_only=False)
    model = ckpt["model"].float().eval()
    finals = [branch[-1] for branch in model.model[-1].cv3]
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


def test_fuse_folds_every_batchnorm_and_keeps_the_output(trained, bus_jpg):
    _, best = trained
    model = YOLO(best).model.float().eval()
    fused = copy.deepcopy(model).fuse(verbose=False)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) and not model.is_fused()
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in fused.modules())
    assert fused.is_fused()
    x = bus_input(bus_jpg)
    with torch.no_grad():
        expected, ours = model(x)[0], fused(x)[0]
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-4)


def test_exports_match_pytorch(trained, bus_jpg, run_fresh, tmp_path):
    import onnxruntime as ort

    model_name, best = trained
    # The families added after the first two share their rows' code: ONNX (the format their bench times) suffices.
    first_two = "mobilenetv2" in model_name or "shufflenetv2" in model_name
    formats = ["onnx"] + ["torchscript", "openvino"] * first_two + ["ncnn"] * ("lite-shufflenet" in model_name)
    best, x, out = export_varied(best, bus_jpg, run_fresh, tmp_path, EXPORT_ALL, *formats)
    assert out.count("exported") == len(formats)

    with torch.no_grad():
        expected = YOLO(best).model.float().eval().fuse(verbose=False)(x)[0]

    session = ort.InferenceSession(str(best.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    assert {"Sub", "Div"} <= {
        node.op_type for node in __import__("onnx").load(str(best.with_suffix(".onnx"))).graph.node
    }
    ours = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    assert_same_detections(ours, expected, score_atol=1e-3)

    if first_two:
        scripted = torch.jit.load(str(best.with_suffix(".torchscript")))
        with torch.no_grad():
            assert_same_detections(scripted(x), expected, score_atol=1e-4)

        import openvino as ov

        # Exactness with float32 pinned: OpenVINO's CPU default is bf16 where the CPU has it (avx512_bf16, AMX).
        xml = str(best.parent / f"{best.stem}_openvino_model" / f"{best.stem}.xml")
        compiled = ov.Core().compile_model(xml, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        assert_same_detections(torch.from_numpy(compiled(x.numpy())[0]), expected, score_atol=1e-3)
        # What users get by default, f32 or bf16 by CPU: bf16 moves boxes ~0.15 px at 64 px and scores ~6e-3 here.
        compiled = ov.Core().compile_model(xml, "CPU")
        assert_close_predictions(torch.from_numpy(compiled(x.numpy())[0]), expected, box_atol=1.0, score_atol=1e-2)

    for exported in [best.with_suffix(".onnx")] + (
        [best.parent / f"{best.stem}_ncnn_model"] if "ncnn" in formats else []
    ):
        result = run_fresh("yolo", "predict", f"model={exported}", f"source={bus_jpg}", f"imgsz={IMGSZ}",
                           "device=cpu", f"project={tmp_path / 'predict'}", "save=False")  # fmt: skip
        assert "bus.jpg: 64x64" in result.stdout + result.stderr
