"""A synthetic detection set that models trained from scratch can learn on a CPU, but not trivially.

Three classes (ellipse, rectangle, triangle), or twelve (MANY_NAMES: polygons, stars, a cross, an arrow …), of random
colour, size (from 1/12 to 1/2 of the image side), aspect and rotation, with noise texture, pasted onto crops of real
photographs (COCO128's images) or, without photographs, onto random-colour noise. Each polygon touches all four sides of
its labelled box. Objects may overlap each other by up to half of their box; unlabelled distractors (lines, rings,
crosses) share their colours. A fixed seed makes the same set on every machine.

    python -m bench.shapes /tmp/shapes --backgrounds ../shared/datasets/coco128/images/train2017
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def _regular(n: int, inner: float = 1.0) -> tuple[tuple[float, float], ...]:
    """A regular n-gon, or an n-pointed star whose inner corners sit at radius `inner`, around (0, 0)."""
    points = n * (1 + (inner != 1.0))
    radii = [1.0 if k % 2 == 0 or inner == 1.0 else inner for k in range(points)]
    return tuple((r * math.sin(2 * math.pi * k / points), -r * math.cos(2 * math.pi * k / points))
                 for k, r in enumerate(radii))  # fmt: skip


PLUS = (
    (-0.3, -1), (0.3, -1), (0.3, -0.3), (1, -0.3), (1, 0.3), (0.3, 0.3),
    (0.3, 1), (-0.3, 1), (-0.3, 0.3), (-1, 0.3), (-1, -0.3), (-0.3, -0.3),
)  # fmt: skip
# Every class but the ellipse is a polygon: its corners, in any unit (each is rotated, then stretched to fill its box).
OUTLINES = {
    "rectangle": ((-1, -1), (1, -1), (1, 1), (-1, 1)),
    "triangle": ((0, -1), (1, 1), (-1, 1)),
    "pentagon": _regular(5),
    "hexagon": _regular(6),
    "star": _regular(5, inner=0.45),
    "four-point star": _regular(4, inner=0.4),
    "cross": PLUS,
    "L": ((-1, -1), (-0.2, -1), (-0.2, 0.4), (1, 0.4), (1, 1), (-1, 1)),
    "arrow": ((-1, -0.3), (0.2, -0.3), (0.2, -0.8), (1, 0), (0.2, 0.8), (0.2, 0.3), (-1, 0.3)),
    "half disc": tuple((math.cos(math.pi * k / 12), -math.sin(math.pi * k / 12)) for k in range(13)),
    "trapezoid": ((-0.5, -1), (0.5, -1), (1, 1), (-1, 1)),
}
NAMES = ("ellipse", "rectangle", "triangle")  # the default set, which bench-parity's models learn from scratch
MANY_NAMES = ("ellipse", *OUTLINES)  # 12 classes: bench-recipes' many-class synthetic set


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _background(rng: np.random.Generator, photos: list[Path], size: int) -> Image.Image:
    if not photos:
        noise = rng.normal(rng.uniform(40, 215, 3), 40, (size // 8, size // 8, 3)).clip(0, 255).astype(np.uint8)
        return Image.fromarray(noise).resize((size, size), Image.BILINEAR)
    photo = Image.open(photos[rng.integers(len(photos))]).convert("RGB")
    side = int(min(photo.size) * rng.uniform(0.4, 1.0))
    x, y = rng.integers(photo.width - side + 1), rng.integers(photo.height - side + 1)
    return photo.crop((x, y, x + side, y + side)).resize((size, size), Image.BILINEAR)


def _polygon(name: str, box: tuple[float, ...], angle: float) -> list[tuple[float, float]]:
    """Outline of shape `name` rotated by `angle` and stretched to fill `box` (it touches all four sides)."""
    cos, sin = math.cos(angle), math.sin(angle)
    turned = [(u * cos - v * sin, u * sin + v * cos) for u, v in OUTLINES[name]]
    us, vs = [u for u, _ in turned], [v for _, v in turned]
    return [
        (box[0] + (u - min(us)) / (max(us) - min(us)) * (box[2] - box[0]),
         box[1] + (v - min(vs)) / (max(vs) - min(vs)) * (box[3] - box[1]))
        for u, v in turned
    ]  # fmt: skip


def _image(
    rng: np.random.Generator, photos: list[Path], size: int, names: tuple[str, ...]
) -> tuple[Image.Image, list[str]]:
    image = _background(rng, photos, size)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(0, 4)):  # distractors: not labelled
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x0, y0, x1, y1 = (float(v) for v in rng.uniform(0, size, 4))
        kind = rng.integers(3)
        if kind == 0:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 4)))
        elif kind == 1:
            r = rng.uniform(size / 24, size / 6)
            draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), outline=colour, width=int(rng.integers(1, 3)))
        else:
            r = rng.uniform(size / 24, size / 8)
            draw.line((x0 - r, y0, x0 + r, y0), fill=colour, width=2)
            draw.line((x0, y0 - r, x0, y0 + r), fill=colour, width=2)
    boxes, labels = [], []
    for _ in range(rng.integers(1, 8)):
        w, h = (rng.uniform(size / 12, size / 2) for _ in range(2))
        if max(w / h, h / w) > 3:
            continue
        x0, y0 = rng.uniform(0, size - w), rng.uniform(0, size - h)
        box = (x0, y0, x0 + w, y0 + h)
        if any(_iou(box, other) > 0.5 for other in boxes):
            continue
        kind = int(rng.integers(len(names)))
        mask = Image.new("L", (size, size))
        if names[kind] == "ellipse":
            ImageDraw.Draw(mask).ellipse(box, fill=255)
        else:
            ImageDraw.Draw(mask).polygon(_polygon(names[kind], box, rng.uniform(0, math.pi)), fill=255)
        texture = rng.normal(rng.integers(0, 256, 3), rng.uniform(5, 40), (size, size, 3)).clip(0, 255)
        image.paste(Image.fromarray(texture.astype(np.uint8)), mask=mask)
        boxes.append(box)
        cx, cy = (box[0] + box[2]) / 2 / size, (box[1] + box[3]) / 2 / size
        labels.append(f"{kind} {cx:.6f} {cy:.6f} {w / size:.6f} {h / size:.6f}")
    return image, labels


def write_shapes_set(out: Path, backgrounds: Path | None = None, train: int = 600, val: int = 150,
                     size: int = 160, seed: int = 0, names: tuple[str, ...] = NAMES) -> Path:  # fmt: skip
    """Write `train` + `val` images of `size` px with classes `names` (NAMES or MANY_NAMES) under `out` and return its
    data YAML (nothing rewritten if there)."""
    data = out / "data.yaml"
    if data.is_file():
        return data
    photos = sorted(backgrounds.glob("*.jpg")) if backgrounds else []
    if backgrounds and not photos:
        raise FileNotFoundError(f"no .jpg images under {backgrounds}")
    rng = np.random.default_rng(seed)
    for part, count in (("train", train), ("val", val)):
        (out / "images" / part).mkdir(parents=True, exist_ok=True)
        (out / "labels" / part).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            image, labels = _image(rng, photos, size, names)
            image.save(out / "images" / part / f"{i:05d}.jpg", quality=95)
            (out / "labels" / part / f"{i:05d}.txt").write_text("".join(f"{row}\n" for row in labels))
    listed = "".join(f"  {i}: {name}\n" for i, name in enumerate(names))
    data.write_text(f"path: {out.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{listed}")
    return data


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--backgrounds", type=Path, help="a folder of .jpg photographs (default: noise backgrounds)")
    parser.add_argument("--many", action="store_true", help=f"the {len(MANY_NAMES)}-class set")
    args = parser.parse_args()
    print(write_shapes_set(args.out, args.backgrounds, names=MANY_NAMES if args.many else NAMES))
