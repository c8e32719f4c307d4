"""A torchvision classifier cut at its stride 8/16/32 boundaries, one YOLO backbone row per output (P3, P4, P5)."""

from __future__ import annotations

import inspect
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from ultralytics_light.normalize import ImageNetNormalize
from ultralytics_light.weights import build_torchvision_model, check_weights, weights_enum

TAPS = ("P3", "P4", "P5")
PROBE_SIZE = 224  # any multiple of 32; shapes are probed on the meta device, so nothing is computed


def previous_tap(tap: str) -> str | None:
    """The tap a stage starts from; None (the image) for the first."""
    index = TAPS.index(tap)
    return TAPS[index - 1] if index else None


@dataclass(frozen=True)
class FeatureInfo:
    """One output a backbone declares, like an entry of timm's `feature_info`.

    Args:
        tap: Output name, 'P3', 'P4' or 'P5'.
        channels: Channels of the output feature map.
        stride: Input pixels per output pixel.
    """

    tap: str
    channels: int
    stride: int


class TorchvisionStage(nn.Sequential):
    """One stage of a torchvision classifier, from the previous tap (or the input) to `tap`.

    Subclasses say which torchvision modules make up each stage (`stages`). Children keep torchvision's attribute
    names, so the state-dict keys of the three stages together are torchvision's own (less the classifier). The P3
    stage starts with the ImageNet normalization torchvision's weights expect.

    As mmdet's `norm_eval` for frozen stages: a stage whose parameters are all frozen keeps its BatchNorm layers in
    eval mode through `train()`, so their running statistics stay the pretrained ones.

    Args:
        c1: Input channels: 3 for P3, the previous tap's channels otherwise.
        c2: Output channels; must equal the declared channels of `tap`.
        builder: torchvision builder name, e.g. 'mobilenet_v2'.
        tap: Which output this row produces: 'P3', 'P4' or 'P5'.
        weights: torchvision weights tag ('DEFAULT', 'IMAGENET1K_V1', ...), a path to a torchvision-format state dict,
            or None for random weights.
    """

    builders: tuple[str, ...]  # the torchvision builders a subclass wraps

    def __init__(self, c1: int, c2: int, builder: str, tap: str, weights: str | None):
        info, previous = self.feature(builder, tap), previous_tap(tap)
        expected_c1 = 3 if previous is None else self.feature(builder, previous).channels
        if c1 != expected_c1:
            takes = "an RGB image" if previous is None else f"the {previous} row of the same backbone"
            raise ValueError(
                f"{self.name(builder)} {tap}: input has {c1} channels, but this row takes {takes} "
                f"({expected_c1} channels). Check the row's 'from' index."
            )
        if c2 != info.channels:
            raise ValueError(f"{self.name(builder)} {tap}: declared {info.channels} output channels, got c2={c2}.")
        check_weights(self.name(builder), builder, weights)
        model, source = build_torchvision_model(builder, weights)
        modules = self.stages(model)[tap]
        if previous is None:
            transforms = weights_enum(builder).DEFAULT.transforms()
            modules = {"normalize": ImageNetNormalize(transforms.mean, transforms.std), **modules}
        super().__init__(OrderedDict(modules))
        self.builder, self.tap, self.weights = builder, tap, source  # source: the tag or file actually loaded
        self.channels, self.stride = info.channels, info.stride

    @staticmethod
    def stages(model: nn.Module) -> dict[str, dict[str, nn.Module]]:
        """For each tap, the named torchvision modules that compute it from the previous tap."""
        raise NotImplementedError

    @classmethod
    def spec(cls, *args) -> tuple[str, str]:
        """(torchvision builder, tap) of a YAML row's args; raises ValueError for invalid ones."""
        raise NotImplementedError

    @classmethod
    def declared_channels(cls, f: int | list, n: int, layers: list[nn.Module], *args) -> int:
        """For Ultralytics' parser: check a YAML row (its args and where its input comes from), return its channels.

        Args:
            f: The row's 'from'.
            n: The row's repeats.
            layers: The layers built so far.
            *args: The row's args.
        """
        try:
            builder, tap = cls.spec(*args)
        except TypeError:  # wrong number of args
            names = ", ".join(inspect.signature(cls.spec).parameters)
            raise ValueError(f"{cls.__name__}: a YAML row's args are [{names}], got {list(args)}.") from None
        info = cls.feature(builder, tap)
        row = f"{cls.name(builder)} {tap}"
        if n != 1:
            raise ValueError(f"{row}: a backbone row is built once; set its repeats to 1, not {n}.")
        if not isinstance(f, int):
            raise ValueError(f"{row}: 'from' must be a single layer, got {f}.")
        source = layers[f] if layers else None  # from -1 on the first row: the image
        previous = previous_tap(tap)
        expected = "the input image" if previous is None else f"the {previous} row of {cls.name(builder)}"
        fits = (
            source is None
            if previous is None
            else (type(source) is cls and source.builder == builder and source.tap == previous)
        )
        if not fits:
            found = (
                "the input image"
                if source is None
                else (
                    f"the {source.tap} row of {source.name(source.builder)}"
                    if isinstance(source, TorchvisionStage)
                    else f"layer {getattr(source, 'i', f)} ({type(source).__name__})"
                )
            )
            raise ValueError(f"{row} must take {expected} as input, but its 'from' ({f}) is {found}.")
        return info.channels

    @classmethod
    def name(cls, builder: str) -> str:
        """How messages name this backbone, e.g. 'MobileNetV2(mobilenet_v2)'."""
        return f"{cls.__name__}({builder})"

    @classmethod
    def feature(cls, builder: str, tap: str) -> FeatureInfo:
        """The declared output of one tap; a ValueError naming the valid taps for any other."""
        if tap not in TAPS:
            raise ValueError(f"{cls.name(builder)}: unknown tap {tap!r}; use one of {list(TAPS)}.")
        return cls.feature_info(builder)[TAPS.index(tap)]

    @classmethod
    @lru_cache(maxsize=None)
    def feature_info(cls, builder: str) -> tuple[FeatureInfo, ...]:
        """Channels and stride of every tap, read off torchvision's model by a shape-only pass on the meta device."""
        from torchvision.models import get_model

        with torch.device("meta"):
            model = get_model(builder, weights=None).eval()
            x = torch.empty(1, 3, PROBE_SIZE, PROBE_SIZE)
            info = []
            for tap, modules in cls.stages(model).items():
                for module in modules.values():
                    x = module(x)
                info.append(FeatureInfo(tap, x.shape[1], PROBE_SIZE // x.shape[-1]))
        return tuple(info)

    def batchnorms(self) -> list[nn.modules.batchnorm._BatchNorm]:
        """The BatchNorm layers of this stage (none once fused)."""
        return [m for m in self.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def train(self, mode: bool = True) -> TorchvisionStage:
        """Set train/eval mode; BatchNorm of a fully frozen stage stays in eval mode."""
        super().train(mode)
        if mode and not any(p.requires_grad for p in self.parameters()):
            for norm in self.batchnorms():
                norm.eval()
        return self

    def fuse(self) -> None:
        """Fold every BatchNorm into the convolution before it, for inference (torchvision puts each right after
        its convolution in a Sequential: `Conv2dNormActivation`, the residual branches)."""
        from ultralytics.utils.torch_utils import fuse_conv_and_bn

        for sequential in self.modules():
            if not isinstance(sequential, nn.Sequential):
                continue
            names = list(sequential._modules)
            for conv_name, norm_name in zip(names, names[1:]):
                conv, norm = sequential._modules[conv_name], sequential._modules[norm_name]
                if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                    sequential._modules[conv_name] = fuse_conv_and_bn(conv, norm)
                    sequential._modules[norm_name] = nn.Identity()

    def is_fused(self) -> bool:
        """Whether no BatchNorm is left in this stage."""
        return not self.batchnorms()

    @classmethod
    def without_pretrained(cls, args: list) -> list:
        """This row's YAML args with weights null, for rebuilding a model whose own weights are then loaded."""
        names = list(inspect.signature(cls.__init__).parameters)[3:]  # after self, c1, c2
        index = names.index("weights")
        args = [*args, *[None] * (index + 1 - len(args))]
        args[index] = None
        return args

    def extra_repr(self) -> str:
        return f"builder={self.builder!r}, tap={self.tap!r}, weights={self.weights!r}"
