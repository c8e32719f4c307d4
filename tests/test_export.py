"""Deployment: fused inference folds every BatchNorm, and exports (ONNX, TorchScript, OpenVINO, LiteRT float32 and INT8,
NCNN) give PyTorch's detections in a fresh interpreter."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch
from helpers import (
    EDGE_MODELS,
    IMGSZ,
    assert_close_predictions,
    assert_same_detections,
    bus_input,
    export_varied,
)
from ultralytics import YOLO

# Every format the edge models ship in, from one fresh interpreter: each format given, then LiteRT INT8 calibrated on
# the data set (argv[2]).
EXPORT_EDGE = f"""
import sys
from ultralytics import YOLO

for fmt in sys.argv[3:]:
    print("exported", YOLO(sys.argv[1]).export(format=fmt, imgsz={IMGSZ}))
print("exported", YOLO(sys.argv[1]).export(format="litert", imgsz={IMGSZ}, quantize=8, data=sys.argv[2]))
"""

# Ultralytics' own predictor on each export given, in a fresh interpreter (what `yolo predict model=EXPORT` runs)
PREDICT_EACH = f"""
import sys
from ultralytics import YOLO

for exported in sys.argv[2:]:
    YOLO(exported, task="detect").predict(sys.argv[1], imgsz={IMGSZ}, device="cpu", save=False)
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


def test_fuse_folds_every_batchnorm_and_keeps_the_output(built, bus_jpg):
    _, checkpoint = built
    model = YOLO(checkpoint).model.float().eval()
    fused = copy.deepcopy(model).fuse(verbose=False)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) and not model.is_fused()
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in fused.modules())
    assert fused.is_fused()
    x = bus_input(bus_jpg)
    with torch.no_grad():
        expected, ours = model(x)[0], fused(x)[0]
    assert_close_predictions(ours, expected, box_atol=1e-3, score_atol=1e-4)  # px, score


def assert_onnx_gives_pytorchs_detections(onnx_file: Path, x: torch.Tensor, expected: torch.Tensor) -> None:
    """ONNX Runtime's predictions of an export equal PyTorch's, and the graph normalizes its input (Sub, Div)."""
    import onnx
    import onnxruntime as ort

    assert {"Sub", "Div"} <= {node.op_type for node in onnx.load(str(onnx_file)).graph.node}
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    ours = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    assert_same_detections(ours, expected, score_atol=1e-3)


def fused_predictions(checkpoint: Path, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return YOLO(checkpoint).model.float().eval().fuse(verbose=False)(x)[0]


def test_onnx_export_gives_pytorchs_predictions(built, bus_jpg):
    """Every family's rows export to ONNX, the format the benches time (exported here; fresh interpreters and the
    boxes after NMS below, for trained models of each kind of row): every anchor's box and scores, and the graph
    normalizes its input (Sub, Div)."""
    import onnx
    import onnxruntime as ort

    _, checkpoint = built
    x = bus_input(bus_jpg)
    exported = YOLO(checkpoint).export(format="onnx", imgsz=IMGSZ)
    assert {"Sub", "Div"} <= {node.op_type for node in onnx.load(exported).graph.node}
    session = ort.InferenceSession(exported, providers=["CPUExecutionProvider"])
    ours = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    assert_close_predictions(ours, fused_predictions(checkpoint, x), box_atol=1e-2, score_atol=1e-3)


@pytest.mark.parametrize("trained", EDGE_MODELS, indirect=True)
def test_edge_exports_from_a_fresh_interpreter_give_pytorchs_detections(
    trained, detect_dataset, bus_jpg, run_fresh, tmp_path
):
    """The edge models through every format they ship in, exported by a fresh interpreter, and Ultralytics' predictor
    on the exports in another (what stays of our code in an export is the same for every family: the ONNX test covers
    each)."""
    model_name, best = trained
    formats = ["onnx", "torchscript", "openvino", "litert"] + ["ncnn"] * ("shufflenet" in model_name)
    best, x, out = export_varied(best, bus_jpg, run_fresh, tmp_path, EXPORT_EDGE, str(detect_dataset), *formats)
    assert out.count("exported") == len(formats) + 1
    expected = fused_predictions(best, x)
    assert_onnx_gives_pytorchs_detections(best.with_suffix(".onnx"), x, expected)

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

    assert_same_detections(litert_predictions(best.with_suffix(".tflite"), x), expected, score_atol=1e-3)
    xnnpack = model_name not in XNNPACK_INT8_FAILS
    int8 = litert_predictions(best.with_name(f"{best.stem}_int8.tflite"), x, xnnpack)
    # INT8 through the box branch too: measured here within 0.37 px (at 64 px) and scores within 0.016.
    assert_close_predictions(int8, expected, box_atol=1.0, score_atol=0.05)

    exports = [best.with_suffix(".onnx"), best.with_suffix(".tflite")]
    exports += [best.parent / f"{best.stem}_ncnn_model"] if "ncnn" in formats else []
    result = run_fresh(sys.executable, "-c", PREDICT_EACH, str(bus_jpg), *map(str, exports))
    assert (result.stdout + result.stderr).count("bus.jpg: 64x64") == len(exports)
