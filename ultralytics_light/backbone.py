"""A torchvision classifier cut at its stride 8/16/32 boundaries, one YOLO backbone row per output (P3, P4, P5)."""

from __future__ import annotations

import contextvars
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from difflib import get_close_matches
from functools import lru_cache
from typing import ClassVar

import torch.fx
from torch import nn

from ultralytics_light import builder_record
from ultralytics_light.backbone_init import pretrained_enabled
from ultralytics_light.families import TAPS, Family
from ultralytics_light.interleave import interleave_shuffles
from ultralytics_light.normalize import ImageNetNormalize
from ultralytics_light.pyramid import NotAPyramidError, Unit, check_sequential, nest, shape_only_model, stage_units
from ultralytics_light.weights import build_torchvision_model, check_weights, is_weights_path, weights_enum


class Handoff:
    """What one model build hands from row to row: the row whose network the row built next continues."""

    source: nn.Module | None = None

    def take(self) -> nn.Module | None:
        source, self.source = self.source, None
        return source


_build: contextvars.ContextVar[Handoff | None] = contextvars.ContextVar("ultralytics_light_build", default=None)


@contextmanager
def model_build() -> Iterator[None]:
    """The scope of one run of Ultralytics' parser (patches/parse_model.py): rows built inside hand their network on
    through it, and nothing of it survives the build, whether it returns or raises."""
    token = _build.set(Handoff())
    try:
        yield
    finally:
        _build.reset(token)


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


@lru_cache(maxsize=None)
def classifier_builders() -> tuple[str, ...]:
    """torchvision's ImageNet classifiers, by builder name."""
    import torchvision
    from torchvision.models import list_models

    return tuple(list_models(module=torchvision.models))


@lru_cache(maxsize=None)
def working_builders() -> tuple[str, ...]:
    """The classifiers that can be cut into stride 8/16/32 stages: recorded for the installed torchvision where it is
    (builder_record.py), else worked out once per process."""
    return builder_record.recorded() or computed_working_builders()


def computed_working_builders() -> tuple[str, ...]:
    """The classifiers that can be cut into stride 8/16/32 stages, from a shape-only pass over each."""
    working = []
    for builder in classifier_builders():
        try:
            stage_units(shape_only_model(builder), builder)
        except NotAPyramidError:
            continue
        working.append(builder)
    return tuple(working)


@lru_cache(maxsize=None)
def pyramid_units(builder: object, owner: str) -> dict[str, list[Unit]]:
    """Where torchvision's `builder` is cut for each tap, from a shape-only pass; a ValueError that says why for
    anything that is not a classifier with a stride 8/16/32 pyramid of sequential stages."""
    if builder not in classifier_builders():
        working = list(working_builders())
        guess = "".join(f" (did you mean {close!r}?)" for close in get_close_matches(str(builder), working, n=1))
        raise ValueError(f"{owner}: unknown torchvision classifier {builder!r}{guess}; builders that work: {working}.")
    try:
        return stage_units(shape_only_model(builder), builder)
    except NotAPyramidError as error:
        raise NotAPyramidError(f"{owner}: {error} Builders that work: {list(working_builders())}.") from None


def cut(model: nn.Module, builder: str, owner: str) -> dict[str, OrderedDict[str, nn.Module]]:
    """The stages of a built classifier, checked to compute what its own forward computes."""
    model_stages = {tap: nest(units, model) for tap, units in pyramid_units(builder, owner).items()}
    check_sequential(model, model_stages, f"{owner}({builder})")
    return model_stages


