"""ultralytics-light: torchvision ImageNet backbones (MobileNetV2, ShuffleNetV2, MobileNetV3, EfficientNet, RegNet,
MNASNet, ResNet, or any classifier by builder name), and timm's (MobileNetV4, LCNet, RepViT, GhostNetV2, or any timm
classifier by name), for stock Ultralytics YOLO.

Importing this package is cheap (no torch): it only arranges for our patches to be applied when Ultralytics' task
parser is imported. `ultralytics_light.pth` imports it at interpreter start-up, so nobody has to.
"""

from ultralytics_light._startup import install
from ultralytics_light.backbone_init import pretrained

__version__ = "0.1.0"
# Every family's row class (families.FAMILIES, imported on first use: a test keeps the two equal), written out so
# that start-up, which imports this module in every Python process, does not import the registry.
FAMILY_NAMES = (
    "MobileNetV2", "ShuffleNetV2", "MobileNetV3", "EfficientNet", "RegNet", "MNASNet", "ResNet", "MobileNetV4", "LCNet",
    "RepViT", "GhostNetV2", "TorchvisionBackbone", "TimmBackbone",
)  # fmt: skip
__all__ = (*FAMILY_NAMES, "__version__", "pretrained")


def __getattr__(name: str):
    """Import a backbone row class (and so torch) only when one is asked for."""
    from ultralytics_light.families import FAMILIES, family_class

    if name in FAMILIES:
        return family_class(FAMILIES[name])
    raise AttributeError(f"module 'ultralytics_light' has no attribute '{name}'")


install()
