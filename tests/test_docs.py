"""The README and the documentation site: short README, a site that builds strictly, generated tables that match the
recorded results, and a quickstart that runs as written (data and image swapped for local files, tiny settings)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import publish

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def test_the_readme_is_short():
    assert len(README.read_text().splitlines()) <= 200


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("mkdocs", reason="mkdocs is not installed (the `docs` extra)")
    pytest.importorskip("material", reason="mkdocs-material is not installed (the `docs` extra)")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip


def test_the_site_builds_strictly_with_every_page_and_picture(tmp_path):
    result = mkdocs_build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    pages = {path.stem for path in (ROOT / "docs").glob("*.md")}
    assert pages == {"index", "install", "models", "torchvision", "weights", "training", "benchmarks", "deploying",
                     "how-it-works", "cli"}  # fmt: skip
    assert {path.stem for path in (tmp_path / "site").glob("*.html")} >= pages
    for picture in re.findall(r'<img[^>]+src="([^"]+)"', (tmp_path / "site" / "index.html").read_text()):
        assert (tmp_path / "site" / picture).is_file()


def test_a_broken_link_fails_the_build(tmp_path):
    """--strict with the config's validation settings turns a link to a missing page or heading into a failure."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    index = tmp_path / "docs" / "index.md"
    for broken in ("[gone](nowhere.md)", "[gone](install.md#no-such-heading)"):
        index.write_text(index.read_text() + f"\n{broken}\n")
        result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
        assert result.returncode != 0, broken
        index.write_text(index.read_text().replace(f"\n{broken}\n", ""))


def test_generated_sections_are_what_the_recorded_results_render():
    """No hand edit of a published figure: every generated section equals what bench/publish.py renders from the
    recorded bench and matrix files (run `make docs-tables` after new results)."""
    assert publish.stale() == []
    for page, names in publish.PAGES.items():  # and no page has a section that nothing writes
        assert set(re.findall(r"<!-- ([\w-]+):start -->", page.read_text())) == set(names), page


def test_publish_replaces_only_between_the_markers():
    text = "before\n<!-- speed:start -->\nold\n<!-- speed:end -->\nafter\n"
    assert (
        publish.with_section(text, "speed", "new\n") == "before\n<!-- speed:start -->\nnew\n<!-- speed:end -->\nafter\n"
    )
    with pytest.raises(ValueError, match="speed:start"):
        publish.with_section("no markers\n", "speed", "new\n")


NEW_INT8 = """model,export,ms,iqr,ratio,ratio_default,imgsz,machine,bf16
yolo11n-lite-mobilenetv2,onnx fp32,26.0,0.9,1.00,,640,"Some CPU, 2 threads",yes
yolo11n-lite-mobilenetv2,onnx int8,54.4,1.3,2.09,,640,"Some CPU, 2 threads",yes
yolo11n-lite-mobilenetv2,openvino fp32,19.6,0.3,1.00,2.02,640,"Some CPU, 2 threads",yes
yolo11n-lite-mobilenetv2,openvino fp32 default,9.7,0.1,0.49,1.00,640,"Some CPU, 2 threads",yes
yolo11n-lite-mobilenetv2,openvino int8,7.7,0.1,0.39,0.79,640,"Some CPU, 2 threads",yes
"""


def test_int8_tables_show_both_openvino_ratios_once_the_bench_measures_them(tmp_path, monkeypatch):
    """bench/int8.py now times OpenVINO's float32 at its default precision too: the published tables then show INT8
    against both, and drop the 'pinned to f32 only' caveat."""
    shutil.copytree(publish.BENCH, tmp_path / "bench", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (tmp_path / "bench" / "int8.csv").write_text(NEW_INT8)
    monkeypatch.setattr(publish, "BENCH", tmp_path / "bench")
    latency = publish.int8_latency(publish.DOCS / "deploying.md")
    assert "OpenVINO INT8 ÷ FP32 default" in latency and "had bf16: yes" in latency and "on Some CPU" in latency
    assert "| yolo11n-lite-mobilenetv2 | 0.39 (7.7 ms) | 0.79 (7.7 ms) | 2.09 (54.4 ms) |" in latency
    assert "float32 pinned to f32.**" not in latency
    formats = publish.int8_formats(publish.ROOT / "README.md")
    assert "0.39× (7.7 ms) ÷ float32 pinned to f32, 0.79× ÷ float32 at OpenVINO's default" in formats


def quickstart_blocks() -> dict[str, str]:
    """{'bash': ..., 'python': ...}: the fenced code blocks of the README's Quickstart section."""
    text = README.read_text()
    quickstart = re.search(r"^## Quickstart\n(.*?)(?=^## )", text, re.S | re.M).group(1)
    blocks = dict(re.findall(r"^```(\w+)\n(.*?)^```", quickstart, re.S | re.M))
    assert set(blocks) == {"bash", "python"}
    return blocks


def test_the_readme_quickstart_runs(run_fresh, detect_dataset, bus_jpg, tmp_path):
    """The README's Quickstart commands, as written but for their data (the tests' tiny dataset instead of coco8),
    image (Ultralytics' bus.jpg on disk instead of its URL), `epochs=1 imgsz=64`, and `workers=0` for training; in
    fresh offline interpreters, the ImageNet file from the tests' torchvision cache."""
    blocks = quickstart_blocks()
    swap = {"data": str(detect_dataset), "source": str(bus_jpg), "epochs": "1", "imgsz": "64"}
    commands = [shlex.split(line.replace("$PWD", str(tmp_path))) for line in blocks["bash"].splitlines() if line]
    assert [command[:2] for command in commands] == [["yolo", "train"], ["yolo", "predict"]]
    for command in commands:
        args = [f"{arg.split('=')[0]}={swap[arg.split('=')[0]]}" if arg.split("=")[0] in swap else arg
                for arg in command]  # fmt: skip
        if command[1] == "train":
            args.append("workers=0")
        result = run_fresh(*args, cwd=tmp_path)
    assert "bus.jpg: 64x64" in result.stdout + result.stderr  # the predict ran on the trained best.pt
    assert (tmp_path / "runs" / "lite" / "weights" / "best.pt").is_file()

    code = blocks["python"]
    code, n_data = re.subn(r'data="[^"]*"', f'data="{detect_dataset}"', code)
    code, n_source = re.subn(r'"https://[^"]*\.jpg"', f'"{bus_jpg}"', code)
    code, n_epochs = re.subn(r"\bepochs=\d+", "epochs=1", code)
    code = re.sub(r"imgsz=\d+", "imgsz=64", code).replace("nbs=16,", "nbs=16, workers=0,")
    assert n_data == n_source == n_epochs == 1, blocks["python"]
    (tmp_path / "python").mkdir()
    script = tmp_path / "python" / "quickstart.py"
    script.write_text(code + "\nprint('quickstart boxes:', len(results[0].boxes))\n")
    result = run_fresh(sys.executable, str(script), cwd=tmp_path / "python")
    assert "quickstart boxes:" in result.stdout


def test_the_readme_names_commands_that_exist():
    """Every `ultralytics-light` command in the README is one the package has."""
    commands = set(re.findall(r"^ultralytics-light ([\w-]+)", README.read_text(), re.M))
    assert commands <= {"weights", "bench-accuracy", "time", "checks", "help"}, commands
    assert {"weights", "bench-accuracy"} <= commands


def test_make_docs_and_ci_build_the_site():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^docs:\n\t.*mkdocs build --strict", makefile, re.M)
    assert '".[test,export,qat,litert,docs,timm,search]"' in makefile
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci.index("make install") < ci.index("make docs") < ci.index("make test")
