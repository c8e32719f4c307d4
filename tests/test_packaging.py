"""What users install: the sdist and wheel `python -m build` makes, their metadata as pip and PyPI read it, and the
wheel installed by pip into a clean environment, where the stock `yolo` finds our models through the start-up hook."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from helpers import NEXT_MAJOR, fresh_run

from ultralytics_light import __version__, patches

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """{'sdist': ..., 'wheel': ...}, built from this checkout offline (the wheel from the sdist, as `build` does)."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                           capture_output=True, text=True)  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


@pytest.fixture(scope="module")
def metadata(dists) -> dict[str, list[str]]:
    """The wheel's METADATA fields, each a list of its values."""
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        text = wheel.read(f"ultralytics_light-{__version__}.dist-info/METADATA").decode()
    message = Parser().parsestr(text)
    return {key: message.get_all(key) for key in set(message.keys())}


def test_requirements_are_floors_that_admit_the_next_ultralytics_release(metadata):
    base = sorted(r for r in metadata["Requires-Dist"] if "extra ==" not in r)
    assert base == sorted([f"ultralytics<{NEXT_MAJOR},>={patches.OLDEST_VERIFIED}", "torch>=2.0", "torchvision>=0.15"])
    assert set(metadata["Provides-Extra"]) == {"docs", "export", "litert", "qat", "search", "test", "timm"}


def test_classifiers_state_what_is_tested(metadata):
    classifiers = metadata["Classifier"]
    assert not [c for c in classifiers if c.startswith("Framework :: Pytest")]  # we are not a pytest plugin
    pythons = [c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert metadata["Requires-Python"] == [f">={pythons[0]}"]
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in pythons  # this suite runs on one of them


def test_the_wheel_ships_the_start_up_hook_and_the_yamls(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        assert wheel.read("ultralytics_light.pth") == b"import ultralytics_light\n"
    assert "ultralytics_light/working_builders.json" in names  # refusals list the builders that work without a pass
    yamls = {Path(name).name for name in names if name.startswith("ultralytics_light/cfg/models/")}
    assert yamls == {path.name for path in (ROOT / "cfg" / "models").glob("*.yaml")}
    assert {"ultralytics_light/patches/__init__.py", "ultralytics_light/weights_cli.py"} <= set(names)


def test_both_dists_pass_twine_check(dists):
    """PyPI renders the README as the project's page: twine checks it as PyPI would."""
    result = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dists.values())],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_the_readme_has_no_links_that_break_on_pypi():
    """On PyPI the README is a page of its own: links to the repository's files or to headings lead nowhere. Pictures
    are the one exception: a picture of a file in the repository shows on GitHub and in a clone, PyPI shows its
    caption instead, and the README says so right after it."""
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"(?<!!)\[[^\]]*\]\(([^)]*)\)", text)
    assert [link for link in links if not link.startswith("https://")] == []
    for picture in re.finditer(r"!\[[^\]]*\]\(([^)]*)\)", text):
        if not picture.group(1).startswith("https://"):
            assert (ROOT / picture.group(1)).is_file(), picture.group(1)
            assert "PyPI" in text[picture.end() : picture.end() + 300], "say that PyPI shows no repository picture"


def user_environment(folder: Path) -> Path:
    """A folder of links to this environment's installed packages, ultralytics-light's left out: a user's torch,
    torchvision and Ultralytics, offline."""
    folder.mkdir()
    for site in dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib")):
        for entry in Path(site).iterdir():
            if not entry.name.startswith("ultralytics_light") and not (folder / entry.name).exists():
                (folder / entry.name).symlink_to(entry)
    return folder


def test_the_wheel_installed_by_pip_makes_the_stock_yolo_train_and_predict_our_models(
    dists, detect_dataset, bus_jpg, tmp_path
):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    # Python 3.11's venv brings an old setuptools that would hide the user's (torch needs a newer one); 3.12's has none
    subprocess.run([python, "-m", "pip", "uninstall", "--yes", "setuptools"], check=True, capture_output=True)
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())  # fmt: skip
    (site / "user_environment.pth").write_text(
        f"import site; site.addsitedir({str(user_environment(tmp_path / 'user'))!r})\n"
    )
    yolo = (Path(sys.executable).parent / "yolo").read_text().split("\n", 1)[1]  # pip's script, for this venv's python
    (venv / "bin" / "yolo").write_text(f"#!{python}\n{yolo}")
    (venv / "bin" / "yolo").chmod(0o755)

    installed = subprocess.run([python, "-m", "pip", "install", "--no-index", str(dists["wheel"])],
                               capture_output=True, text=True)  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert f"Successfully installed ultralytics-light-{__version__}\n" in installed.stdout  # and nothing else
    assert (site / "ultralytics_light.pth").is_file()

    runs = tmp_path / "runs"
    train = ["yolo", "train", "model=yolo11n-lite-shufflenetv2.yaml", f"data={detect_dataset}", "epochs=1", "imgsz=64",
             "batch=4", "workers=0", "device=cpu", "plots=False", f"project={runs}", "name=train"]  # fmt: skip
    trained = fresh_run(train, tmp_path, tmp_path / "settings", python=str(python))
    assert "ultralytics_light.shufflenetv2.ShuffleNetV2" in trained.stdout + trained.stderr
    best = runs / "train" / "weights" / "best.pt"
    predict = ["yolo", "predict", f"model={best}", f"source={bus_jpg}", "imgsz=64", "device=cpu", "save=False"]
    predicted = fresh_run(predict, tmp_path, tmp_path / "settings", python=str(python))
    assert "bus.jpg: 64x" in predicted.stdout + predicted.stderr

    where = fresh_run([str(python), "-c", "import ultralytics_light; print(ultralytics_light.__file__)"], tmp_path,
                      tmp_path / "settings", python=str(python))  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(site)  # the wheel's package, not this checkout's
