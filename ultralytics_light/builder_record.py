"""Which torchvision classifiers can be cut into stride 8/16/32 stages, recorded per torchvision release.

Finding out takes a shape-only pass over each of torchvision's ~80 classifiers (15 s and more on a 2-core CPU): a
user who mistypes a builder would wait that long for the message that lists the ones that work. The record holds the
answer for the torchvision releases it names; any other release is worked out once per process. After a torchvision
or `pyramid.py` change, record again with `python -m ultralytics_light.builder_record` (a test compares the two).
"""

from __future__ import annotations

import json
from pathlib import Path

RECORD = Path(__file__).with_name("working_builders.json")


def torchvision_release() -> str:
    """The installed torchvision's version, without its local part ('0.29.1+cu130' is '0.29.1')."""
    import torchvision

    return torchvision.__version__.split("+")[0]


def recorded() -> tuple[str, ...] | None:
    """The recorded working builders for the installed torchvision; None where it is not recorded."""
    builders = json.loads(RECORD.read_text()).get(torchvision_release()) if RECORD.is_file() else None
    return tuple(builders) if builders is not None else None


def record() -> Path:
    """Works the list out for the installed torchvision and writes it beside the other releases' lists."""
    from ultralytics_light.backbone import computed_working_builders

    releases = json.loads(RECORD.read_text()) if RECORD.is_file() else {}
    releases[torchvision_release()] = list(computed_working_builders())
    RECORD.write_text(json.dumps(dict(sorted(releases.items())), indent=1) + "\n")
    return RECORD


if __name__ == "__main__":
    print(f"wrote {record()} for torchvision {torchvision_release()}")
