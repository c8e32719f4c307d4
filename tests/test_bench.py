"""`make bench` and the INT8 bench keep working: one tiny model at a tiny size. No timing or mAP is asserted."""

from __future__ import annotations

import csv
import re
import shutil
import sys
from pathlib import Path

import pytest

from bench.common import read_csv
from bench.shapes import write_shapes_set

ROOT = Path(__file__).resolve().parents[1]  # the benches run as modules from here, as make runs them


def test_bench_writes_results_for_one_tiny_model(run_fresh, tmp_path):
    out = tmp_path / "bench"
    result = run_fresh(
        sys.executable, "-m", "bench.speed", "--models", "yolo11n-lite-shufflenetv2.yaml", "--sizes", "64",
        "--runs", "2", "--warmup", "1", "--threads", "1", "--out", str(out), cwd=ROOT,
    )  # fmt: skip
    assert "[1/1] building and exporting yolo11n-lite-shufflenetv2.yaml" in result.stdout
    assert "1 threads, warm-up 1, runs 2" in result.stdout
    rows = read_csv(out / "results.csv")
    assert [row["model"] for row in rows] == ["yolo11n-lite-shufflenetv2"]
    assert {"params_M", "gflops_640", "torch_ms_64", "torch_iqr_64", "ort_ms_64", "ort_iqr_64"} <= rows[0].keys()
    assert float(rows[0]["torchcl_ms_64"]) > 0 and float(rows[0]["torchcl_iqr_64"]) >= 0  # channels-last, as predict
    assert 0.2 < float(rows[0]["params_M"]) < 1.0 and float(rows[0]["gflops_640"]) > 0
    assert float(rows[0]["ort_ms_64"]) > 0
    assert rows[0]["machine"] in (out / "results.md").read_text()  # what publish and front name the machine by
    assert "| yolo11n-lite-shufflenetv2 |" in (out / "results.md").read_text()
    assert (out / "latency_vs_params.png").read_bytes()[:4] == b"\x89PNG"


