"""`yolo export format=onnx quantize=8` quantizes our models with weights per channel and averaged activation ranges.

Ultralytics' ONNX Runtime quantizer (`onnx_int8_quantize`, 8.4.60 on) keeps two of ONNX Runtime's defaults that cost
some of our detect models much of their float32 mAP50 (measured in bench/ort-int8-settings.md):
- one scale per weight tensor: the narrow channels of depthwise convolutions, which most of our backbones are made
  of, round to a few levels;
- each activation's range the extreme over all calibration images: a few images peak far above the median image,
  and the typical image keeps a few of the 256 levels (the mean of the images' ranges, ONNX Runtime's
  `CalibMovingAverage`, keeps them).
NNCF (OpenVINO's INT8 export) does both already: weights per channel, activation ranges averaged (`MEAN_MINMAX`).
And weights in 7 bits (`reduce_range`): x86 CPUs without VNNI (AVX2 only) multiply INT8 pairs into 16-bit sums that
saturate with 8-bit weights. On an AVX2 AMD EPYC the lite MobileNetV2's INT8 scores were off by up to 0.18 from
float32 with 8-bit weights, 0.019 with 7-bit ones (tests/test_int8.py); a CPU with VNNI gives up the eighth bit.
Everything else of the release's quantizer (which nodes, calibration data, format) stays as it is, and stock models
are quantized exactly as before.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from ultralytics_light.backbone import stages
from ultralytics_light.patches import Patcher, feature_off, installed_version, target_missing

QUANTIZE_STATIC = {"per_channel": True, "reduce_range": True}  # ONNX Runtime's keyword arguments
EXTRA_OPTIONS = {"CalibMovingAverage": True}  # each activation's range: the mean of every image's min and max
EXPORTER = "ultralytics.engine.exporter"
ONNX_INT8 = "8.4.60"  # the release that brought ONNX Runtime INT8 export (ultralytics.utils.export.onnx)
FEATURE = "our ONNX Runtime INT8 settings (format=onnx quantize=8: weights per channel in 7 bits, averaged ranges)"
# The model Ultralytics' exporter is exporting now, set by our wrapper of `Exporter.__call__` (the exporter's entry
# point, handed the model): the quantizer it calls is not handed the model.
_exporting = contextvars.ContextVar("ultralytics_light_exporting")


@contextmanager
def our_settings() -> Iterator[None]:
    """ONNX Runtime's `quantize_static`, as the release's quantizer imports it when called, with our settings under
    any the release passes itself. Replaced only inside this block."""
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


def unknown_model_warning() -> str:
    return (
        "ultralytics-light: ONNX Runtime INT8 quantization was called outside Ultralytics' ONNX export, so we cannot "
        "tell which model it quantizes: it ran with Ultralytics' settings (weights per tensor, activation ranges the "
        "extremes over the calibration images), which cost our models accuracy. Export with `yolo export "
        "format=onnx quantize=8` to get weights per channel and averaged ranges."
    )


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `onnx_int8_quantize`, which the exporter imports from its module each time it quantizes, and (once the
    exporter is imported: it imports the task parser, so not now) `Exporter.__call__`, which tells it the model."""
    try:
        from ultralytics.utils.export import onnx as export_onnx
    except ImportError:
        export_onnx = None
    stock = getattr(export_onnx, "onnx_int8_quantize", None)
    if stock is None:
        return target_missing(
            "onnx_int8_quantize",
            "ONNX Runtime INT8 export",
            ONNX_INT8,
            FEATURE,
            f"ultralytics {installed_version('ultralytics')} has no ultralytics.utils.export.onnx.onnx_int8_quantize, "
            "so our models' ONNX INT8 exports get Ultralytics' own settings, which cost them accuracy",
        )
    # our_settings() swaps quantize_static in onnxruntime, where only an import at call time finds it
    if hasattr(export_onnx, "quantize_static"):
        return feature_off(
            "onnx_int8_quantize",
            FEATURE,
            "this release binds onnxruntime's quantize_static when its export module is imported, where our settings "
            "cannot reach it, so our models' ONNX INT8 exports get Ultralytics' own settings",
        )

    @functools.wraps(stock)
    def onnx_int8_quantize(*args, **kwargs):
        model = _exporting.get(None)
        if model is None:
            from ultralytics.utils import LOGGER

            LOGGER.warning(unknown_model_warning())
            return stock(*args, **kwargs)
        if not stages(model):  # a stock model: quantized exactly as the release does
            return stock(*args, **kwargs)
        with our_settings():
            return stock(*args, **kwargs)

    def wrap_exporter(module: ModuleType) -> None:
        stock_call = module.Exporter.__call__

        @functools.wraps(stock_call)
        def __call__(self, *args, **kwargs):
            token = _exporting.set(args[0] if args else kwargs.get("model"))
            try:
                return stock_call(self, *args, **kwargs)
            finally:
                _exporting.reset(token)

        patcher.replace(module.Exporter, "__call__", __call__)

    patcher.replace(export_onnx, "onnx_int8_quantize", onnx_int8_quantize)
    patcher.when_imported(EXPORTER, wrap_exporter, "onnx_int8_quantize", FEATURE)
