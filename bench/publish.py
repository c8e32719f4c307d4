"""Publish the recorded results into the README and the docs pages: nothing measured is typed in by hand.

The benches and the compatibility matrix write their results beside themselves: machine-readable records (bench/*.csv,
bench/accuracy.json, bench/*-records/*.json), each with the machine it was measured on, and Markdown reports
(bench/*.md, compat/*.md). This script renders each generated section, the tables that pick or combine figures from
the records and the reports shown whole, and writes it between the `<!-- name:start -->` and `<!-- name:end -->`
lines of every page that shows it, and copies the benches' pictures into docs/assets/. It measures nothing, so it
runs in a second: the make targets that measure call it after their bench, and `make docs-tables` calls it alone.
`--check` writes nothing and fails if a page differs from what the recorded files render (tests/test_docs.py checks
the same). The experiments (experiments/) are not published: the pages state their conclusions in words and point to
experiments/README.md.

    python -m bench.publish            # rewrite every generated section and picture
    python -m bench.publish --check    # exit 1, naming each stale section, if any is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from bench.common import read_csv
from ultralytics_light.accuracy.references import NO_COCO

ROOT = Path(__file__).resolve().parents[1]
BENCH, COMPAT, DOCS = ROOT / "bench", ROOT / "compat", ROOT / "docs"

# The benches' pictures, as the docs show them (the README shows the docs' copy: see its image link).
PICTURES = {BENCH / "latency_vs_params.png": DOCS / "assets" / "latency_vs_params.png",
            BENCH / "accuracy.png": DOCS / "assets" / "accuracy.png",
            BENCH / "front.png": DOCS / "assets" / "front.png"}  # fmt: skip

# Where the INT8 format table's figures come from: the lite MobileNetV2, the model trained on real images.
FORMAT_MODEL = "yolo11n-lite-mobilenetv2"
STOCK = ("yolo11n", "yolo26n")


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {re.escape(name)}:start -->\n)(.*?)(<!-- {re.escape(name)}:end -->)", re.S)


def with_section(text: str, name: str, content: str, page: Path | str = "the page") -> str:
    """`text` with the `name` section's content replaced by `content`."""
    pattern = _pattern(name)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"{page} needs one '<!-- {name}:start -->' … '<!-- {name}:end -->' pair to put the table in.")
    return pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(3), text)


def section(text: str, name: str) -> str:
    """What lies between the `name` markers of `text`."""
    match = _pattern(name).search(text)
    if match is None:
        raise ValueError(f"no '<!-- {name}:start -->' … '<!-- {name}:end -->' section")
    return match.group(2)


# ---------------------------------------------------------------------------------------------------------- reading


def body(path: Path) -> str:
    """A recorded Markdown file without its title, its `## ` headings made `#### ` (they sit inside a page's
    section), and without a 'Written by' line that names the command (the page says which make target runs it)."""
    lines = path.read_text().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    lines = [line for line in lines if not line.startswith("Written by `")]
    text = "\n".join("#### " + line[3:] if line.startswith("## ") else line for line in lines).strip("\n")
    return text + "\n"


