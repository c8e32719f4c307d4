"""`yolo export format=openvino quantize=8` quantizes our models with NNCF's overflow fix in every layer.

x86 CPUs without VNNI (AVX2 only: many edge x86 boxes and older servers) multiply INT8 pairs into 16-bit sums that
saturate. NNCF keeps the weights to 7 bits to avoid it, but by default in the model's first layer only, and the
convolutions of our backbones saturate past it: on an AVX2 AMD EPYC, the lite MobileNetV2's INT8 scores were off by up
to 0.34 from float32 with NNCF's default, and by 0.011 with the fix in every layer (tests/test_int8.py). A CPU with
VNNI gives up the weights' eighth bit. Stock models are quantized exactly as the release does, and an
`advanced_parameters` the release passes itself is kept.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from ultralytics_light.backbone import stages
from ultralytics_light.patches import Patcher

EXPORTER = "ultralytics.engine.exporter"
FEATURE = "NNCF's overflow fix in every layer of our models' OpenVINO INT8 exports"


@contextmanager
def overflow_fix_everywhere() -> Iterator[None]:
    """`nncf.quantize`, as the exporter calls it (`import nncf` in its OpenVINO export), with the overflow fix in every
    layer. Replaced only inside this block; without NNCF installed, nothing is replaced, and a warning says so."""
    try:
        import nncf
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix
    except ImportError as error:
        from ultralytics.utils import LOGGER

        LOGGER.warning(
            f"ultralytics-light: NNCF's overflow fix is off for this export ({error}): its INT8 may saturate on x86 "
            "CPUs without VNNI. Install NNCF before exporting: pip install 'ultralytics-light[export]'."
        )
        yield
        return
    stock = nncf.quantize

    @functools.wraps(stock)
    def quantize(*args, **kwargs):
        if kwargs.get("advanced_parameters") is None:
            kwargs["advanced_parameters"] = AdvancedQuantizationParameters(overflow_fix=OverflowFix.ENABLE)
        return stock(*args, **kwargs)

    nncf.quantize = quantize
    try:
        yield
    finally:
        nncf.quantize = stock


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Wrap `Exporter.__call__` (the exporter's entry point, handed the model) once the exporter is imported."""

    def wrap_exporter(module: ModuleType) -> None:
        stock_call = module.Exporter.__call__

        @functools.wraps(stock_call)
        def __call__(self, *args, **kwargs):
            model = args[0] if args else kwargs.get("model")
            fmt = str(getattr(getattr(self, "args", None), "format", "")).lower()
            if fmt != "openvino" or model is None or not stages(model):
                return stock_call(self, *args, **kwargs)
            with overflow_fix_everywhere():
                return stock_call(self, *args, **kwargs)

        patcher.replace(module.Exporter, "__call__", __call__)

    patcher.when_imported(EXPORTER, wrap_exporter, "openvino_int8_overflow", FEATURE)
