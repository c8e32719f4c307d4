"""`ultralytics-light weights list|fetch|import`: manage the ImageNet files in torchvision's cache, and timm's in the
Hugging Face hub cache (timm_weights.py)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from torch.hub import HASH_REGEX

from ultralytics_light import timm_weights
from ultralytics_light.command import Command, Option
from ultralytics_light.families import FAMILIES
from ultralytics_light.timm_backbone import INSTALL
from ultralytics_light.timm_top1 import TOP1
from ultralytics_light.weights import (
    WeightsFileError,
    cache_dir,
    cached_file,
    copy_atomically,
    download,
    load_checked,
    read_state_dict,
    weights_enum,
)

# what `list` shows: our families' classifiers, torchvision's and timm's
BUILDERS = tuple(b for family in FAMILIES.values() if family.library == "torchvision" for b in family.builders)
TIMM_BUILDERS = tuple(b for family in FAMILIES.values() if family.library == "timm" for b in family.builders)


def known_builders() -> tuple[str, ...]:
    """Our families' builders, then every other torchvision classifier (TorchvisionBackbone rows take any)."""
    from ultralytics_light.backbone import classifier_builders

    return tuple(dict.fromkeys((*BUILDERS, *classifier_builders())))


def entries(builder: str) -> list[tuple[str, object]]:
    """(tag, entry) for every tag of a builder, DEFAULT first."""
    enum = weights_enum(builder)
    return [("DEFAULT", enum.DEFAULT), *((entry.name, entry) for entry in enum)]


def parse_spec(builder: str, tag: str = "DEFAULT"):
    """A variant and tag -> (builder, torchvision weights entry); ValueError naming the valid choices."""
    if builder not in known_builders():
        raise ValueError(
            f"unknown variant {builder!r}; use one of {list(BUILDERS + TIMM_BUILDERS)}, or any other torchvision "
            f"classifier's builder or timm model."
        )
    tags = dict(entries(builder))
    if tag not in tags:
        raise ValueError(f"unknown tag {tag!r} for {builder}; use one of {list(tags)}.")
    return builder, tags[tag]


def print_table(cache: Path, rows: list[tuple[str, ...]], file_column: str) -> None:
    """One cache's variants: its folder, then a row per tag."""
    header = ("variant", "tag", file_column, "cached", "ImageNet top-1")
    widths = [max(len(row[i]) for row in [header, *rows]) + 2 for i in range(len(header) - 1)]
    print(f"cache: {cache}")
    for row in [header, *rows]:
        print("".join(cell.ljust(width) for cell, width in zip(row, widths)) + row[-1])


def list_weights(_: dict) -> None:
    """Print every variant and tag, its file, whether it is cached, and its ImageNet top-1: torchvision's families,
    then timm's (their files in the Hugging Face hub cache; top-1 as timm publishes it, timm_top1.py)."""
    rows = [
        (
            builder,
            f"DEFAULT={entry.name}" if tag == "DEFAULT" else tag,
            cached_file(entry).name,
            "yes" if cached_file(entry).is_file() else "no",
            f"{entry.meta['_metrics']['ImageNet-1K']['acc@1']:.2f}%",
        )
        for builder in BUILDERS
        for tag, entry in entries(builder)
    ]
    print_table(cache_dir(), rows, "file")
    print()
    if importlib.util.find_spec("timm") is None:
        print(f"timm's families ({', '.join(TIMM_BUILDERS)}): timm is not installed ({INSTALL})")
        return
    rows = [
        (
            builder,
            tag,
            timm_weights.repository(tagged),
            "yes" if timm_weights.cached_file(tagged) else "no",
            f"{TOP1[tagged]:.2f}%" if tagged in TOP1 else "(not ImageNet-1k)",
        )
        for builder in TIMM_BUILDERS
        for tag, tagged in timm_weights.tags(builder)
    ]
    print_table(timm_weights.cache_dir(), rows, "hub repository")


