"""TFLite (LiteRT) export through Ultralytics' exporter (`format=litert`, litert-torch): float32 and INT8."""

from __future__ import annotations

import pytest
import torch
from helpers import EDGE_MODELS, IMGSZ, assert_close_predictions, assert_same_detections, export_varied
from ultralytics import YOLO

EXPORT_LITERT = f"""
import sys
from ultralytics import YOLO

print("exported", YOLO(sys.argv[1]).export(format="litert", imgsz={IMGSZ}))
print("exported", YOLO(sys.argv[1]).export(format="litert", imgsz={IMGSZ}, quantize=8, data=sys.argv[2]))
"""


# Their INT8 graphs crash or fail to prepare in LiteRT's default XNNPACK delegate (ai-edge-litert 2.3.0), and run with
# its builtin kernels: docs/deploying.md
XNNPACK_INT8_FAILS = {"yolo11n-lite-mobilenetv4-conv-small.yaml"}


def litert_predictions(path, x: torch.Tensor, xnnpack: bool = True) -> torch.Tensor:
    """Raw predictions of a .tflite file in pixels, as PyTorch gives them (the export emits boxes in [0, 1]); with
    LiteRT's default XNNPACK delegate, as Ultralytics runs it, or its builtin kernels only."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = Interpreter(model_path=str(path), num_threads=1, experimental_op_resolver_type=resolver)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x.numpy())
    interpreter.invoke()
    out = torch.from_numpy(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy())
    out[:, :4] *= IMGSZ
    return out


@pytest.mark.parametrize("trained", EDGE_MODELS, indirect=True)
def test_litert_float32_gives_pytorchs_detections_and_int8_stays_close(
    trained, detect_dataset, bus_jpg, run_fresh, tmp_path
):
    best, x, out = export_varied(trained[1], bus_jpg, run_fresh, tmp_path, EXPORT_LITERT, str(detect_dataset))
    assert out.count("exported") == 2

    with torch.no_grad():
        expected = YOLO(best).model.float().eval().fuse(verbose=False)(x)[0]
    float32 = litert_predictions(best.with_suffix(".tflite"), x)
    assert_same_detections(float32, expected, score_atol=1e-3)
    xnnpack = trained[0] not in XNNPACK_INT8_FAILS
    int8 = litert_predictions(best.with_name(f"{best.stem}_int8.tflite"), x, xnnpack)
    # INT8 through the box branch too: measured here within 0.37 px (at 64 px) and scores within 0.016.
    assert_close_predictions(int8, expected, box_atol=1.0, score_atol=0.05)

    result = run_fresh("yolo", "predict", f"model={best.with_suffix('.tflite')}", f"source={bus_jpg}",
                       f"imgsz={IMGSZ}", "device=cpu", f"project={tmp_path / 'predict'}", "save=False")  # fmt: skip
    assert "bus.jpg: 64x64" in result.stdout + result.stderr
