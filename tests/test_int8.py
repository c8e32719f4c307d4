"""INT8 export through Ultralytics' own path (`quantize=8`, calibrated on the user's `data`): OpenVINO with NNCF, and
ONNX Runtime with our settings for our models (patches/onnx_int8_quantize.py)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import IMGSZ, LITE_MODELS, assert_close_predictions, export_varied
from ultralytics import YOLO

EXPORT_INT8 = f"""
import sys
from ultralytics import YOLO

print("exported", YOLO(sys.argv[1]).export(format=sys.argv[3], quantize=8, data=sys.argv[2], imgsz={IMGSZ}))
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

    best, x, out = export_varied(trained[1], bus_jpg, run_fresh, tmp_path, EXPORT_INT8, str(detect_dataset), "openvino")
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


def conv_scales(onnx_file, rows: tuple[str, ...] = ("/model.",)) -> dict[str, dict[str, np.ndarray]]:
    """{conv name: {'input': scale, 'weight': scale, 'channels': output channels}} for the convolutions of `rows`,
    each scale that of the DequantizeLinear in front of the convolution."""
    import onnx
    from onnx.numpy_helper import to_array

    graph = onnx.load(str(onnx_file)).graph
    producers = {output: node for node in graph.node for output in node.output}
    initializers = {tensor.name: to_array(tensor) for tensor in graph.initializer}
    scales = {}
    for conv in (n for n in graph.node if n.op_type == "Conv" and n.name.startswith(rows)):
        dequantize = [producers[name] for name in conv.input[:2]]
        assert [node.op_type for node in dequantize] == ["DequantizeLinear"] * 2, conv.name
        scales[conv.name] = {key: initializers[node.input[1]] for key, node in zip(("input", "weight"), dequantize)}
        scales[conv.name]["channels"] = initializers[dequantize[1].input[0]].shape[0]
    return scales


def conv_model(tmp_path, name: str) -> tuple[Path, list[np.ndarray]]:
    """A float32 ONNX file of a single convolution whose output channels' weights are 1000 times apart, and two
    calibration images: one of range ±1, one of ±9."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    magnitudes = np.float32([1, 0.1, 0.01, 0.001])[:, None, None, None]  # each output channel's largest |weight|
    weight = np.sign(rng.standard_normal((4, 3, 3, 3))).astype(np.float32) * magnitudes
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])],
        [numpy_helper.from_array(weight, "w")],
    )  # fmt: skip
    fp32 = tmp_path / f"{name}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), fp32)
    images = [(np.clip(rng.standard_normal((1, 3, 8, 8)), -1, 1) * scale).astype(np.float32) for scale in (1, 9)]
    return fp32, images


def quantized_conv(tmp_path, name: str, settings) -> dict[str, np.ndarray]:
    """`conv_scales` of `conv_model`'s convolution quantized by ONNX Runtime under `settings`."""
    from onnxruntime import quantization

    fp32, images = conv_model(tmp_path, name)
    int8 = tmp_path / f"{name}_int8.onnx"

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.feeds = iter({"x": image} for image in images)

        def get_next(self):
            return next(self.feeds, None)

    with settings():
        quantization.quantize_static(str(fp32), str(int8), Reader())
    return conv_scales(int8, ("conv",))["conv"]


def test_the_quantizer_called_outside_an_export_says_it_used_ultralytics_settings(tmp_path, log_lines):
    """Our settings need to know the model, which only an export tells: any other caller is warned, not left to
    believe its model got them."""
    export_onnx = pytest.importorskip("ultralytics.utils.export.onnx")  # ONNX Runtime INT8 came in 8.4.60
    from ultralytics_light.patches.onnx_int8_quantize import unknown_model_warning

    fp32, images = conv_model(tmp_path, "elsewhere")
    int8 = export_onnx.onnx_int8_quantize(fp32, tmp_path / "elsewhere_int8.onnx", [{"img": i} for i in images],
                                          lambda batch: batch["img"], input_name="x")  # fmt: skip
    assert any(message.endswith(unknown_model_warning()) for message in log_lines)
    assert conv_scales(int8, ("conv",))["conv"]["weight"].shape == ()  # Ultralytics' settings: one scale per tensor


