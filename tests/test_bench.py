"""`make bench` keeps working: one tiny model at a tiny size. No timing is asserted."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

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
