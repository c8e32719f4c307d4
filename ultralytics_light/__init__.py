"""ultralytics-light: torchvision MobileNetV2 and ShuffleNetV2 backbones for stock Ultralytics YOLO.

Importing this package is cheap (no torch): it only arranges for our patches to be applied when Ultralytics' task
parser is imported. `ultralytics_light.pth` imports it at interpreter start-up, so nobody has to.
"""

from ultralytics_light._startup import install

__version__ = "0.1.0"
__all__ = ("MobileNetV2", "ShuffleNetV2", "__version__")


def __getattr__(name: str):
    """Import the backbone modules (and so torch) only when one is asked for."""
    if name == "MobileNetV2":
        from ultralytics_light.mobilenetv2 import MobileNetV2

        return MobileNetV2
    if name == "ShuffleNetV2":
        from ultralytics_light.shufflenetv2 import ShuffleNetV2

        return ShuffleNetV2
    raise AttributeError(f"module 'ultralytics_light' has no attribute '{name}'")


install()
