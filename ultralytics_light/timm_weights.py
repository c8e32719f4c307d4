"""The ImageNet files of timm's classifiers in the Hugging Face hub cache: list, fetch and import them, for
`ultralytics-light weights` (weights_cli.py). timm reads a pretrained tag's file from its hub repository
(`timm/<model>.<tag>`), as `model.safetensors` or, for older repositories, `pytorch_model.bin`.
"""

from __future__ import annotations

from pathlib import Path

from ultralytics_light.timm_backbone import TimmStage, import_timm, not_available, pretrained_tag
from ultralytics_light.weights import WeightsFileError, WeightsNotAvailableError, copy_atomically

FILES = ("model.safetensors", "pytorch_model.bin")  # what timm looks for in a repository, in this order
LOCAL_COMMIT = "0" * 40  # the snapshot an imported file goes to when the cache knows no commit of its repository


def cache_dir() -> Path:
    """huggingface_hub's cache folder (HF_HOME/hub, or HF_HUB_CACHE)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repository(tagged: str) -> str:
    """The hub repository of a tagged model name, e.g. 'timm/lcnet_050.ra2_in1k'."""
    return import_timm().models.get_pretrained_cfg(tagged).hf_hub_id or f"timm/{tagged}"


def snapshot_file(cache: Path, tagged: str, filename: str) -> Path:
    """Where huggingface_hub's cache `cache` keeps `filename` of a tag's repository, as it reads it offline: in the
    snapshot its refs/main names (LOCAL_COMMIT, written there, where the cache knows no commit of the repository). The
    folders are made, the file is not."""
    repo = cache / f"models--{repository(tagged).replace('/', '--')}"
    ref = repo / "refs" / "main"
    if not ref.is_file():
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(LOCAL_COMMIT)
    target = repo / "snapshots" / ref.read_text().strip() / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def cached_file(tagged: str) -> Path | None:
    """The cached file of a tagged model name, or None."""
    from huggingface_hub import try_to_load_from_cache

    for name in FILES:
        path = try_to_load_from_cache(repository(tagged), name)
        if isinstance(path, str):
            return Path(path)
    return None


def tags(builder: str) -> list[tuple[str, str]]:
    """(tag as shown, tagged model name) of every pretrained tag of a timm model, DEFAULT first."""
    default = pretrained_tag(builder, "DEFAULT")
    listed = import_timm().list_pretrained(f"{builder}.*")
    return [(f"DEFAULT={default.partition('.')[2]}", default), *((t.partition(".")[2], t) for t in listed)]


def is_timm_model(builder: str) -> bool:
    """Whether timm is installed and knows a model of this name."""
    try:
        return builder in import_timm().list_models()
    except ImportError:
        return False


def tagged_name(builder: str, tag: str) -> str:
    """The tagged model name of a variant and tag; ValueError naming the valid tags otherwise."""
    TimmStage.check_weights(builder, builder, tag)
    return pretrained_tag(builder, tag)


def fetch(builder: str, tag: str = "DEFAULT") -> Path:
    """Download a tag's file into the hub cache (timm's own download); the cached file."""
    tagged = tagged_name(builder, tag)
    if cached_file(tagged) is None:
        try:
            import_timm().create_model(tagged, pretrained=True)
        except (OSError, RuntimeError, ValueError) as error:
            raise WeightsNotAvailableError(not_available(tagged, error)) from None
    return cached_file(tagged)


def import_file(source: Path, builder: str, tag: str = "DEFAULT") -> Path:
    """Check that `source` is a state dict of timm's `builder` (every tensor, by loading it), then copy it into the hub
    cache where timm reads the tag's file, offline too; the cached file.

    The hub publishes no checksum that works offline, so the file is checked by its tensors, not by its hash.
    """
    tagged = tagged_name(builder, tag)
    if not source.is_file():
        raise ValueError(f"{source} does not exist.")
    if source.suffix not in (".safetensors", ".bin", ".pth", ".pt"):
        raise WeightsFileError(f"{source}: a timm weights file is .safetensors, .bin or .pth.")
    TimmStage.build_network(builder, str(source))  # a WeightsFileError naming both unless every tensor fits
    target = snapshot_file(cache_dir(), tagged, FILES[source.suffix != ".safetensors"])
    copy_atomically(source, target)
    return target