class FoldingTracer(torch.fx.Tracer):
    """torch.fx's tracer, keeping the norms `foldable` admits as calls of their module (it traces into classes from
    outside torch.nn, such as timm's BatchNormAct2d, by default)."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return foldable(m) or super().is_leaf_module(m, module_qualified_name)


def conv_norm_pairs(module: nn.Module) -> list[tuple[str, str]]:
    """(convolution, BatchNorm) child names of `module` where the BatchNorm takes the convolution's output, and only
    it does: consecutive children of a plain Sequential (`Conv2dNormActivation`), or read off the dataflow of another
    module's forward by torch.fx (ResNet's blocks). A module whose forward fx cannot trace keeps its BatchNorm."""
    children = dict(module.named_children())
    if not any(isinstance(child, nn.BatchNorm2d) for child in children.values()):
        return []
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        names = list(children)
        return [(a, b) for a, b in zip(names, names[1:]) if type(children[a]) is nn.Conv2d and foldable(children[b])]
    try:
        graph = FoldingTracer().trace(module)
    except Exception:  # data-dependent control flow and the like: leave this module as it is
        return []
    calls = [node for node in graph.nodes if node.op == "call_module"]
    pairs = []
    for node in calls:
        source = node.args[0] if node.args else None
        if (
            foldable(children.get(node.target))
            and getattr(source, "op", None) == "call_module"
            and type(children.get(source.target)) is nn.Conv2d
            and len(source.users) == 1
            and sum(call.target == source.target for call in calls) == 1
        ):
            pairs.append((source.target, node.target))
    return pairs


def after_folding(norm: nn.BatchNorm2d) -> nn.Module:
    """What stays of a BatchNorm once folded into its convolution: nothing, or the dropout and activation that timm's
    BatchNormAct2d applies after normalizing."""
    if type(norm) is nn.BatchNorm2d:
        return nn.Identity()
    return nn.Sequential(norm.drop, norm.act)


def foldable(norm: nn.Module) -> bool:
    """A plain BatchNorm2d, or timm's BatchNorm2d with its dropout and activation after it: nothing else is folded."""
    return type(norm) is nn.BatchNorm2d or (
        isinstance(norm, nn.BatchNorm2d) and type(norm).__name__ == "BatchNormAct2d" and hasattr(norm, "act")
    )