def part(path: Path, heading: str) -> str:
    """The body of the `## heading…` part of a recorded Markdown file (up to the next `## `)."""
    text = path.read_text()
    match = re.search(rf"^## {re.escape(heading)}.*?\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if match is None:
        raise ValueError(f"{path} has no '## {heading}' part")
    return match.group(1).strip("\n") + "\n"


def machine_of(path: Path) -> str:
    """The machine and versions a bench's CSV record was measured on (its `machine` column)."""
    return read_csv(path)[0]["machine"]


def int8_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """{(model, export): row} of an INT8 bench's CSV record (bench/int8.csv, bench/int8-litert.csv, bench/edge.csv)."""
    return {(row["model"], row["export"]): row for row in read_csv(path)}


def has_default(rows: dict) -> bool:
    """Whether OpenVINO's float32 was timed at the runtime's default precision too."""
    return any(export == "openvino fp32 default" for _, export in rows)


def ms(row: dict[str, str]) -> str:
    return f"{float(row['ms']):.1f}"


def ratio(row: dict[str, str], column: str = "ratio") -> str:
    return f"{float(row[column]):.2f}"


def edge_rows() -> dict[tuple[str, str], dict[str, str]]:
    """bench-edge's INT8 rows by (model without its '-seed…' suffix, export)."""
    return {(model.split("-seed")[0], export): row for (model, export), row in int8_rows(BENCH / "edge.csv").items()}


# -------------------------------------------------------------------------------------------------------- rendering


def link(figure: str, page: str, anchor: str, target: Path) -> str:
    """`figure` linked to the docs page where it was measured, on a docs page; as it is in the README (PyPI shows
    the README alone, and the docs site has no public address yet)."""
    if not figure or target.parent != DOCS:
        return figure
    return f"[{figure}]({page}#{anchor})"


# The COCO-pretrained stand-in reference make bench-accuracy fine-tunes where ../shared has it (its architecture is
# stock yolov5n's, timed by make bench), and how the tables name it
COCO_STAND_IN = ("yolov5n-coco-backbone-neck", "yolov5n", "yolov5n, COCO backbone+neck")


def measured_row(accuracy: dict[str, dict], name: str) -> dict | None:
    """bench-accuracy's row of model `name`: by its name, or for a stock reference that could not start from COCO
    here, by the label bench-accuracy gives it ('yolo26n (scratch: no COCO checkpoint here)')."""
    return accuracy.get(name) or accuracy.get(f"{name} ({NO_COCO})")


def accuracy_cells(name: str, measured: dict | None, target: Path, left_out: bool = False) -> list[str]:
    """mAP50, mAP50-95 and start of a model-table row: shown only from a start a user gets (ImageNet for ours, COCO
    for the stock references); where the bench could not start it so (it trained from scratch, or was `left_out` for
    want of its ImageNet file), a cell saying why, with the backbone's ImageNet top-1 for ours; blank where not
    measured."""
    stock = name in STOCK or name == COCO_STAND_IN[2]
    if measured and measured["init"] in (("COCO", "checkpoint") if stock else ("ImageNet",)):
        figures = [f"{float(measured[key]):.3f}" for key in ("map50", "map50_95")]
        start = "COCO (backbone+neck)" if name == COCO_STAND_IN[2] else measured["init"]
        return [link(figure, "benchmarks.md", "accuracy", target) for figure in figures] + [start]
    if stock and measured:
        return ["", "", "COCO start not measurable here (no checkpoint offline)"]
    if left_out or (measured and measured["init"] == "scratch (no ImageNet file)"):
        from bench.front import backbone_of

        top1 = backbone_of(f"{name}.yaml").top1
        return ["", "", f"ImageNet start not measurable here (top-1 {top1:.2f} %)"]
    return ["", "", ""]  # not measured


def models(target: Path) -> str:
    """Every shipped detect model at scale n, stock yolo11n/yolo26n and the COCO stand-in reference: size, ONNX
    Runtime speed against the stock models (`make bench`) and accuracy where `make bench-accuracy` measured it from a
    start a user gets."""
    speed = {row["model"]: row for row in read_csv(BENCH / "results.csv")}
    accuracy = {row["model"]: row for row in read_csv(BENCH / "accuracy.csv")}
    ours = [name for name in speed if re.match(r"yolo(v5|11)n-", name)]
    lite = sorted((n for n in ours if "-lite-" in n), key=lambda n: float(speed[n]["ort_ms_640"]))
    full = sorted((n for n in ours if "-lite-" not in n), key=lambda n: float(speed[n]["ort_ms_640"]))
    rows = [*lite, *full, *(name for name in STOCK if name in speed)]
    label, architecture, shown = COCO_STAND_IN
    if label in accuracy and architecture in speed:
        speed[shown], accuracy[shown] = speed[architecture], accuracy[label]
        rows.append(shown)
    record = BENCH / "accuracy.json"  # how bench-accuracy measured: its recipe, the models it left out
    how = json.loads(record.read_text()) if record.is_file() else {"recipe": {}, "left_out": []}
    recipe = " ".join(f"{key}={value}" for key, value in how["recipe"].items())
    lines = [
        f"Speed: ONNX Runtime on {machine_of(BENCH / 'results.csv')}; batch 1, 640 px, random weights, median of "
        "interleaved runs, latency ÷ yolo11n's and ÷ yolo26n's (`make bench`, Benchmarks → Speed). Accuracy: on "
        "the 32 held-out images of COCO128's person split after training on its 96 others"
        + (f" ({recipe})" if recipe else "")
        + " (`make bench-accuracy`, Benchmarks → Accuracy), shown only where the model started as a user's would: "
        "ours from ImageNet, stock models from COCO. yolov5n, COCO backbone+neck: Ultralytics' yolov5n.yaml carrying "
        "the official YOLOv5n COCO backbone and neck, the COCO-pretrained reference we can fine-tune offline; its "
        "speed is stock yolov5n's.",
        "",
        "| model | params (M) | GFLOPs 640 | ORT 640 ÷ yolo11n | ORT 640 ÷ yolo26n | mAP50 | mAP50-95 | start |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in rows:
        row = speed[name]
        figures = [f"{float(row['params_M']):.2f}", f"{float(row['gflops_640']):.1f}"]
        for stock in STOCK:
            figures.append(f"{float(row[f'ort_ms_640/{stock}']):.2f}" if row.get(f"ort_ms_640/{stock}") else "")
        cells = [link(figure, "benchmarks.md", "speed", target) for figure in figures]
        cells += accuracy_cells(name, measured_row(accuracy, name), target, name in how["left_out"])
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def int8_formats(target: Path) -> str:
    """Which INT8 format for which target: the lite MobileNetV2's INT8 latency ÷ float32 at 640 px (bench/int8.csv,
    bench/int8-litert.csv) and the share of float32 mAP50 it keeps, well trained (its bench-parity record) and weakly
    trained on real images (bench/edge.csv)."""
    from bench.parity import RECORDS, map50s

    speed = {**int8_rows(BENCH / "int8.csv"), **int8_rows(BENCH / "int8-litert.csv")}
    parity = json.loads((RECORDS / f"{FORMAT_MODEL}.json").read_text())
    edge = edge_rows()

    def latency(fmt: str) -> str:
        row = speed.get((FORMAT_MODEL, f"{fmt} int8"))
        if row is None:
            return "not measured"
        text = f"{ratio(row)}× ({ms(row)} ms)"
        if fmt == "openvino":
            pinned = "÷ float32 pinned to f32"
            if has_default(speed):
                default = f"{ratio(row, 'ratio_default')}× ÷ float32 at OpenVINO's default (bf16 where it can)"
                return f"{text} {pinned}, {default}"
            return f"{text} {pinned} (measured before the default was timed: on a CPU with bf16 INT8 gains less)"
        return text

    def kept(fmt: str) -> str:
        pair = map50s(parity["exports"], fmt)
        well = f"{pair[1] / pair[0]:.0%}" if pair else "not measured"
        fp32, int8 = edge.get((FORMAT_MODEL, f"{fmt} fp32")), edge.get((FORMAT_MODEL, f"{fmt} int8"))
        weak = f"{float(int8['map50']) / float(fp32['map50']):.0%}" if fp32 and int8 else "not measured"
        return f"{well} / {weak}"

    anchor = {"x86 CPU": "int8-latency", "ARM boards, Android": "int8-latency", "ONNX Runtime": "int8-latency"}
    rows = [
        ("x86 CPU", "OpenVINO INT8 (`format=openvino quantize=8`)", latency("openvino"),
         kept("openvino")),
        ("ARM boards, Android", "LiteRT INT8 (`format=litert quantize=8`); timed with XNNPACK on x86, not on ARM",
         latency("litert"), kept("litert")),
        ("ONNX Runtime", "stay float32: its INT8 (`format=onnx quantize=8`) is slower", latency("onnx"), kept("onnx")),
    ]  # fmt: skip
    lines = [
        f"{FORMAT_MODEL} at 640 px, INT8 latency ÷ float32 latency in the same runtime on "
        f"{machine_of(BENCH / 'int8.csv')}, and the share of float32 mAP50 that INT8 keeps on a well-trained "
        "checkpoint (synthetic shapes) / a weakly trained one (96 real images): Deploying → INT8.",
        "",
        "| target | format | INT8 ÷ float32 latency | mAP50 kept: well / weakly trained |",
        "|---|---|---|---|",
    ]
    for where, fmt, latency_cell, kept_cell in rows:
        lines.append(f"| {where} | {fmt} | {link(latency_cell, 'deploying.md', anchor[where], target)} | {kept_cell} |")
    return "\n".join(lines) + "\n"


def int8_latency(target: Path) -> str:
    """Every model's INT8 ÷ float32 latency at 640 px in each runtime (bench/int8.csv, bench/int8-litert.csv)."""
    onnx_openvino, litert = int8_rows(BENCH / "int8.csv"), int8_rows(BENCH / "int8-litert.csv")
    measured = next(iter(onnx_openvino.values()))  # the machine and its bf16, the same on every row
    default = has_default(onnx_openvino)
    models = list(dict.fromkeys(model for model, _ in onnx_openvino))

    def cell(rows: dict, model: str, fmt: str, column: str = "ratio") -> str:
        row = rows.get((model, fmt))
        if row is None:
            return ""
        return f"{ratio(row, column)} ({ms(row)} ms)"

    if default:
        note = (
            "OpenVINO INT8 runs at its default configuration, as `yolo predict` runs it; it is divided by the float32 "
            "export pinned to f32 (`INFERENCE_PRECISION_HINT: f32`) and by the same export at OpenVINO's default "
            "precision, which is bf16 on a CPU with bf16. The CPU of this run had bf16: "
            f"{measured['bf16']}."
        )
        header = "| model, 640 px | OpenVINO INT8 ÷ FP32 pinned f32 | OpenVINO INT8 ÷ FP32 default | ONNX Runtime INT8 ÷ FP32 | LiteRT INT8 ÷ FP32 |"  # noqa: E501
    else:
        note = (
            "**OpenVINO figures of this run: float32 pinned to f32.** Both OpenVINO exports ran with "
            "`INFERENCE_PRECISION_HINT: f32`. On a CPU with bf16, OpenVINO's default runs a float32 model in bf16, "
            "so INT8 gains less against what a user gets by default than this column shows (see the bf16 note below); "
            "`make bench-int8` now times both."
        )
        header = "| model, 640 px | OpenVINO INT8 ÷ FP32 pinned f32 | ONNX Runtime INT8 ÷ FP32 | LiteRT INT8 ÷ FP32 |"
    lines = [
        f"Measured on {measured['machine']}; batch 1, 640 px, random weights, INT8 calibrated on "
        "synthetic shapes, each runtime's float32 and INT8 timed interleaved; ms is the INT8 median. LiteRT: "
        "`ai_edge_litert`'s interpreter with XNNPACK, timed on x86.",
        "",
        note,
        "",
        header,
        "|---" * header.count(" | ") + "|---|",
    ]
    for model in models:
        label = model if "-" in model else f"stock {model}"
        row = [label, cell(onnx_openvino, model, "openvino int8")]
        if default:
            row.append(cell(onnx_openvino, model, "openvino int8", "ratio_default"))
        row += [cell(onnx_openvino, model, "onnx int8"), cell(litert, model, "litert int8")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def int8_real(target: Path) -> str:
    """The lite MobileNetV2 trained on 96 real images: float32 and INT8 mAP per runtime, and INT8's latency ratio
    (bench/edge.csv)."""
    names = {"onnx": "ONNX Runtime (`format=onnx quantize=8`)", "openvino": "OpenVINO (`format=openvino quantize=8`)",
             "litert": "LiteRT (`format=litert quantize=8`)"}  # fmt: skip
    rows = edge_rows()
    px = next(iter(rows.values()))["imgsz"]
    lines = [
        f"| runtime | float32 mAP50 / mAP50-95 | INT8 mAP50 / mAP50-95 | INT8 mAP50 kept | INT8 latency ÷ float32 "
        f"({px} px) |",
        "|---|---|---|---|---|",
    ]
    for fmt, name in names.items():
        fp32, int8 = rows.get((FORMAT_MODEL, f"{fmt} fp32")), rows.get((FORMAT_MODEL, f"{fmt} int8"))
        if not (fp32 and int8):
            continue
        share = float(int8["map50"]) / float(fp32["map50"])
        scores = [f"{float(row['map50']):.3f} / {float(row['map50_95']):.3f}" for row in (fp32, int8)]
        lines.append(f"| {name} | {scores[0]} | {scores[1]} | {share:.0%} | {ratio(int8)} |")
    return "\n".join(lines) + "\n"


def end_to_end_heads(target: Path) -> str:
    """Per backbone at the largest size bench/end_to_end.csv has: the NMS lite model against its end-to-end twin,
    image in to boxes out at both thresholds, and stock yolo26n's two branches measured alike."""
    rows = read_csv(BENCH / "end_to_end.csv")
    sizes = sorted({int(row["size"]) for row in rows})
    size = sizes[-1]
    by = {
        (row["model"], row["export"]): row
        for row in rows
        if int(row["size"]) == size and not row["model"].endswith(" (reference)")
    }  # end_to_end.REFERENCE_LABEL

    def both(model: str, export: str) -> str:
        row = by.get((model, export))
        return f"{float(row['ms_0.25']):.1f} / {float(row['ms_0.001']):.1f}" if row else ""

    def share(model: str, twin: str, export: str) -> str:
        ours, theirs = by.get((model, "end2end")), by.get((twin, export))
        return f"{float(ours['ms_0.001']) / float(theirs['ms_0.001']):.2f}×" if ours and theirs else ""

    lines = [
        f"Image in, final boxes out at {size} px, ms per image at conf=0.25 / conf=0.001, from `make bench` on "
        f"{machine_of(BENCH / 'end_to_end.csv')}: each model's preprocess and graph, and the postprocess of a "
        f"reference detector with the same head that has learned to detect "
        f"({link('the full table and how it is measured', 'benchmarks.md', 'end-to-end-latency', target)}, also at "
        f"{sizes[0]} px):",
        "",
        "| backbone | NMS lite: `yolo11n-lite-…` | end-to-end: `yolo26n-lite-…` with `nms=False` | end-to-end ÷ NMS at "
        "conf=0.001 |",
        "|---|---|---|---|",
    ]
    backbones = [m.removeprefix("yolo26n-lite-") for m, export in by if export == "end2end" and m != "yolo26n"]
    for backbone in sorted(backbones, key=lambda b: float(by[(f"yolo26n-lite-{b}", "end2end")]["ms_0.25"])):
        model, twin = f"yolo26n-lite-{backbone}", f"yolo11n-lite-{backbone}"
        lines.append(f"| {backbone} | {both(twin, 'nms')} | {both(model, 'end2end')} | {share(model, twin, 'nms')} |")
    if ("yolo26n", "end2end") in by:
        stock = [both("yolo26n", "nms"), both("yolo26n", "end2end"), share("yolo26n", "yolo26n", "nms")]
        lines.append("| stock yolo26n (its own two branches) | " + " | ".join(stock) + " |")
    return "\n".join(lines) + "\n"


def embed(path: Path) -> Callable[[Path], str]:
    """A recorded file's body; a line saying it is not measured yet where the bench has not written it."""
    return lambda target: body(path) if path.is_file() else f"Not measured yet (`{path.relative_to(ROOT)}`).\n"


def int8_before_settings() -> str:
    """A sentence where INT8 accuracy figures were measured before our INT8 settings last changed (bench-parity's
    records say with which they were made), else nothing."""
    from bench.parity import INT8_SETTINGS, RECORDS

    records = [json.loads(path.read_text()) for path in sorted(RECORDS.glob("*.json"))]
    if all(record.get("int8_settings") == INT8_SETTINGS for record in records):
        return ""
    return (
        "INT8 accuracy here was measured with 8-bit weights, before our models' INT8 exports kept them to 7 bits "
        "(Deploying → INT8): `make bench-parity` and `make bench-edge` measure it again."
    )


def with_int8_note(section: Callable[[Path], str]) -> Callable[[Path], str]:
    """`section`, led by `int8_before_settings()` where it applies."""
    return lambda target: "".join(f"{note}\n\n" for note in [int8_before_settings()] if note) + section(target)


def embed_part(path: Path, heading: str) -> Callable[[Path], str]:
    return lambda target: part(path, heading)


SECTIONS: dict[str, Callable[[Path], str]] = {
    "models": models,
    "int8-formats": with_int8_note(int8_formats),
    "int8-latency": int8_latency,
    "int8-real": with_int8_note(int8_real),
    "ort-int8-real": embed_part(BENCH / "edge.md", "ONNX Runtime INT8 settings"),
    "qat": embed_part(BENCH / "edge.md", "Quantization-aware training"),
    "distillation": embed_part(BENCH / "edge.md", "Distillation"),
    "speed": embed(BENCH / "results.md"),
    "front": embed(BENCH / "front.md"),
    "end-to-end": embed(BENCH / "end_to_end.md"),
    "end-to-end-accuracy": embed(BENCH / "end_to_end_accuracy.md"),
    "end-to-end-heads": end_to_end_heads,
    "accuracy": embed(BENCH / "accuracy.md"),
    "distill": embed(BENCH / "distill.md"),
    "search": embed(BENCH / "search.md"),
    "recipes": embed(BENCH / "recipes.md"),
    "parity": with_int8_note(embed(BENCH / "parity.md")),
    "ort-int8-settings": with_int8_note(embed(BENCH / "ort-int8-settings.md")),
    "compat": embed(COMPAT / "results.md"),
    "floor": embed(COMPAT / "floor.md"),
}

# Which page shows which sections.
PAGES: dict[Path, tuple[str, ...]] = {
    ROOT / "README.md": ("models", "int8-formats"),
    DOCS / "index.md": ("models",),
    DOCS / "training.md": ("recipes",),
    DOCS / "benchmarks.md": (
        "speed",
        "front",
        "end-to-end",
        "end-to-end-accuracy",
        "accuracy",
        "distill",
        "search",
        "parity",
        "ort-int8-settings",
        "compat",
        "floor",
    ),
    DOCS / "deploying.md": (
        "end-to-end-heads",
        "int8-formats",
        "int8-latency",
        "int8-real",
        "ort-int8-real",
        "qat",
        "distillation",
    ),
}


def rendered() -> dict[Path, str]:
    """Every page with its generated sections as the recorded files render them."""
    pages = {}
    for page, names in PAGES.items():
        text = page.read_text()
        for name in names:
            text = with_section(text, name, SECTIONS[name](page), page)
        pages[page] = text
    return pages


def stale() -> list[str]:
    """'page: section' for each generated section that differs from what the recorded files render, and each
    picture whose docs copy differs from the bench's."""
    out = []
    for page, text in rendered().items():
        current = page.read_text()
        out += [f"{page.relative_to(ROOT)}: {name}" for name in PAGES[page]
                if section(current, name) != section(text, name)]  # fmt: skip
    for source, copy in PICTURES.items():
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            out.append(f"{copy.relative_to(ROOT)}: not a copy of {source.relative_to(ROOT)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a section or picture is stale")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for line in outdated:
            print(f"stale: {line}")
        if outdated:
            print("Run `make docs-tables` (python -m bench.publish) to publish the recorded results.")
        return 1 if outdated else 0
    for page, text in rendered().items():
        if page.read_text() != text:
            page.write_text(text)
            print(f"wrote {page.relative_to(ROOT)}")
    for source, copy in PICTURES.items():
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source.read_bytes())
            print(f"copied {source.relative_to(ROOT)} to {copy.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
