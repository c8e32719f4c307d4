"""INT8 export through Ultralytics' own path (`quantize=8`, calibrated on the user's `data`): OpenVINO with NNCF."""

from __future__ import annotations

import pytest
import torch
from test_export import IMGSZ, LITE_MODELS, assert_close_predictions, export_varied
from ultralytics import YOLO

EXPORT_INT8 = f"""
import sys
from ultralytics import YOLO

print("exported", YOLO(sys.argv[1]).export(format="openvino", quantize=8, data=sys.argv[2], imgsz={IMGSZ}))
"""

# Ops whose output values are some of their input values: quantized in, quantized out (ShuffleNetV2's channel
# interleave and max pooling).
SELECTING_OPS = {
    "Reshape",
    "Unsqueeze",
    "Transpose",
    "ShuffleChannels",
    "VariadicSplit",
    "Split",
    "StridedSlice",
    "MaxPool",
}


def quantized(node) -> bool:
    """Whether node's output holds INT8 values: a FakeQuantize's, through selecting ops and concatenations."""
    kind = node.get_type_name()
    if kind == "Concat":
        return all(quantized(node.input_value(i).get_node()) for i in range(node.get_input_size()))
    return kind == "FakeQuantize" or (kind in SELECTING_OPS and quantized(node.input_value(0).get_node()))


@pytest.mark.parametrize("trained", LITE_MODELS, indirect=True)
def test_openvino_int8_export_quantizes_our_backbone_and_keeps_the_predictions(
    trained, detect_dataset, bus_jpg, run_fresh, tmp_path
):
    import openvino as ov

    best, x, out = export_varied(trained[1], bus_jpg, run_fresh, tmp_path, EXPORT_INT8, str(detect_dataset))
    assert "exported" in out
    folder = best.parent / f"{best.stem}_int8_openvino_model"

    model = ov.Core().read_model(str(folder / f"{best.stem}.xml"))
    # Every convolution of the backbone rows (model.0-2) takes INT8 input: NNCF put a FakeQuantize before it.
    backbone_convs = [
        op for op in model.get_ops()
        if op.get_type_name() in {"Convolution", "GroupConvolution"}
        and op.get_friendly_name().startswith(("__module.model.0.", "__module.model.1.", "__module.model.2."))
    ]  # fmt: skip
    assert backbone_convs
    for conv in backbone_convs:
        assert quantized(conv.input_value(0).get_node()), conv.get_friendly_name()

    with torch.no_grad():
        expected = YOLO(best).model.float().eval().fuse(verbose=False)(x)[0]
    # f32 pinned for the layers left in float (the head's decode), so the comparison means the same on every CPU.
    compiled = ov.Core().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    ours = torch.from_numpy(compiled(x.numpy())[0])
    # Measured here: boxes within 0.002 px, scores within 0.017 (MobileNetV2) and 0.007 (ShuffleNetV2).
    assert_close_predictions(ours, expected, box_atol=0.5, score_atol=0.05)

    result = run_fresh("yolo", "predict", f"model={folder}", f"source={bus_jpg}", f"imgsz={IMGSZ}", "device=cpu",
                       f"project={tmp_path / 'predict'}", "save=False")  # fmt: skip
    assert "bus.jpg: 64x64" in result.stdout + result.stderr