def test_front_gives_each_lite_model_its_backbones_top1_and_what_dominates_it(tmp_path):
    pytest.importorskip("timm")  # the timm rows' default tags
    from bench.front import main

    results = {  # model: (ORT 640 ms, ORT 320 ms); yolo26n at 20 and 10
        "yolo11n-lite-mobilenetv2": (25.0, 7.0),
        "yolo11n-lite-lcnet": (8.0, 3.0),  # lcnet_050 at scale n: lower top-1 than mobilenet_v2
        "yolo11n-lite-mobilenetv4-conv-small": (12.0, 4.0),  # higher top-1, faster at both sizes: dominates
        "yolo11n-lite-mobilenetv3-large": (11.0, 8.0),  # higher top-1, faster at 640 only: does not
    }
    rows = [
        {"model": model, "params_M": 1.0, "gflops_640": 2.0, "ort_ms_640": t640, "ort_ms_320": t320,
         "ort_ms_640/yolo26n": t640 / 20, "ort_ms_320/yolo26n": t320 / 10, "machine": "a test machine, 2 threads"}
        for model, (t640, t320) in results.items()
    ]  # fmt: skip
    with open(tmp_path / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, {**rows[0], "model": "yolo26n"}])
    main(["--results", str(tmp_path / "results.csv"), "--out", str(tmp_path)])
    lines = [line.split(" | ") for line in (tmp_path / "front.md").read_text().splitlines() if line.startswith("| `")]
    table = {cells[4]: cells for cells in lines}
    assert list(table) == [  # fastest at 640 first; stock models are not backbones
        "yolo11n-lite-lcnet", "yolo11n-lite-mobilenetv3-large", "yolo11n-lite-mobilenetv4-conv-small",
        "yolo11n-lite-mobilenetv2",
    ]  # fmt: skip
    assert table["yolo11n-lite-lcnet"][:4] == ["| `lcnet_050`", "timm", "ra2_in1k", "63.14 %"]
    assert table["yolo11n-lite-mobilenetv4-conv-small"][:4] == ["| `mobilenetv4_conv_small`", "timm",
                                                                "e2400_r224_in1k", "73.76 %"]  # fmt: skip
    assert table["yolo11n-lite-mobilenetv2"][:4] == ["| `mobilenet_v2`", "torchvision", "IMAGENET1K_V2", "72.15 %"]
    assert table["yolo11n-lite-mobilenetv2"][7:9] == ["25.0", "1.25"]  # ORT 640 ms and ÷ 26n
    assert table["yolo11n-lite-mobilenetv2"][-1] == "`mobilenetv4_conv_small` |"
    assert table["yolo11n-lite-mobilenetv4-conv-small"][-1] == " |"
    assert "latency from `make bench` (a test machine, 2 threads)" in (tmp_path / "front.md").read_text()
    assert (tmp_path / "front.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("trained", ["yolo11n-lite-shufflenetv2.yaml"], indirect=True)
def test_int8_bench_times_and_validates_every_export_of_a_checkpoint(trained, detect_dataset, run_fresh, tmp_path):
    best = tmp_path / "train" / "weights" / "best.pt"  # a copy: the bench exports beside it, and `trained` is shared
    best.parent.mkdir(parents=True)
    shutil.copy(trained[1], best)
    shutil.copy(trained[1].parents[1] / "args.yaml", best.parents[1])  # an Ultralytics run folder, named "train"
    out = tmp_path / "int8.md"
    run_fresh(
        sys.executable, "-m", "bench.int8", "--models", str(best), "--data", str(detect_dataset),
        "--imgsz", "64", "--runs", "2", "--warmup", "1", "--val", "--out", str(out), "--formats", "onnx", "openvino",
        cwd=ROOT,
    )  # fmt: skip
    text = out.read_text()
    rows = [line.strip("| ").split(" | ") for line in text.splitlines() if line.startswith("| train/best |")]
    # LiteRT's exports take longest: its rows are the same code as the others' (test_export.py tests its exports)
    assert [row[1] for row in rows] == ["onnx fp32", "onnx int8", "openvino fp32", "openvino fp32 default",
                                        "openvino int8"]  # fmt: skip
    assert re.search(r"CPU bf16 \(OpenVINO's OPTIMIZATION_CAPABILITIES\): (yes|no);", text)
    for _, fmt, latency, ratio, default, map50, map50_95 in rows:
        assert float(latency.split(" ± ")[0]) > 0
        assert fmt not in ("onnx fp32", "openvino fp32") or ratio == "1.00"  # each runtime's float32
        assert (default != "") == fmt.startswith("openvino")  # ÷ OpenVINO's float32 at its default precision
        assert fmt != "openvino fp32 default" or default == "1.00"
        assert 0 <= float(map50_95) <= float(map50) <= 1
    by_format = {row[1]: row for row in rows}  # `yolo val` runs OpenVINO's one float32 export at its default precision
    assert by_format["openvino fp32"][5:] == by_format["openvino fp32 default"][5:]
    records = read_csv(out.with_suffix(".csv"))  # the same rows, machine-readable: what bench/publish.py renders
    assert [(record["model"], record["export"]) for record in records] == [("train/best", row[1]) for row in rows]
    assert [f"{float(record['map50']):.3f}" for record in records] == [row[5] for row in rows]
    assert all(record["machine"] in text and record["bf16"] in ("yes", "no") for record in records)


def test_shapes_set_is_a_fixed_valid_detection_set(tmp_path):
    from ultralytics.data.utils import check_det_dataset
    from ultralytics.utils import ASSETS

    first = write_shapes_set(tmp_path / "first", ASSETS, train=6, val=3, size=64)
    again = write_shapes_set(tmp_path / "again", ASSETS, train=6, val=3, size=64)
    assert check_det_dataset(str(first))["names"] == {0: "ellipse", 1: "rectangle", 2: "triangle"}
    labels = sorted((first.parent / "labels").rglob("*.txt"))
    assert [path.name for path in labels] == [f"{i:05d}.txt" for i in (*range(6), *range(3))]
    rows = [row.split() for path in labels for row in path.read_text().splitlines()]
    assert len(rows) >= 9  # at least one object an image, on average
    for cls, x, y, w, h in ((int(row[0]), *map(float, row[1:])) for row in rows):
        assert cls in (0, 1, 2) and 1 / 12 - 1e-3 <= w <= 0.5 + 1e-3 and 1 / 12 - 1e-3 <= h <= 0.5 + 1e-3
        assert min(x - w / 2, y - h / 2) >= -1e-6 and max(x + w / 2, y + h / 2) <= 1 + 1e-6  # 6 decimals
    for path in labels:  # the same seed makes the same set
        twin = again.parent / path.relative_to(first.parent)
        assert twin.read_text() == path.read_text()
        image = path.parent.parent.parent / "images" / path.parent.name / f"{path.stem}.jpg"
        assert image.read_bytes() == (again.parent / image.relative_to(first.parent)).read_bytes()


@pytest.mark.parametrize("name", ["rectangle", "triangle", "star", "L", "arrow", "half disc"])
def test_every_polygon_fills_its_labelled_box(name):
    from bench.shapes import _polygon

    box = (10.0, 20.0, 50.0, 35.0)
    for angle in (0.0, 0.4, 1.3, 2.9):
        corners = _polygon(name, box, angle)
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        assert (min(xs), min(ys), max(xs), max(ys)) == pytest.approx(box)


def test_many_class_shapes_set_uses_every_class(tmp_path):
    from ultralytics.data.utils import check_det_dataset
    from ultralytics.utils import ASSETS

    from bench.shapes import MANY_NAMES

    data = write_shapes_set(tmp_path / "many", ASSETS, train=24, val=4, size=64, names=MANY_NAMES)
    assert list(check_det_dataset(str(data))["names"].values()) == list(MANY_NAMES) and len(MANY_NAMES) >= 10
    classes = {int(row.split()[0]) for path in (tmp_path / "many" / "labels").rglob("*.txt")
               for row in path.read_text().splitlines()}  # fmt: skip
    assert classes == set(range(len(MANY_NAMES)))


def fake_coco128(root: Path) -> Path:
    """COCO128's layout: 8 images, labels with a person (0), a car (2), a cup (41) and a kite (33)."""
    from PIL import Image

    (root / "images" / "train2017").mkdir(parents=True)
    (root / "labels" / "train2017").mkdir(parents=True)
    rows = ["0 0.5 0.5 0.2 0.2", "2 0.3 0.3 0.1 0.1", "41 0.6 0.6 0.1 0.1", "33 0.7 0.2 0.1 0.1"]
    for i in range(8):
        Image.new("RGB", (32, 32)).save(root / "images" / "train2017" / f"{i:012d}.jpg")
        if i != 5:  # an image without labels stays, as a background
            (root / "labels" / "train2017" / f"{i:012d}.txt").write_text("\n".join(rows[: 1 + i % 4]) + "\n")
    return root


def test_coco_splits_keep_their_classes_renumbered_and_hold_out_every_fourth_image(tmp_path):
    from bench.coco_splits import write_split

    coco128 = fake_coco128(tmp_path / "coco128")
    person = write_split(coco128, tmp_path / "person", "person")
    assert (tmp_path / "person" / "data.yaml").read_text().endswith("names:\n  0: person\n")
    val = sorted(p.name for p in (tmp_path / "person" / "images" / "val").iterdir())
    assert val == ["000000000003.jpg", "000000000007.jpg"] and person.is_file()
    assert len(list((tmp_path / "person" / "images" / "train").iterdir())) == 6  # backgrounds stay
    objects = write_split(coco128, tmp_path / "objects", "objects")
    assert "names:\n  0: car\n  1: cup\n  2: chair\n  3: book\n  4: bowl\n" in objects.read_text()
    label = (tmp_path / "objects" / "labels" / "train" / "000000000002.txt").read_text()
    assert label == "0 0.3 0.3 0.1 0.1\n1 0.6 0.6 0.1 0.1\n"  # car -> 0, cup -> 1; person and kite dropped
    coco80 = write_split(coco128, tmp_path / "coco80", "coco80")
    assert "  79: toothbrush\n" in coco80.read_text()
    assert (tmp_path / "coco80" / "labels" / "val" / "000000000003.txt").read_text().count("\n") == 4


def test_recipe_verdict_counts_trials_within_the_seed_spread_of_the_best():
    from bench.recipes import table, verdict

    def row(map50_95: float, spread: float) -> dict:
        return {"map50": 2 * map50_95, "map50_spread": 0, "map50_95": map50_95, "map50_95_spread": spread}

    one = {"plain": row(0.10, 0.02), "auto": row(0.20, 0.02), "sgd": row(0.18, 0.04)}
    other = {"plain": row(0.10, 0.00), "auto": row(0.05, 0.00), "sgd": row(0.30, 0.02)}
    lines = table(one)
    assert lines[2].startswith("| plain") and lines[2].endswith("| 1.00 |  |")
    assert lines[3].endswith("| 2.00 | best |") and lines[4].endswith("| 1.80 | yes |")  # 0.18 + 0.02 >= 0.20 - 0.01
    nothing = {"plain": row(0.0004, 0.0), "sgd": row(0.02, 0.0)}  # plain shows as 0.000: no ratio to it
    assert table(nothing)[3].endswith("| 0.020 ± 0.000 |  | best |")
    summary = "\n".join(verdict({"one": one, "other": other}))
    assert "| optimizer=SGD lr0=0.01 nbs=16 warmup_epochs=0 | one, other (2/2) |" in summary
    assert "| optimizer=auto nbs=16 warmup_epochs=0 | one (1/2) |" in summary
    assert "(Ultralytics' defaults: optimizer=auto nbs=64 warmup_epochs=3) | none (0/2) |" in summary


def test_search_bench_compares_the_search_with_the_sequential_answer_within_the_same_budget():
    from bench.search import front

    def row(model: str, ms: float, map50_95: float, pareto: bool, reference: bool = False) -> dict:
        return {"model": model, "ort_ms": str(ms), "map50_95": str(map50_95), "pareto": str(pareto),
                "reference": str(reference)}  # fmt: skip

    rows = [row("slow", 9.0, 0.5, True), row("fast", 2.0, 0.2, True), row("faster", 1.0, 0.1, True),
            row("dominated", 3.0, 0.1, False), row("coco", 10.0, 0.6, True, reference=True)]  # fmt: skip
    assert front(rows) == {"winner": "slow", "front": ["coco", "fast", "faster", "slow"]}
    # the reference stays a row whatever its latency; a slower row cannot move a faster one off the front
    assert front(rows, budget_ms=6.0) == {"winner": "fast", "front": ["coco", "fast", "faster"]}


def test_end_to_end_bench_times_every_export_from_image_to_boxes(detect_dataset, run_fresh, tmp_path):
    """One NMS lite model, its end-to-end twin and yolo26n, each trained for an epoch, through bench.end_to_end, with
    the reference pair whose postprocess they are given."""
    models = ["yolo11n-lite-shufflenetv2.yaml", "yolo26n-lite-shufflenetv2.yaml", "yolo26n.yaml"]
    run_fresh(
        sys.executable, "-m", "bench.end_to_end", "--data", str(detect_dataset), "--models", *models,
        "--sizes", "64", "--runs", "2", "--warmup", "1", "--threads", "1", "--work", str(tmp_path / "work"),
        "--out", str(tmp_path), "epochs=1", "imgsz=64", "batch=4", cwd=ROOT,
    )  # fmt: skip
    rows = {(row["model"], row["export"]): row for row in read_csv(tmp_path / "end_to_end.csv")}
    # an end-to-end head also exports with nms=False; an NMS head only with NMS after the graph
    nms_reference, end2end_reference = "yolo11n-lite-mobilenetv2 (reference)", "yolo26n-lite-mobilenetv2 (reference)"
    assert list(rows) == [
        ("yolo11n-lite-shufflenetv2", "nms"), ("yolo26n-lite-shufflenetv2", "nms"),
        ("yolo26n-lite-shufflenetv2", "end2end"), ("yolo26n", "nms"), ("yolo26n", "end2end"),
        (nms_reference, "nms"), (end2end_reference, "nms"), (end2end_reference, "end2end"),
    ]  # fmt: skip
    for (model, export), row in rows.items():
        reference = rows[(nms_reference, "nms") if export == "nms" else (end2end_reference, "end2end")]
        for conf in ("0.25", "0.001"):
            stages = [float(row[f"{stage}_ms_{conf}"]) for stage in ("pre", "graph", "post")]
            assert all(ms > 0 for ms in stages) and float(row[f"ms_{conf}"]) > 0 and float(row[f"own_ms_{conf}"]) > 0
            # every model gets the postprocess (and candidates) of the reference export of its kind
            assert row[f"post_ms_{conf}"] == reference[f"own_post_ms_{conf}"]
            assert row[f"candidates_{conf}"] == reference[f"own_candidates_{conf}"]
        assert float(row["own_candidates_0.001"]) >= float(row["own_candidates_0.25"])
    assert float(rows[("yolo26n", "end2end")]["ratio_0.25"]) == 1.0
    assert float(rows[("yolo26n", "nms")]["ratio_0.001"]) == 1.0
    text = (tmp_path / "end_to_end.md").read_text()
    assert (
        "Images: bus.jpg, zidane.jpg, " in text
        and f"epochs=1 imgsz=64 batch=4 on {detect_dataset.parent.name}/" in text
    )
    assert "- Lightest end-to-end lite model at 64: yolo26n-lite-shufflenetv2, " in text
    assert "faster than their NMS twin (yolo11n-lite-…) at conf=0.001, 64 px: " in text and " of 1 (" in text
    assert "| yolo26n-lite-shufflenetv2 | end2end | 0.001 |" in text and "| yolo26n | nms | 0.25 |" in text
    assert f"| {end2end_reference} | nms | 0.001 |" in text and "for the reference exports, yolo11n-lite-" in text


def test_distill_table_sets_each_student_alone_beside_its_distilled_rows_and_the_reference():
    from bench.distill import render

    def row(model: str, init: str, map50_95: float, ort_ms: float, reference: bool = False) -> dict:
        return {"model": model, "init": init, "map50": str(2 * map50_95), "map50_95": str(map50_95),
                "ort_ms": str(ort_ms), "train_min": "3.0", "reference": str(reference)}  # fmt: skip

    lcnet, teacher = "yolo11n-lite-lcnet", "yolo11n-lite-mobilenetv2"
    weighted = f"{lcnet} (distilled from stand-in, dis=1.0)"
    seed0 = [
        row(f"{lcnet} (distilled from stand-in)", "scratch (no ImageNet file)", 0.15, 4.0),
        row("stand-in", "checkpoint", 0.3, 10.0, reference=True),
        row(lcnet, "scratch (no ImageNet file)", 0.1, 4.0),
        row(teacher, "ImageNet", 0.2, 8.0),
        row(weighted, "scratch (no ImageNet file)", 0.21, 4.4),  # timed again in its own bench-accuracy run
    ]
    seed1 = [
        row("stand-in", "checkpoint", 0.3, 9.0, reference=True),
        row(weighted, "scratch (no ImageNet file)", 0.19, 4.2),
    ]
    records = [{"seed": 0, "about": "Trained on …", "rows": seed0}, {"seed": 1, "about": "…", "rows": seed1}]
    text = render({"person": records}, "stand-in.pt")
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [line.split(" | ")[0] for line in table] == [
        "| stand-in", f"| {teacher}", f"| {lcnet}", f"| {lcnet} (distilled from stand-in)", f"| {weighted}"
    ]  # fmt: skip
    distilled = (
        f"| {lcnet} (distilled from stand-in) | scratch (no ImageNet file) | 0.300 | 0.150 | 4.0 | 0.42 | 0.50 | 3.0 |"
    )
    assert table[3] == distilled  # measured at one seed: no spread
    # the mean over the seeds, ± half their range; the latency of the architecture's own row, the reference's the
    # median over its seeds (10.0, 9.0)
    assert (
        table[4]
        == f"| {weighted} | scratch (no ImageNet file) | 0.400 ± 0.020 | 0.200 ± 0.010 | 4.0 | 0.42 | 0.67 | 3.0 |"
    )
    assert "Seeds: 0, 1 (each fine-tunes its own teachers)." in text
    # under the table, what it says: each model's best distilled row against it alone, and the goal
    assert (
        f"- {lcnet}, distilled from stand-in, dis=1.0: 0.200 (± 0.010 over seeds) against 0.100 alone (one seed), "
        "+0.100; distilling from stand-in trained 1.00× (seed 0) as long as the model alone." in text
    )
    assert (
        f"- Goal (0.6× the reference's latency, its mAP50-95): not met. The best row that fast, {weighted}, keeps 0.67 "
        "of the reference's mAP50-95 at 0.42× its latency." in text
    )
    assert "Not measured yet: shapes (`make bench-distill`)." in text


def test_model_table_shows_accuracy_only_from_a_start_a_user_gets():
    from bench.publish import accuracy_cells, measured_row

    readme = Path("README.md")
    assert accuracy_cells("yolo11n-lite-mobilenetv2", {"init": "ImageNet", "map50": "0.5", "map50_95": "0.25"},
                          readme) == ["0.500", "0.250", "ImageNet"]  # fmt: skip
    no_file = {"init": "scratch (no ImageNet file)", "map50": "0.01", "map50_95": "0.002"}
    assert accuracy_cells("yolo11n-lite-shufflenetv2", no_file, readme) == [
        "", "", "ImageNet start not measurable here (top-1 60.55 %)"
    ]  # fmt: skip
    assert accuracy_cells("yolo11n-lite-shufflenetv2", None, readme, left_out=True) == [
        "", "", "ImageNet start not measurable here (top-1 60.55 %)"
    ]  # fmt: skip
    scratch = {"init": "scratch", "map50": "0.01", "map50_95": "0.002"}
    assert accuracy_cells("yolo26n", scratch, readme)[:2] == ["", ""]
    assert accuracy_cells("yolo26n", None, readme) == ["", "", ""]  # not measured
    offline = {"yolo26n (scratch: no COCO checkpoint here)": {"init": "scratch", "map50": "0.01", "map50_95": "0.002"}}
    assert accuracy_cells("yolo26n", measured_row(offline, "yolo26n"), readme)[2] == (
        "COCO start not measurable here (no checkpoint offline)"
    )  # the row bench-accuracy names after the fallback
    stand_in = {"init": "checkpoint", "map50": "0.6", "map50_95": "0.3"}
    assert accuracy_cells("yolov5n, COCO backbone+neck", stand_in, readme) == ["0.600", "0.300", "COCO (backbone+neck)"]


def test_int8_figures_measured_before_our_int8_settings_changed_say_so(tmp_path, monkeypatch):
    import json

    from bench import parity
    from bench.publish import int8_before_settings

    monkeypatch.setattr(parity, "RECORDS", tmp_path)
    (tmp_path / "now.json").write_text(json.dumps({"int8_settings": parity.INT8_SETTINGS}))
    assert int8_before_settings() == ""
    (tmp_path / "before.json").write_text(json.dumps({"exports": {}}))  # a record from before they were recorded
    assert "measured with 8-bit weights, before our models' INT8 exports kept them to 7 bits" in int8_before_settings()
