"""Detection sets cut from COCO128, each split into a fixed train part and a held-out val part.

Every 4th image by file name (32 of 128) is validation; the models never train on it. A set keeps the boxes of its
classes only, renumbered from 0 in the order listed; images without any stay, as backgrounds. The images are linked,
not copied, so the same set comes out on every machine.

- person: COCO128's person class as one class.
- objects: the five most frequent classes after person (car, cup, chair, book, bowl).
- coco80: all 80 classes.

    python -m bench.coco_splits ../shared/datasets/coco128 build/person              # writes build/person/data.yaml
    python -m bench.coco_splits ../shared/datasets/coco128 build/coco80 --set coco80
"""

from __future__ import annotations

import argparse
from pathlib import Path

VAL_EVERY = 4
SETS = {"person": (0,), "objects": (2, 41, 56, 73, 45), "coco80": tuple(range(80))}  # COCO class ids, in order


def coco_names() -> dict[int, str]:
    """COCO's 80 class names, from the dataset YAML Ultralytics ships."""
    from ultralytics.utils import ROOT, YAML

    return YAML.load(ROOT / "cfg" / "datasets" / "coco128.yaml")["names"]


def write_split(coco128: Path, out: Path, name: str = "person") -> Path:
    """Write set `name` under `out` (images linked, labels rewritten) and return its data YAML."""
    images = sorted((coco128 / "images" / "train2017").glob("*.jpg"))
    if not images:
        raise FileNotFoundError(f"no images under {coco128 / 'images' / 'train2017'}: is {coco128} COCO128?")
    renumbered = {str(coco): str(ours) for ours, coco in enumerate(SETS[name])}
    for i, image in enumerate(images):
        part = "val" if i % VAL_EVERY == VAL_EVERY - 1 else "train"
        (out / "images" / part).mkdir(parents=True, exist_ok=True)
        (out / "labels" / part).mkdir(parents=True, exist_ok=True)
        link = out / "images" / part / image.name
        if not link.exists():
            link.symlink_to(image.resolve())
        label = coco128 / "labels" / "train2017" / f"{image.stem}.txt"
        rows = [row.split() for row in (label.read_text().splitlines() if label.exists() else [])]
        kept = [" ".join([renumbered[row[0]], *row[1:]]) for row in rows if row and row[0] in renumbered]
        (out / "labels" / part / f"{image.stem}.txt").write_text("".join(f"{row}\n" for row in kept))
    names = coco_names()
    listed = "".join(f"  {ours}: {names[coco]}\n" for ours, coco in enumerate(SETS[name]))
    data = out / "data.yaml"
    data.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{listed}")
    return data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("coco128", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--set", choices=list(SETS), default="person")
    args = parser.parse_args()
    print(write_split(args.coco128, args.out, args.set))
