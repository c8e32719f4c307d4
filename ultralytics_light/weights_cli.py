"""`python -m ultralytics_light weights list|fetch|import`: manage the ImageNet files in torchvision's cache."""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from torch.hub import HASH_REGEX

from ultralytics_light.families import FAMILIES
from ultralytics_light.weights import (
    WeightsFileError,
    WeightsNotAvailableError,
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


def parse_spec(spec: str):
    """'VARIANT[:TAG]' -> (builder, torchvision weights entry); ValueError naming the valid choices."""
    builder, _, tag = spec.partition(":")
    if builder not in known_builders():
        raise ValueError(
            f"unknown variant {builder!r}; use one of {list(BUILDERS)}, or any other torchvision classifier's builder."
        )
    tags = dict(entries(builder))
    if (tag or "DEFAULT") not in tags:
        raise ValueError(f"unknown tag {tag!r} for {builder}; use one of {list(tags)}.")
    return builder, tags[tag or "DEFAULT"]


def list_weights(_: argparse.Namespace) -> None:
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


def fetch(args: argparse.Namespace) -> None:
    """Download a variant's weights into the cache, with torchvision's progress bar and hash check."""
    builder, entry = parse_spec(args.spec)
    if not cached_file(entry).is_file():
        download(entry, builder)
    print(f"{builder}:{entry.name} is in the cache: {cached_file(entry)}")


def import_file(args: argparse.Namespace) -> None:
    """Verify a file is one of torchvision's released weights for our variants, and put it in the cache."""
    source = Path(args.file).expanduser()
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m ultralytics_light` and the `ultralytics-light` command."""
    parser = argparse.ArgumentParser(prog="ultralytics-light", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    weights = commands.add_parser("weights", help="manage ImageNet weights in torchvision's cache")
    actions = weights.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every variant and tag: file, cached or not, ImageNet top-1").set_defaults(
        run=list_weights
    )
    fetch_parser = actions.add_parser("fetch", help="download VARIANT[:TAG] (default tag DEFAULT) into the cache")
    fetch_parser.add_argument("spec", metavar="VARIANT[:TAG]")
    fetch_parser.set_defaults(run=fetch)
    import_parser = actions.add_parser("import", help="verify a torchvision weights file you have and cache it")
    import_parser.add_argument("file")
    import_parser.set_defaults(run=import_file)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (ValueError, WeightsNotAvailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
