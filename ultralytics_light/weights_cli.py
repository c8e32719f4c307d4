"""`ultralytics-light weights list|fetch|import`: manage the ImageNet files in torchvision's cache."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from torch.hub import HASH_REGEX

from ultralytics_light.cli import Command, Option
from ultralytics_light.families import FAMILIES
from ultralytics_light.weights import (
    WeightsFileError,
    cache_dir,
    cached_file,
    download,
    load_checked,
    read_state_dict,
    weights_enum,
)

BUILDERS = tuple(builder for family in FAMILIES.values() for builder in family.builders)  # what `list` shows


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
            f"unknown variant {builder!r}; use one of {list(BUILDERS)}, or any other torchvision classifier's builder."
        )
    tags = dict(entries(builder))
    if tag not in tags:
        raise ValueError(f"unknown tag {tag!r} for {builder}; use one of {list(tags)}.")
    return builder, tags[tag]


def list_weights(_: dict) -> None:
    """Print every variant and tag, its file, whether it is cached, and its ImageNet top-1."""
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
    header = ("variant", "tag", "file", "cached", "ImageNet top-1")
    widths = [max(len(row[i]) for row in [header, *rows]) + 2 for i in range(len(header) - 1)]
    print(f"cache: {cache_dir()}")
    for row in [header, *rows]:
        print("".join(cell.ljust(width) for cell, width in zip(row, widths)) + row[-1])


def fetch(options: dict) -> None:
    """Download a variant's weights into the cache, with torchvision's progress bar and hash check."""
    builder, entry = parse_spec(options["variant"], options["tag"])
    if not cached_file(entry).is_file():
        download(entry, builder)
    print(f"{builder}:{entry.name} is in the cache: {cached_file(entry)}")


def import_file(options: dict) -> None:
    """Verify a file is one of torchvision's released weights for our variants, and put it in the cache."""
    source = Path(options["file"]).expanduser()
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
            f"the hash in every file name differs. To use your own state dict, give its path as the weights "
            f"argument of the backbone rows in the model YAML."
        )
    builder, entry = known[0]
    from torchvision.models import get_model

    load_checked(get_model(builder, weights=None), builder, read_state_dict(source), source)
    target = cached_file(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copyfile(source, partial)
    partial.replace(target)  # atomic: the cache never holds half a file
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
        "Download a torchvision classifier's ImageNet weights into torchvision's cache (hash-checked).",
        fetch,
        {
            "variant": Option(None, "torchvision builder, e.g. mobilenet_v2, shufflenet_v2_x0_5 (see weights list)"),
            "tag": Option("DEFAULT", "torchvision weights tag, e.g. IMAGENET1K_V1"),
        },
        required=("variant",),
        examples=("weights fetch variant=shufflenet_v2_x0_5", "weights fetch variant=mobilenet_v2 tag=IMAGENET1K_V1"),
    ),
    Command(
        ("weights", "import"),
        "Verify a torchvision weights file you already have (its sha256 and tensors) and copy it into the cache.",
        import_file,
        {"file": Option(None, "path to a file torchvision released, e.g. mobilenet_v2-b0353104.pth")},
        required=("file",),
        examples=("weights import file=~/Downloads/mobilenet_v2-b0353104.pth",),
    ),
)
