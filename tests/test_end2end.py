"""NMS-free lite models (yolo26*-lite-*): Ultralytics' dual head trains, predicts and validates both ways, reloads
under restricted loading, and exports with nms=False to graphs whose output is PyTorch's final detections."""

from __future__ import annotations

import sys

import pytest
import torch
from helpers import IMGSZ, bus_input, export_varied, with_varied_scores
from ultralytics import YOLO
from ultralytics.utils.nms import non_max_suppression

END2END = "yolo26n-lite-shufflenetv2.yaml"  # also one of conftest.FAMILY_MODELS and TRAINED_MODELS

VALIDATE_BOTH_WAYS = """
import sys
from ultralytics import YOLO

best, data = sys.argv[1:3]
model = YOLO(best)  # restricted loading or not, by ULTRALYTICS_SAFE_LOAD
for nms in (None, False):
    metrics = model.val(data=data, imgsz=64, batch=4, nms=nms, device="cpu", plots=False, workers=0)
    print("VALIDATED", nms, model.model.model[0].__class__.__name__, 0 <= metrics.box.map50 <= 1)
"""

EXPORT_NMS_FREE = f"""
import sys
from ultralytics import YOLO

for fmt in ("onnx", "openvino", "litert"):
    print("exported", YOLO(sys.argv[1]).export(format=fmt, imgsz={IMGSZ}, nms=False))
"""


def final_detections(checkpoint, x: torch.Tensor) -> torch.Tensor:
    """PyTorch's end-to-end output of a checkpoint's fused model: (1, k, 6) x1, y1, x2, y2, score, class."""
    model = YOLO(checkpoint).model.float().eval()
    model.end2end = True  # what nms=False selects
    with torch.no_grad():
        return model.fuse(verbose=False)(x)[0]


def clipped(detections: torch.Tensor) -> torch.Tensor:
    """Detections with their boxes clipped to the image, as predict returns them."""
    return torch.cat([detections[:, :4].clamp(0, IMGSZ), detections[:, 4:]], 1)


def by_class_and_box(row: list[float]) -> tuple:
    return row[5], *(round(v, 1) for v in row[:4])


def assert_same_final_detections(ours: torch.Tensor, expected: torch.Tensor, score_atol: float) -> None:
    """The same top detections: boxes to 0.01 px, same classes, scores within `score_atol`. Compared down to a gap in
    the expected scores wider than the tolerance, so that rows near-tied with the next cannot swap across the cut."""
    assert ours.shape == expected.shape
    scores = expected[0, :, 4]
    gaps = ((scores[:-1] - scores[1:]) > 2 * score_atol).nonzero().flatten()
    cut = int(gaps[gaps >= 9][0]) + 1  # at least 10 detections
    ours, expected = (torch.tensor(sorted(rows[0, :cut].tolist(), key=by_class_and_box)) for rows in (ours, expected))
    torch.testing.assert_close(ours[:, :4], expected[:, :4], rtol=0, atol=1e-2)
    torch.testing.assert_close(ours[:, 4], expected[:, 4], rtol=0, atol=score_atol)
    assert torch.equal(ours[:, 5], expected[:, 5])


@pytest.mark.parametrize("trained", [END2END], indirect=True)
def test_end2end_head_predicts_final_detections_or_nms_candidates(trained, bus_jpg, tmp_path):
    """One head, two outputs: the one-to-many branch's candidates for NMS (nms=None, the default), and with nms=False
    the one-to-one branch's final detections (its top max_det, no NMS), as Ultralytics' YOLO26 gives them."""
    x = bus_input(bus_jpg)  # a tensor source: predict neither letterboxes nor rescales it (it clips boxes to it)
    best = with_varied_scores(trained[1], tmp_path, x)
    head = YOLO(best).model.model[-1]
    assert head.one2one_cv2 is not None and not head.end2end
    anchors = sum((IMGSZ // stride) ** 2 for stride in (8, 16, 32))
    with torch.no_grad():
        candidates = YOLO(best).model.float().eval().fuse(verbose=False)(x)[0]
    assert candidates.shape == (1, 4 + head.nc, anchors)
    final = final_detections(best, x)[0]
    assert final.shape == (min(head.max_det, anchors), 6)
    assert (final[:-1, 4] >= final[1:, 4]).all()  # ranked by score

    one_to_one = YOLO(best).predict(x, conf=0.0, nms=False, device="cpu", verbose=False)[0].boxes.data
    torch.testing.assert_close(one_to_one, clipped(final[final[:, 4] > 0]), rtol=0, atol=1e-4)
    with_nms = YOLO(best).predict(x, conf=0.0, device="cpu", verbose=False)[0].boxes.data
    expected = non_max_suppression(candidates, conf_thres=0.0, iou_thres=0.7, max_det=300)[0]
    torch.testing.assert_close(with_nms, clipped(expected), rtol=0, atol=1e-4)


@pytest.mark.parametrize("trained", [END2END], indirect=True)
@pytest.mark.parametrize("safe_load", ["0", "1"])
def test_end2end_checkpoint_validates_both_ways_after_reloading(
    trained, safe_load, detect_dataset, run_fresh, monkeypatch
):
    monkeypatch.setenv("ULTRALYTICS_SAFE_LOAD", safe_load)
    monkeypatch.setenv("TORCH_HOME", "/nonexistent/torch_home")  # loading never needs ImageNet files
    out = run_fresh(sys.executable, "-c", VALIDATE_BOTH_WAYS, str(trained[1]), str(detect_dataset))
    assert "VALIDATED None ShuffleNetV2 True" in out.stdout and "VALIDATED False ShuffleNetV2 True" in out.stdout


@pytest.mark.parametrize("trained", [END2END], indirect=True)
def test_nms_free_exports_give_pytorchs_final_detections(trained, bus_jpg, run_fresh, tmp_path):
    """nms=False puts the whole detector in the graph: ONNX, OpenVINO and LiteRT output PyTorch's final detections,
    and `yolo predict` runs the ONNX file with no NMS step."""
    best, x, out = export_varied(trained[1], bus_jpg, run_fresh, tmp_path, EXPORT_NMS_FREE)
    assert out.count("exported") == 3
    expected = final_detections(best, x)

    import onnxruntime as ort

    session = ort.InferenceSession(str(best.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    assert_same_final_detections(torch.from_numpy(session.run(None, {"images": x.numpy()})[0]), expected, 1e-3)

    import openvino as ov

    xml = str(best.parent / f"{best.stem}_openvino_model" / f"{best.stem}.xml")
    compiled = ov.Core().compile_model(xml, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    assert_same_final_detections(torch.from_numpy(compiled(x.numpy())[0]), expected, 1e-3)

    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(best.with_suffix(".tflite")), num_threads=1)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x.numpy())
    interpreter.invoke()
    litert = torch.from_numpy(  # boxes in pixels (not in [0, 1] as the NMS candidates are)
        interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()
    )
    assert_same_final_detections(litert, expected, 1e-3)

    result = run_fresh("yolo", "predict", f"model={best.with_suffix('.onnx')}", f"source={bus_jpg}", f"imgsz={IMGSZ}",
                       "device=cpu", f"project={tmp_path / 'predict'}", "save=False")  # fmt: skip
    assert "bus.jpg: 64x64" in result.stdout + result.stderr