def fetch(options: dict) -> None:
    """Download a variant's weights into the cache, with torchvision's progress bar and hash check (timm's: from the
    Hugging Face hub, through timm)."""
    if timm_weights.is_timm_model(options["variant"]):
        path = timm_weights.fetch(options["variant"], options["tag"])
        print(f"{options['variant']}:{options['tag']} is in the cache: {path}")
        return
    builder, entry = parse_spec(options["variant"], options["tag"])
    if not cached_file(entry).is_file():
        download(entry, builder)
    print(f"{builder}:{entry.name} is in the cache: {cached_file(entry)}")


def import_file(options: dict) -> None:
    """Verify a file is one of torchvision's released weights for our variants, and put it in the cache (a timm
    file: checked by its tensors against the variant named, and put where timm reads that tag's file)."""
    source = Path(options["file"]).expanduser()
    if options["variant"] is not None:
        if not timm_weights.is_timm_model(options["variant"]):
            raise ValueError(
                f"variant= names a timm model, for a timm file ({INSTALL}); {options['variant']!r} is not one. A "
                f"torchvision file needs no variant: it is recognised by its hash."
            )
        target = timm_weights.import_file(source, options["variant"], options["tag"])
        print(f"{source} holds timm's {options['variant']}; cached as {target}")
        return
    if not source.is_file():
        raise ValueError(f"{source} does not exist.")
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    known = [
        (builder, entry)
        for builder in known_builders()
        for _, entry in entries(builder)[1:]
        if sha256.startswith(HASH_REGEX.search(cached_file(entry).name).group(1))
    ]
    if not known:
        raise WeightsFileError(
            f"{source} (sha256 {sha256[:12]}…) is not one of torchvision's released weights for its classifiers: "
            f"the hash in every file name differs. For a timm file, name its model: variant=<timm model>. To use your "
            f"own state dict, give its path as the weights argument of the backbone rows in the model YAML."
        )
    builder, entry = known[0]
    from torchvision.models import get_model

    load_checked(get_model(builder, weights=None), builder, read_state_dict(source), source)
    target = cached_file(entry)
    copy_atomically(source, target)
    print(f"{source} is {builder}:{entry.name}; cached as {target}")


COMMANDS = (
    Command(
        ("weights", "list"),
        "Every variant of our families and its tags: file, whether it is cached, ImageNet top-1.",
        list_weights,
        examples=("weights list",),
    ),
    Command(
        ("weights", "fetch"),
        "Download a classifier's ImageNet weights: torchvision's into its cache (hash-checked), timm's into the hub's.",
        fetch,
        {
            "variant": Option(None, "torchvision builder or timm model, e.g. mobilenet_v2, lcnet_050 (weights list)"),
            "tag": Option("DEFAULT", "weights tag, e.g. IMAGENET1K_V1 (torchvision), e2400_r224_in1k (timm)"),
        },
        required=("variant",),
        examples=(
            "weights fetch variant=shufflenet_v2_x0_5",
            "weights fetch variant=mobilenet_v2 tag=IMAGENET1K_V1",
            "weights fetch variant=mobilenetv4_conv_small",
        ),
    ),
    Command(
        ("weights", "import"),
        "Verify a weights file you already have (torchvision's: sha256 and tensors; timm's: tensors) and cache it.",
        import_file,
        {
            "file": Option(None, "path to a file torchvision or timm released, e.g. mobilenet_v2-b0353104.pth"),
            "variant": Option(None, "for a timm file: its timm model, e.g. lcnet_050 (torchvision's are recognised)"),
            "tag": Option("DEFAULT", "for a timm file: the pretrained tag it is, e.g. ra2_in1k"),
        },
        required=("file",),
        examples=(
            "weights import file=~/Downloads/mobilenet_v2-b0353104.pth",
            "weights import file=model.safetensors variant=mobilenetv4_conv_small tag=e2400_r224_in1k",
        ),
    ),
)
