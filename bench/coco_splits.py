"""COCO128's `person` class as a one-class detection set, split into a fixed train part and a held-out val part.

Every 4th image by file name (32 of 128) is validation; the models never train on it. Labels keep the person boxes
only; images without a person stay, as backgrounds. The images are linked, not copied.

    python -m bench.person_split ../shared/datasets/coco128 /tmp/person    # writes /tmp/person/data.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

VAL_EVERY = 4


def write_person_split(coco128: Path, out: Path) -> Path:
    """Write the split under `out` (images linked, labels rewritten) and return its data YAML."""
    images = sorted((coco128 / "images" / "train2017").glob("*.jpg"))
    if not images:
        raise FileNotFoundError(f"no images under {coco128 / 'images' / 'train2017'}: is {coco128} COCO128?")
    for i, image in enumerate(images):
        part = "val" if i % VAL_EVERY == VAL_EVERY - 1 else "train"
        (out / "images" / part).mkdir(parents=True, exist_ok=True)
        (out / "labels" / part).mkdir(parents=True, exist_ok=True)
        link = out / "images" / part / image.name
        if not link.exists():
            link.symlink_to(image.resolve())
        label = coco128 / "labels" / "train2017" / f"{image.stem}.txt"
        rows = label.read_text().splitlines() if label.exists() else []
        persons = [row for row in rows if row.split()[:1] == ["0"]]
        (out / "labels" / part / f"{image.stem}.txt").write_text("".join(f"{row}\n" for row in persons))
    data = out / "data.yaml"
    data.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n  0: person\n")
    return data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("coco128", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    print(write_person_split(args.coco128, args.out))
