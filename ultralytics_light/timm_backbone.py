"""A timm classifier cut at its stride 8/16/32 features, one YOLO backbone row per output (P3, P4, P5).

The same rows as torchvision's (backbone.py), with timm providing the network: `timm.create_model(name)`, cut where
its own `feature_info` says each stride ends, so channels and strides are timm's declaration, and the stages are
checked to compute what timm's forward computes. Weights come through timm's own loading: a pretrained tag from the
Hugging Face hub cache (downloaded there when missing), a local file, or none. timm is imported only when a row is
built: `pip install ultralytics-light[timm]`.
"""

from __future__ import annotations

import difflib
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from torch import nn

from ultralytics_light.backbone import FeatureInfo, TorchvisionStage
from ultralytics_light.families import TAPS
from ultralytics_light.pyramid import STRIDES, NotAPyramidError, Unit, check_sequential, nest, trunk
from ultralytics_light.weights import WeightsFileError, WeightsNotAvailableError, is_weights_path

INSTALL = "pip install 'ultralytics-light[timm]'"


def import_timm():
    """timm, or an ImportError that says how to install it."""
    try:
        import timm
    except ImportError:
        raise ImportError(f"TimmBackbone rows need timm, which is not installed: {INSTALL}") from None
    return timm


@lru_cache(maxsize=None)
def timm_units(name: str, owner: str) -> dict[str, list[Unit]]:
    """Where timm's model `name` is cut for each tap: at the modules its feature_info names for strides 8, 16 and 32
    (a shape-only pass on the meta device); a ValueError that says why for any other model."""
    import torch

    timm = import_timm()
    if name not in timm.list_models():
        close = difflib.get_close_matches(name, timm.list_models(), n=5)
        raise ValueError(f"{owner}: unknown timm model {name!r}; similar names: {close}.")
    with torch.device("meta"):
        model = timm.create_model(name, pretrained=False)
    features = {info["reduction"]: info["module"] for info in getattr(model, "feature_info", [])}
    missing = [stride for stride in STRIDES.values() if stride not in features]
    if missing:
        raise NotAPyramidError(
            f"{owner}: timm's {name} has no features at stride {' and '.join(map(str, missing))} (its feature_info "
            f"declares strides {sorted(features)}); a YOLO backbone needs stride 8, 16 and 32 maps."
        )
    units = trunk(model)
    index = {".".join(unit.path): i for i, unit in enumerate(units)}
    unreachable = [features[s] for s in STRIDES.values() if features[s] not in index]
    if unreachable:
        raise NotAPyramidError(
            f"{owner}: timm's {name} computes its features {unreachable} inside modules that do not run in sequence, "
            f"so it cannot be cut into sequential stages."
        )
    ends = [index[features[STRIDES[tap]]] + 1 for tap in TAPS]
    return {tap: units[start:end] for tap, start, end in zip(TAPS, [0, *ends[:2]], ends)}


def is_file(weights: object) -> bool:
    """Whether a weights spec names a file (as for torchvision rows, and timm's .safetensors) rather than a tag."""
    return is_weights_path(weights) or str(weights).endswith(".safetensors")


def pretrained_tag(name: str, weights: object) -> str:
    """The tagged model name a weights spec asks for: timm's default tag for 'DEFAULT', else the given tag."""
    timm = import_timm()
    if weights == "DEFAULT":
        return f"{name}.{timm.models.get_pretrained_cfg(name).tag}"
    return f"{name}.{str(weights).lstrip('.')}"


# The error that showed the Hugging Face hub out of reach, once one has in this process. huggingface_hub retries a
# refused connection with back-off, up to about a minute for each model, so a later model that is not in the cache is
# not looked up there again (its message says so); a new process asks the hub again.
HUB_OUT_OF_REACH: list[Exception] = []


def not_available(tagged: str, error: Exception, asked: bool = True) -> str:
    """Everything a user offline needs: what is missing, where it was looked for, where to get it; `asked` False where
    the hub was not asked because it was out of reach for an earlier model."""
    from huggingface_hub import constants

    repo = import_timm().models.get_pretrained_cfg(tagged).hf_hub_id or tagged
    earlier = "" if asked else "the hub was out of reach for an earlier model in this process, so not asked again: "
    return (
        f"ImageNet weights of timm's {tagged} are not cached and could not be downloaded "
        f"({earlier}{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}).\n"
        f"  repository: https://huggingface.co/{repo}\n"
        f"  looked in:  {constants.HF_HUB_CACHE} (set HF_HOME to use another cache)\n"
        f"  get it:     huggingface-cli download {repo} (where there is network), then copy the cache here\n"
        f"Or give a downloaded file's path as the row's weights, or train from scratch, reading no ImageNet file: "
        f"yolo train ... pretrained=False"
    )