def test_our_onnx_runtime_settings_scale_weights_per_channel_and_average_activation_ranges(tmp_path):
    from ultralytics_light.patches.onnx_int8_quantize import our_settings

    stock = quantized_conv(tmp_path, "stock", contextlib.nullcontext)
    ours = quantized_conv(tmp_path, "ours", our_settings)
    assert stock["weight"].shape == () and ours["weight"].shape == (4,)
    # Each channel's own scale: 1000 times apart, as the channels' weights are.
    assert ours["weight"][0] / ours["weight"][3] == pytest.approx(1000, rel=1e-3)
    # The ±9 image sets the stock range; ours is the mean of the two images' ranges, ±5.
    assert stock["input"] == pytest.approx(18 / 255, rel=0.05)
    assert ours["input"] == pytest.approx(10 / 255, rel=0.05)


@pytest.mark.parametrize("trained", LITE_MODELS, indirect=True)
def test_onnx_int8_export_scales_our_weights_per_channel_and_keeps_the_predictions(
    trained, detect_dataset, bus_jpg, run_fresh, tmp_path
):
    import onnxruntime as ort

    best, x, out = export_varied(trained[1], bus_jpg, run_fresh, tmp_path, EXPORT_INT8, str(detect_dataset), "onnx")
    assert "exported" in out and "outside Ultralytics' ONNX export" not in out
    int8 = best.with_name(f"{best.stem}_int8.onnx")

    # Every convolution, of our backbone (model.0-2) and of Ultralytics' layers, has one weight scale per channel.
    scales = conv_scales(int8)
    assert any(name.startswith(("/model.0/", "/model.1/", "/model.2/")) for name in scales)
    assert {name: s["weight"].shape for name, s in scales.items() if s["weight"].shape != (s["channels"],)} == {}

    with torch.no_grad():
        expected = YOLO(best).model.float().eval().fuse(verbose=False)(x)[0]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # pinned, so that the comparison does not depend on the machine's cores
    session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
    ours = torch.from_numpy(session.run(None, {"images": x.numpy()})[0])
    # Measured here: boxes within 0.05 px (MobileNetV2) and 0.07 px (ShuffleNetV2), scores within 0.018 and 0.007.
    assert_close_predictions(ours, expected, box_atol=0.5, score_atol=0.05)

    result = run_fresh("yolo", "predict", f"model={int8}", f"source={bus_jpg}", f"imgsz={IMGSZ}", "device=cpu",
                       f"project={tmp_path / 'predict'}", "save=False")  # fmt: skip
    assert "bus.jpg: 64x64" in result.stdout + result.stderr


def test_onnx_int8_export_of_a_stock_model_is_left_per_tensor(detect_dataset, run_fresh, tmp_path):
    run_fresh(sys.executable, "-c", EXPORT_INT8, "yolo11n.yaml", str(detect_dataset), "onnx")
    scales = conv_scales(tmp_path / "yolo11n_int8.onnx")
    assert scales
    assert {name: s["weight"].shape for name, s in scales.items() if s["weight"].shape != ()} == {}


def test_openvino_overflow_fix_says_when_nncf_is_missing_and_swaps_nothing(monkeypatch, log_lines):
    from ultralytics_light.patches.openvino_int8_overflow import overflow_fix_everywhere

    monkeypatch.setitem(sys.modules, "nncf", None)  # `import nncf` raises ImportError
    with overflow_fix_everywhere():
        pass
    assert len(log_lines) == 1 and "NNCF's overflow fix is off for this export" in log_lines[0]
    assert "pip install 'ultralytics-light[export]'" in log_lines[0]


def test_openvino_overflow_fix_is_asked_of_nncf_only_inside_the_export(monkeypatch):
    import nncf
    from nncf.quantization.advanced_parameters import OverflowFix

    from ultralytics_light.patches.openvino_int8_overflow import overflow_fix_everywhere

    seen = []
    monkeypatch.setattr(nncf, "quantize", lambda *args, **kwargs: seen.append(kwargs.get("advanced_parameters")))
    stock = nncf.quantize
    with overflow_fix_everywhere():
        nncf.quantize(None, None)
        nncf.quantize(None, None, advanced_parameters="the release's own")  # kept as the release passed it
    assert nncf.quantize is stock
    assert seen[0].overflow_fix == OverflowFix.ENABLE and seen[1] == "the release's own"
