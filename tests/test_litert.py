"""TFLite (LiteRT) export through Ultralytics' exporter (`format=litert`, litert-torch): float32 and INT8."""

from __future__ import annotations

import pytest
import torch
from helpers import IMGSZ, LITE_MODELS, assert_close_predictions, assert_same_detections, export_varied
from ultralytics import YOLO

EXPORT_LITERT = f"""
import sys
from ultralytics import YOLO

print("exported", YOLO(sys.argv[1]).export(format="litert", imgsz={IMGSZ}))
print("exported", YOLO(sys.argv[1]).export(format="litert", imgsz={IMGSZ}, quantize=8, data=sys.argv[2]))
"""


def litert_predictions(path, x: torch.Tensor) -> torch.Tensor:
    """Raw predictions of a .tflite file in pixels, as PyTorch gives them (the export emits boxes in [0, 1])."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x.numpy())
    interpreter.invoke()
    out = torch.from_numpy(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy())
    out[:, :4] *= IMGSZ
    return out


@pytest.mark.parametrize("trained", LITE_MODELS, indirect=True)
def test_litert_float32_gives_pytorchs_detections_and_int8_stays_close(
    trained, detect_dataset, bus_jpg, run_fresh, tmp_path
):
    best, x, out = export_varied(trained[1], bus_jpg, run_fresh, tmp_path, EXPORT_LITERT, str(detect_dataset))
    assert out.count("exported") == 2

    with torch.no_grad():
        expected = YOLO(best).model.float().eval().fuse(verbose=False)(x)[0]
    float32 = litert_predictions(best.with_suffix(".tflite"), x)
    assert_same_detections(float32, expected, score_atol=1e-3)
    int8 = litert_predictions(best.with_name(f"{best.stem}_int8.tflite"), x)
    # INT8 through the box branch too: measured here within 0.37 px (at 64 px) and scores within 0.016.
    assert_close_predictions(int8, expected, box_atol=1.0, score_atol=0.05)

    result = run_fresh("yolo", "predict", f"model={best.with_suffix('.tflite')}", f"source={bus_jpg}",
                       f"imgsz={IMGSZ}", "device=cpu", f"project={tmp_path / 'predict'}", "save=False")  # fmt: skip
    assert "bus.jpg: 64x64" in result.stdout + result.stderr
