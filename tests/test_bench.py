"""`make bench` and the INT8 bench keep working: one tiny model at a tiny size. No timing or mAP is asserted."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench.py"


def test_bench_writes_results_for_one_tiny_model(run_fresh, tmp_path):
    out = tmp_path / "bench"
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- bench:start -->\nold table\n<!-- bench:end -->\nafter\n")
    result = run_fresh(
        sys.executable, str(BENCH), "--models", "yolo11n-lite-shufflenetv2.yaml", "--sizes", "64",
        "--runs", "2", "--warmup", "1", "--threads", "1", "--out", str(out), "--readme", str(readme),
    )  # fmt: skip
    assert "[1/1] building and exporting yolo11n-lite-shufflenetv2.yaml" in result.stdout
    assert "1 threads, warm-up 1, runs 2" in result.stdout
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["model"] for row in rows] == ["yolo11n-lite-shufflenetv2"]
    assert {"params_M", "gflops_640", "torch_ms_64", "torch_iqr_64", "ort_ms_64", "ort_iqr_64"} <= rows[0].keys()
    assert float(rows[0]["torchcl_ms_64"]) > 0 and float(rows[0]["torchcl_iqr_64"]) >= 0  # channels-last, as predict
    assert 0.2 < float(rows[0]["params_M"]) < 1.0 and float(rows[0]["gflops_640"]) > 0
    assert float(rows[0]["ort_ms_64"]) > 0
    assert "| yolo11n-lite-shufflenetv2 |" in (out / "results.md").read_text()
    assert (out / "latency_vs_params.png").read_bytes()[:4] == b"\x89PNG"
    text = readme.read_text()
    assert "old table" not in text and "| yolo11n-lite-shufflenetv2 |" in text
    assert text.startswith("before\n<!-- bench:start -->\n") and text.endswith("<!-- bench:end -->\nafter\n")


@pytest.mark.parametrize("trained", ["yolo11n-lite-shufflenetv2.yaml"], indirect=True)
def test_int8_bench_times_and_validates_every_export_of_a_checkpoint(trained, detect_dataset, run_fresh, tmp_path):
    _, best = trained
    out = tmp_path / "int8.md"
    run_fresh(
        sys.executable, str(BENCH.with_name("int8.py")), "--models", str(best), "--data", str(detect_dataset),
        "--imgsz", "64", "--runs", "2", "--warmup", "1", "--val", "--out", str(out),
    )  # fmt: skip
    rows = [line.strip("| ").split(" | ") for line in out.read_text().splitlines() if line.startswith("| train/best |")]
    formats = ("onnx", "openvino", "litert")
    assert [row[1] for row in rows] == [f"{fmt} {precision}" for fmt in formats for precision in ("fp32", "int8")]
    for _, fmt, latency, ratio, map50, map50_95 in rows:
        assert float(latency.split(" ± ")[0]) > 0
        assert fmt.endswith("int8") or ratio == "1.00"
        assert 0 <= float(map50_95) <= float(map50) <= 1