class TorchvisionStage(nn.Sequential):
    """One stage of a torchvision classifier, from the previous tap (or the input) to `tap`: a YOLO backbone row.

    Subclasses only name their family (families.py), which declares the row's args. The stages are found from the
    model itself (pyramid.py); children keep torchvision's attribute names, so the state-dict keys of the three stages
    together are torchvision's own (less the classifier). The P3 stage starts with the ImageNet normalization
    torchvision's weights expect.

    A model builds each backbone once: the P3 row builds torchvision's network and hands the P4 row its stage, which
    hands P5 its own. The handoff relies on Ultralytics' parser calling a row's `declared_channels` right before it
    builds the row, inside one `model_build()`; a row that finds no handoff there refuses with a message, and a row
    built by hand outside a model builds a network of its own.

    As mmdet's `norm_eval` for frozen stages: a stage whose parameters are all frozen keeps its BatchNorm layers in
    eval mode through `train()`, so their running statistics stay the pretrained ones.

    Args:
        c1: Input channels: 3 for P3, the previous tap's channels otherwise.
        c2: Output channels; must equal the declared channels of the row's tap.
        *args: The row's YAML args, as its family declares them (e.g. `[variant, tap, weights]`), where weights is a
            torchvision tag ('DEFAULT', 'IMAGENET1K_V1', ...), a path to a torchvision-format state dict, or None.
    """

    family: ClassVar[Family]

    def __init__(self, c1: int, c2: int, *args):
        builder, tap, weights = self.family.read(args)
        if not pretrained_enabled():  # pretrained=False (backbone_init.py): random weights, no file read
            weights = None
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
        self.check_weights(self.name(builder), builder, weights)
        build = _build.get()
        source = build.take() if build is not None else None
        if previous is not None and self.continues(source, builder, previous, weights):
            stages, loaded = source._pending, source.weights
            source._pending = {}
        elif previous is not None and build is not None:
            raise RuntimeError(
                f"{self.name(builder)} {tap}: Ultralytics' parser built this row without calling its "
                f"declared_channels right before, which hands it the {previous} row's network. ultralytics-light "
                f"relies on that order (patches/parse_model.py); this Ultralytics release changed it. Report it to "
                f"ultralytics-light with your ultralytics version."
            )
        else:  # the first row, or a row built by hand outside a model: a network of its own
            model, loaded = self.build_network(builder, weights)
            stages = self.cut(model, builder)
        modules = stages.pop(tap)
        if previous is None:
            modules = OrderedDict(normalize=ImageNetNormalize(*self.normalization(builder, model)), **modules)
        super().__init__(modules)
        self.builder, self.tap, self.weights = builder, tap, loaded  # weights: the tag or file actually loaded
        self.requested = weights
        # what the row starts from, kept in checkpoints (patches/pretrained_arg.py adds a transfer from a checkpoint)
        self.init = (
            "random weights" if loaded is None else f"{'file' if is_weights_path(weights) else 'ImageNet'} {loaded}"
        )
        self.channels, self.stride = info.channels, info.stride
        self._pending = {t: m for t, m in stages.items() if TAPS.index(t) > TAPS.index(tap)}  # for the next rows

    def continues(self, source: nn.Module | None, builder: str, previous: str, weights: object) -> bool:
        """Whether `source` is the previous row of the same network, with the next stage still to hand on."""
        return (
            type(source) is type(self)
            and (source.builder, source.tap, getattr(source, "requested", None)) == (builder, previous, weights)
            and bool(getattr(source, "_pending", None))
        )

    def __getstate__(self) -> dict:
        """Pickle (checkpoints, deepcopy for EMA) without the stages still waiting for the next rows."""
        state = self.__dict__.copy()
        state.pop("_pending", None)
        return state

    @classmethod
    def declared_channels(cls, f: int | list, n: int, layers: list[nn.Module], *args) -> int:
        """For Ultralytics' parser: check a YAML row (its args and where its input comes from), return its channels.

        Args:
            f: The row's 'from'.
            n: The row's repeats.
            layers: The layers built so far.
            *args: The row's args.
        """
        builder, tap, _ = cls.family.read(args)
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
        build = _build.get()
        if build is not None:  # the row the parser builds next takes its stage from here
            build.source = source
        return info.channels

    @staticmethod
    def check_weights(owner: str, builder: str, weights: object) -> None:
        """A ValueError naming the valid choices unless `weights` is a tag of `builder`, a file, or None."""
        check_weights(owner, builder, weights)

    @staticmethod
    def build_network(builder: str, weights: object) -> tuple[nn.Module, str | None]:
        """The classifier with `weights` loaded exactly, and a description of where they came from."""
        return build_torchvision_model(builder, weights)

    @classmethod
    def cut(cls, model: nn.Module, builder: str) -> dict[str, OrderedDict[str, nn.Module]]:
        """The stages of a built classifier, checked to compute what its own forward computes."""
        return cut(model, builder, cls.__name__)

    @staticmethod
    def normalization(builder: str, model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """(mean, std) of the input normalization the classifier's pretrained weights expect."""
        transforms = weights_enum(builder).DEFAULT.transforms()
        return transforms.mean, transforms.std

    @classmethod
    def name(cls, builder: str) -> str:
        """How messages name this backbone, e.g. 'MobileNetV2(mobilenet_v2)'."""
        return f"{cls.__name__}({builder})"

    @classmethod
    def feature(cls, builder: str, tap: str) -> FeatureInfo:
        """The declared output of one tap; a ValueError naming the valid taps for any other."""
        info = cls.feature_info(builder)  # first: an unknown builder says so, not that its tap is wrong
        if tap not in TAPS:
            raise ValueError(f"{cls.name(builder)}: unknown tap {tap!r}; use one of {list(TAPS)}.")
        return info[TAPS.index(tap)]

    @classmethod
    def feature_info(cls, builder: str) -> tuple[FeatureInfo, ...]:
        """Channels and stride of every tap, read off torchvision's model by a shape-only pass on the meta device."""
        units = pyramid_units(builder, cls.__name__)
        return tuple(FeatureInfo(tap, units[tap][-1].channels, units[tap][-1].stride) for tap in TAPS)

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
        """Prepare for inference: fold every BatchNorm into the convolution that feeds it (see `conv_norm_pairs`) and
        compute ShuffleNetV2's channel shuffle as one interleave (interleave.py). The output stays the same."""
        from ultralytics.utils.torch_utils import fuse_conv_and_bn

        for module in list(self.modules()):
            for conv_name, norm_name in conv_norm_pairs(module):
                conv, norm = getattr(module, conv_name), getattr(module, norm_name)
                setattr(module, conv_name, fuse_conv_and_bn(conv, norm))
                setattr(module, norm_name, after_folding(norm))
        interleave_shuffles(self)

    def is_fused(self) -> bool:
        """Whether no BatchNorm is left in this stage."""
        return not self.batchnorms()

    def extra_repr(self) -> str:
        return f"builder={self.builder!r}, tap={self.tap!r}, init={getattr(self, 'init', self.weights)!r}"


def stages(model: nn.Module) -> list[TorchvisionStage]:
    """Our backbone rows in a model (timm's derive from TorchvisionStage too), in module order."""
    return [m for m in model.modules() if isinstance(m, TorchvisionStage)]