def is_cached(tagged: str) -> bool:
    """Whether the hub cache holds a tagged model name's file."""
    from ultralytics_light.timm_weights import cached_file  # it builds on this module

    return cached_file(tagged) is not None


class TimmStage(TorchvisionStage):
    """One stage of a timm classifier, from the previous tap (or the input) to `tap`: a YOLO backbone row.

    As TorchvisionStage, with timm's network: the builder is any timm model name, the weights a timm pretrained tag
    ('DEFAULT' is timm's default tag for the model, or e.g. 'e2400_r224_in1k'), a path to a state dict of the
    classifier (.safetensors, .pth, .bin), or None; the input normalization is the tag's (`pretrained_cfg` mean/std).
    """

    @staticmethod
    def check_weights(owner: str, builder: str, weights: object) -> None:
        if weights is None or weights == "DEFAULT":
            return
        if is_file(weights):
            if not Path(weights).expanduser().is_file():
                raise ValueError(f"{owner}: weights file {str(weights)!r} does not exist.")
            return
        tags = [tagged.partition(".")[2] for tagged in import_timm().list_pretrained(f"{builder}.*")]
        if str(weights).lstrip(".") not in tags:
            raise ValueError(
                f"{owner}: unknown weights {weights!r} for timm's {builder}; use DEFAULT, one of its pretrained "
                f"tags {tags}, a path to a state dict file, or null to start from random weights."
            )

    @staticmethod
    def build_network(builder: str, weights: object) -> tuple[nn.Module, str | None]:
        timm = import_timm()
        if weights is None:
            return timm.create_model(builder, pretrained=False), None
        if is_file(weights):
            path = Path(weights).expanduser()
            overlay = {"file": str(path)}
            try:
                return timm.create_model(builder, pretrained=True, pretrained_cfg_overlay=overlay), str(path)
            except Exception as error:  # torch, safetensors and timm raise many types; all mean the same to a user
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise WeightsFileError(
                    f"{path} is not a state dict of timm's {builder} ({type(error).__name__}: {first}). Use the file "
                    f"of this model's classifier, as timm saves it (.safetensors or .pth)."
                ) from None
        tagged = pretrained_tag(builder, weights)
        if HUB_OUT_OF_REACH and not is_cached(tagged):
            raise WeightsNotAvailableError(not_available(tagged, HUB_OUT_OF_REACH[0], asked=False))
        try:
            return timm.create_model(tagged, pretrained=True), tagged.partition(".")[2]
        except (OSError, RuntimeError, ValueError) as error:
            if "Error(s) in loading state_dict" in str(error):
                raise
            from huggingface_hub.utils import LocalEntryNotFoundError  # not cached, and the hub out of reach

            if isinstance(error, LocalEntryNotFoundError) and not HUB_OUT_OF_REACH:
                HUB_OUT_OF_REACH.append(error)
            raise WeightsNotAvailableError(not_available(tagged, error)) from None

    @classmethod
    def cut(cls, model: nn.Module, builder: str) -> dict[str, OrderedDict[str, nn.Module]]:
        units = timm_units(builder, cls.__name__)
        stages = {tap: nest(tap_units, model) for tap, tap_units in units.items()}
        check_sequential(model, stages, f"{cls.__name__}({builder})")
        return stages

    @staticmethod
    def normalization(builder: str, model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
        cfg = model.pretrained_cfg  # the loaded tag's: most use ImageNet's mean/std, some 0.5/0.5
        return tuple(cfg["mean"]), tuple(cfg["std"])

    def fuse(self) -> None:
        """As TorchvisionStage's, after switching re-parameterisable blocks (RepViT's, MobileOne's) to their inference
        form with timm's own `reparameterize_model`, which folds their branches and BatchNorms."""
        from timm.utils.model import reparameterize_model  # timm 1.0.10 has it here only

        reparameterize_model(self, inplace=True)
        super().fuse()

    @classmethod
    def feature_info(cls, builder: str):
        units = timm_units(builder, cls.__name__)
        return tuple(FeatureInfo(tap, units[tap][-1].channels, units[tap][-1].stride) for tap in TAPS)
