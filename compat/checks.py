"""The in-process checks of the compatibility matrix, each run by compat/matrix.py in a fresh interpreter whose
PYTHONPATH puts one Ultralytics release before the main environment's. Each prints one line: `RESULT <json>`.

    python compat/checks.py stock yolo11n.yaml
    python compat/checks.py yamls
    python compat/checks.py cli train model=yolo11n-shufflenetv2.yaml data=...
    python compat/checks.py reload path/to/best.pt path/to/bus.jpg
    python compat/checks.py onnx path/to/best.pt path/to/best.onnx
    python compat/checks.py int8 path/to/best_int8.onnx
    python compat/checks.py init path/to/best.pt
    python compat/checks.py reformat yolo11n-shufflenetv2.yaml
"""

from __future__ import annotations

import json
import sys


def report(**result) -> None:
    """Print the result, with the Ultralytics release that produced it."""
    import ultralytics

    print("RESULT", json.dumps({**result, "version": ultralytics.__version__}), flush=True)


def stock(name: str) -> None:
    """A stock model builds and runs a forward pass."""
    import torch
    from ultralytics import YOLO

    model = YOLO(name).model.eval()
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 64))
    report(ok=True, detail=type(model).__name__)


def failure(error: BaseException) -> dict:
    """What the matrix decides on: the exception's class name (its message only for the table)."""
    return {"ok": False, "error": type(error).__name__, "detail": f"{type(error).__name__}: {error}"}


def yamls() -> None:
    """Every shipped YAML at scale n: {"ok": True}, or the failure it was refused with."""
    from ultralytics import YOLO

    from ultralytics_light.cfg import model_names

    outcomes = {}
    for name in model_names():
        scaled = name.replace("-", "n-", 1)  # yolo11-mobilenetv2.yaml -> yolo11n-mobilenetv2.yaml
        try:
            YOLO(scaled)
            outcomes[scaled] = {"ok": True}
        except Exception as error:
            outcomes[scaled] = failure(error)
    report(outcomes=outcomes)


def cli(*args: str) -> None:
    """`yolo ARGS` as the console script runs it (its entry point on sys.argv), a failure reported by exception type."""
    sys.argv = ["yolo", *args]  # before Ultralytics is imported: it keeps a copy of them
    import ultralytics.cfg

    try:
        ultralytics.cfg.entrypoint()
    except Exception as error:
        report(**failure(error))
    else:
        report(ok=True)


def reload(best: str, image: str) -> None:
    """best.pt loads in a fresh interpreter with our rows, predicts, and (where the release has restricted loading)
    also loads restricted."""
    import ultralytics.nn.tasks as tasks
    from ultralytics import YOLO

    model = YOLO(best)
    rows = [f"{type(row).__module__}.{type(row).__name__}" for row in model.model.model[:3]]
    boxes = model.predict(image, imgsz=64, device="cpu", verbose=False)[0].boxes
    restricted = hasattr(tasks, "_SafeLoad")
    if restricted:
        ckpt, _ = tasks.torch_safe_load(best, safe_only=True)
        assert type(ckpt["model"].model[0]).__module__.startswith("ultralytics_light."), ckpt["model"].model[0]
    report(ok=all(row.startswith("ultralytics_light.") for row in rows), rows=rows, boxes=len(boxes),
           restricted=restricted)  # fmt: skip


def onnx(best: str, exported: str) -> None:
    """The ONNX export's raw predictions equal fused PyTorch's: boxes to 0.01 px, scores to 1e-3."""
    import onnxruntime as ort
    import torch
    from ultralytics import YOLO

    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = YOLO(best).model.float().eval().fuse()(x)[0]
    session = ort.InferenceSession(exported, providers=["CPUExecutionProvider"])
    ours = torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    box, score = (ours - expected)[:, :4].abs().max().item(), (ours - expected)[:, 4:].abs().max().item()
    report(ok=ours.shape == expected.shape and box <= 1e-2 and score <= 1e-3, box=box, score=score)


def int8(exported: str) -> None:
    """Every convolution of the ONNX Runtime INT8 export has its weights scaled per output channel, as our patch to
    Ultralytics' quantizer asks of ONNX Runtime (patches/onnx_int8_quantize.py)."""
    import onnx
    from onnx.numpy_helper import to_array

    graph = onnx.load(exported).graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    per_channel = 0
    for conv in convs:
        weight, scale = (to_array(initializers[name]) for name in producers[conv.input[1]].input[:2])
        per_channel += scale.shape == (weight.shape[0],)
    report(ok=bool(convs) and per_channel == len(convs), convs=len(convs), per_channel=per_channel)


def init(best: str) -> None:
    """What the backbone rows of a checkpoint trained with pretrained=False started from: random weights, and its
    YAML loads none."""
    import torch

    model = torch.load(best, map_location="cpu", weights_only=False)["model"]
    rows = model.model[:3]
    starts = [getattr(row, "init", "no init recorded") for row in rows]
    weights = [row[3][-1] for row in model.yaml["backbone"][:3]]
    report(ok=starts == ["random weights"] * 3 and weights == [None] * 3, init=starts, weights=weights)


def reformat(name: str) -> None:
    """The parse_model patch applied to this release's parse_model as `ast.unparse` rewrites it (comments gone, every
    statement re-spaced) builds `name` exactly as the patch applied to the release's own source does."""
    import ast
    import inspect
    import textwrap

    import ultralytics.nn.tasks as tasks

    from ultralytics_light.patches.parse_model import patched_parse_model

    def shapes() -> dict:
        return {k: list(v.shape) for k, v in tasks.DetectionModel(name, verbose=False).state_dict().items()}

    expected = shapes()
    source = ast.unparse(ast.parse(textwrap.dedent(inspect.getsource(tasks.parse_model.__wrapped__))))
    tasks.parse_model = patched_parse_model(tasks, source)
    report(ok=shapes() == expected, tensors=len(expected))


if __name__ == "__main__":
    checks = {"stock": stock, "yamls": yamls, "cli": cli, "reload": reload, "onnx": onnx, "int8": int8, "init": init}
    checks["reformat"] = reformat
    checks[sys.argv[1]](*sys.argv[2:])
