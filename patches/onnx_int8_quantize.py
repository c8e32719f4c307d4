"""`yolo export format=onnx quantize=8` quantizes our models with weights per channel and averaged activation ranges.

Ultralytics' ONNX Runtime quantizer (`onnx_int8_quantize`, 8.4.66 on) keeps two of ONNX Runtime's defaults that cost
some of our detect models much of their float32 mAP50 (measured in bench/ort-int8-settings.md):
- one scale per weight tensor: the narrow channels of depthwise convolutions, which most of our backbones are made
  of, round to a few levels;
- each activation's range the extreme over all calibration images: a few images peak far above the median image,
  and the typical image keeps a few of the 256 levels (the mean of the images' ranges, ONNX Runtime's
  `CalibMovingAverage`, keeps them).
NNCF (OpenVINO's INT8 export) does both already: weights per channel, activation ranges averaged (`MEAN_MINMAX`).
Everything else of the release's quantizer (which nodes, calibration data, format) stays as it is, and stock models
are quantized exactly as before.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType

from ultralytics_light.patches import Patcher
from ultralytics_light.patches.fuse_backbone import stages

QUANTIZE_STATIC = {"per_channel": True}  # ONNX Runtime's keyword arguments
EXTRA_OPTIONS = {"CalibMovingAverage": True}  # each activation's range: the mean of every image's min and max


@contextmanager
def our_settings() -> Iterator[None]:
    """ONNX Runtime's `quantize_static`, as the release's quantizer imports it when called, with our settings under
    any the release passes itself."""
    from onnxruntime import quantization

    stock = quantization.quantize_static

    def quantize_static(*args, **kwargs):
        extra_options = {**EXTRA_OPTIONS, **(kwargs.pop("extra_options", None) or {})}
        return stock(*args, **{**QUANTIZE_STATIC, **kwargs, "extra_options": extra_options})

    quantization.quantize_static = quantize_static
    try:
        yield
    finally:
        quantization.quantize_static = stock


def exporter_model(caller: FrameType | None):
    """The model of the Exporter whose `export_onnx` is calling the quantizer, else None: the exporter does not hand
    the quantizer its model, and from 8.4.66 to 8.4.190 it calls the quantizer from that method."""
    from ultralytics.engine.exporter import Exporter

    exporter = caller.f_locals.get("self") if caller is not None else None
    return exporter.model if isinstance(exporter, Exporter) else None


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `onnx_int8_quantize`, which the exporter imports from its module each time it quantizes."""
    try:
        from ultralytics.utils.export import onnx as export_onnx
    except ImportError:
        return  # before 8.4.66 there is no ONNX Runtime INT8 export to adapt
    stock = getattr(export_onnx, "onnx_int8_quantize", None)
    if stock is None:
        return

    @functools.wraps(stock)
    def onnx_int8_quantize(*args, **kwargs):
        try:
            ours = bool(stages(exporter_model(sys._getframe(1))))
        except Exception:  # an unusual caller: quantize as the release does
            ours = False
        if not ours:
            return stock(*args, **kwargs)
        with our_settings():
            return stock(*args, **kwargs)

    patcher.replace(export_onnx, "onnx_int8_quantize", onnx_int8_quantize)
