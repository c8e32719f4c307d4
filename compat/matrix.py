"""The compatibility matrix: ultralytics-light against a list of Ultralytics releases, each in isolation.

Each release is installed with `pip install --no-deps --target` into a cache folder and put first on PYTHONPATH; torch,
torchvision, the exporters and ultralytics-light itself come from the main environment, which nothing here changes.
Every check runs in a fresh interpreter (our start-up hook included), offline, with torchvision-format weights made
on the spot:

- stock: Ultralytics' own model builds (yolo11n.yaml; yolov8n.yaml on releases before YOLO11);
- yamls: every shipped YAML builds at scale n (in range), or is refused with UnsupportedReleaseError (out of range);
- train, predict: `yolo train` one tiny epoch of yolo11n-shufflenetv2.yaml, `yolo predict` with its best.pt;
- reload: best.pt loads, with our rows, and predicts (restricted loading too, where the release has it);
- onnx: `yolo export format=onnx`, and ONNX Runtime's predictions equal PyTorch's;
- int8: where the release has ONNX Runtime INT8 (8.4.60 on), `yolo export format=onnx quantize=8` scales every
  convolution's weights per channel (our settings, patches/onnx_int8_quantize.py).
- scratch, reformat: `pretrained=False` reads no ImageNet file; the parse_model patch survives `ast.unparse`;
- timm: a model of TimmBackbone rows (timm's MobileNetV4-Conv-Small) builds and runs, where timm is installed.

Besides the releases listed below, the newest release on the package index is resolved when the matrix runs and
checked too. Newer than every verified release, it is tried as our users' installs try it (patches/__init__.py): its
failures are reported as warnings and in the table, but fail the run only for releases in the verified range, so that
a day on which Ultralytics changes something of theirs does not turn CI red.

    python compat/matrix.py                       # every release below and the newest; writes compat/results.md
    python compat/matrix.py --releases 8.4.0      # one release
    python -m bench.publish                       # then publish the results into the docs (make test-compat does)
    python compat/matrix.py --python venv/bin/python --releases 8.4.190 --out compat/floor.md   # another environment
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the helpers the tests use (tests/helpers.py)

from helpers import fresh_command, rectangles_dataset, timm_yaml  # noqa: E402

from ultralytics_light.patches import NEWEST_VERIFIED, OLDEST_VERIFIED  # noqa: E402
from ultralytics_light.timm_backbone import INSTALL  # noqa: E402  (what timm's rows say where it is missing)

# The supported range's ends, both sides of each change in Ultralytics' internals that our patches depend on (reg_max
# in 8.4.0, restricted loading in 8.4.67, its allow-list a dict from 8.4.126), and releases spread between. The ends
# must equal patches.OLDEST_VERIFIED/NEWEST_VERIFIED (a test checks it).
IN_RANGE = (
    "8.3.253", "8.4.0", "8.4.20", "8.4.50", "8.4.66", "8.4.67", "8.4.80", "8.4.120", "8.4.125", "8.4.126", "8.4.150",
    "8.4.190",
)  # fmt: skip
OUT_OF_RANGE = ("8.2.103",)  # stock must still work there, and our models must refuse (UnsupportedReleaseError)
NEWEST = "newest"  # in --releases: the newest release on the package index, resolved when the matrix runs
DECLARED = {"older": "outside", "supported": "supported", "newer": "newer: tried"}
TRAINED = "yolo11n-shufflenetv2.yaml"  # one detect model every supported release builds
# Exception class names the checks report (compat/checks.py): outcomes are decided on them, never on message text
REFUSED = "UnsupportedReleaseError"  # patches/unsupported_release.py: our models refuse this release
NO_HEAD = "HeadUnsupportedError"  # patches/model_yaml.py: a lite model on a release before reg_max and end2end
CHECKS = ("stock", "yamls", "train", "predict", "reload", "onnx", "int8", "scratch", "reformat", "timm")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ultralytics-light" / "compat"


def version_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def kind(release: str) -> str:
    """'older' than every verified release (refused), 'supported' (the verified range), or 'newer' (tried)."""
    if version_key(release) < version_key(OLDEST_VERIFIED):
        return "older"
    return "newer" if version_key(release) > version_key(NEWEST_VERIFIED) else "supported"


def newest_release() -> str:
    """The newest Ultralytics release the package index serves now, through pip and its settings."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "ultralytics", "--disable-pip-version-check"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = re.search(r"^ultralytics \(([0-9.]+)\)", result.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(tail(result))
    return found.group(1)


def offline_caches(work: Path, python: str) -> None:
    """tests/helpers.py's weights caches, made by `python` (its torchvision names the files, some changed over time),
    set for every check: TORCH_HOME for torchvision's files, HF_HOME (offline) for timm's."""
    code = (
        "import sys, pathlib, helpers; helpers.offline_torch_home(pathlib.Path(sys.argv[1])); "
        "helpers.offline_hf_home(pathlib.Path(sys.argv[2]))"
    )
    homes = {"TORCH_HOME": work / "torch_home", "HF_HOME": work / "hf_home"}
    subprocess.run(
        [python, "-c", code, *map(str, homes.values())],
        check=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parent / "tests")},
    )
    os.environ.update({key: str(home) for key, home in homes.items()}, HF_HUB_OFFLINE="1")


def install(release: str, cache: Path) -> Path:
    """The folder holding Ultralytics `release` alone (installed there once, without its dependencies)."""
    target = cache / f"ultralytics-{release}"
    if not (target / f"ultralytics-{release}.dist-info").is_dir():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--target", str(target), f"ultralytics=={release}"],
            capture_output=True, text=True, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"},
        )  # fmt: skip
        if result.returncode:
            raise SystemExit(f"could not install ultralytics=={release}:\n{result.stdout}{result.stderr}")
    return target


class Release:
    """Runs the checks for one installed release, each in a fresh interpreter."""

    def __init__(self, release: str, target: Path, work: Path, python: str = sys.executable):
        self.release, self.target, self.work, self.python = release, target, work / release, python
        self.work.mkdir(parents=True, exist_ok=True)
        self.kind = kind(release)
        self.tried = self.kind != "older"  # our patches are applied (or their failure reported), not refused outright
        self.log = self.work / "log.txt"

    def run(self, *args: str, env: dict | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
        command, fresh_env = fresh_command(list(args), self.work / "settings", str(self.target), self.python)
        result = subprocess.run(command, cwd=self.work, env={**fresh_env, **(env or {})}, capture_output=True,
                                text=True, timeout=timeout)  # fmt: skip
        with self.log.open("a") as log:
            log.write(f"$ {' '.join(args)}\n{result.stdout}\n{result.stderr}\nexit {result.returncode}\n\n")
        return result

    def check(self, name: str, *args: str, env: dict | None = None) -> dict:
        result = self.run(self.python, str(HERE / "checks.py"), name, *args, env=env)
        lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
        if result.returncode or not lines:
            return {"ok": False, "detail": tail(result)}
        outcome = json.loads(lines[-1].split(" ", 1)[1])
        if outcome["version"] != self.release:  # PYTHONPATH did not take: the main environment's release ran
            return {"ok": False, "detail": f"ran ultralytics {outcome['version']}, not {self.release}"}
        return outcome

    def stock(self) -> tuple[bool, str]:
        name = "yolo11n.yaml" if (self.target / "ultralytics/cfg/models/11").is_dir() else "yolov8n.yaml"
        result = self.check("stock", name)
        return result["ok"], f"{name}: {'builds' if result['ok'] else result['detail']}"

    def yamls(self) -> tuple[bool, str]:
        result = self.check("yamls")
        if "outcomes" not in result:
            return False, result["detail"]
        outcomes = result["outcomes"]
        errors = {name: outcome.get("error") for name, outcome in outcomes.items()}
        built = [name for name, error in errors.items() if error is None]
        if not self.tried:
            refused = [name for name, error in errors.items() if error == REFUSED]
            return len(refused) == len(outcomes), f"{len(refused)}/{len(outcomes)} refused ({REFUSED})"
        refused_lite = [name for name, error in errors.items() if error == NO_HEAD]
        details = {name: outcome.get("detail", "") for name, outcome in outcomes.items()}
        # timm is an optional extra: without it, its families' YAMLs refuse with the install command (test-floor)
        without_timm = [name for name, error in errors.items() if error == "ImportError" and INSTALL in details[name]]
        failed = sorted(set(outcomes) - set(built) - set(refused_lite) - set(without_timm))
        detail = f"{len(built)}/{len(outcomes)} build"
        if refused_lite:
            detail += f" ({len(refused_lite)} lite: need 8.4's reg_max/end2end)"
        if without_timm:
            detail += f" ({len(without_timm)} need timm, not installed)"
        by_error = {}  # one line per distinct error (a failed patch fails every model alike)
        for name in failed:
            by_error.setdefault(outcomes[name]["detail"], []).append(name)
        for error, names in by_error.items():
            detail += f"; {len(names)} failed ({names[0]}{', ...' if len(names) > 1 else ''}): {error}"
        return not failed and all("-lite-" in name for name in refused_lite), detail

    def train(self) -> tuple[bool, str]:
        args = ("train", f"model={TRAINED}", f"data={self.work.parent / 'data' / 'data.yaml'}", "epochs=1", "imgsz=64",
                "batch=4", "workers=0", "device=cpu", "plots=False", f"project={self.work / 'runs'}", "name=train",
                "exist_ok=True")  # fmt: skip
        if not self.tried:  # through the console script's entry point, so that the refusal's type is reported
            result = self.check("cli", *args)
            refused = result.get("error") == REFUSED
            return refused, f"refused ({REFUSED})" if refused else f"not refused: {result.get('detail', 'trained')}"
        result = self.run("yolo", *args)
        output = result.stdout + result.stderr
        if result.returncode or not self.best.is_file():
            return False, tail(result)
        if f"Ultralytics {self.release} " not in output:
            return False, f"did not run ultralytics {self.release}"
        warnings = output.count(f"and {self.release} is running: its patches applied")
        if self.kind == "newer":  # one warning that the release is not verified yet, once
            return warnings == 1, f"1 epoch, {warnings} unverified-release warning(s)"
        return warnings == 0, "1 epoch" + (", warned unverified!" if warnings else "")

    @property
    def best(self) -> Path:
        return self.work / "runs" / "train" / "weights" / "best.pt"

    @property
    def bus(self) -> Path:
        return self.target / "ultralytics" / "assets" / "bus.jpg"

    def predict(self) -> tuple[bool, str]:
        result = self.run("yolo", "predict", f"model={self.best}", f"source={self.bus}", "imgsz=64", "device=cpu",
                          "save=False", f"project={self.work / 'predict'}")  # fmt: skip
        ok = result.returncode == 0 and "bus.jpg: 64x" in result.stdout + result.stderr
        return ok, "bus.jpg" if ok else tail(result)

    def reload(self) -> tuple[bool, str]:
        result = self.check("reload", str(self.best), str(self.bus), env={"ULTRALYTICS_SAFE_LOAD": "0"})
        if not result["ok"]:
            return False, result.get("detail") or str(result.get("rows"))
        return True, "our rows" + (", also restricted" if result["restricted"] else "")

    def onnx(self) -> tuple[bool, str]:
        result = self.run("yolo", "export", f"model={self.best}", "format=onnx", "imgsz=64")
        exported = self.best.with_suffix(".onnx")
        if result.returncode or not exported.is_file():
            return False, tail(result)
        result = self.check("onnx", str(self.best), str(exported))
        if "box" not in result:
            return False, result["detail"]
        return result["ok"], f"= PyTorch (boxes {result['box']:.0e} px, scores {result['score']:.0e})"

    def int8(self) -> tuple[bool | None, str]:
        quantizer = self.target / "ultralytics" / "utils" / "export" / "onnx.py"
        if not quantizer.is_file() or "def onnx_int8_quantize" not in quantizer.read_text():
            return None, "no ONNX Runtime INT8"
        default = (self.target / "ultralytics" / "cfg" / "default.yaml").read_text()
        quantize = "quantize=8" if "\nquantize:" in default else "int8=True"  # older releases take `int8`
        result = self.run("yolo", "export", f"model={self.best}", "format=onnx", "imgsz=64", quantize,
                          f"data={self.work.parent / 'data' / 'data.yaml'}")  # fmt: skip
        exported = self.best.with_name(f"{self.best.stem}_int8.onnx")
        if result.returncode or not exported.is_file():
            return False, tail(result)
        result = self.check("int8", str(exported))
        if "convs" not in result:
            return False, result["detail"]
        return result["ok"], f"{result['per_channel']}/{result['convs']} convs per channel"

    def scratch(self) -> tuple[bool, str]:
        """`yolo train ... pretrained=False` with no ImageNet file anywhere: our rows train from random weights."""
        empty = self.work / "no-imagenet"
        empty.mkdir(exist_ok=True)
        result = self.run("yolo", "train", f"model={TRAINED}", f"data={self.work.parent / 'data' / 'data.yaml'}",
                          "epochs=1", "imgsz=64", "batch=4", "workers=0", "device=cpu", "plots=False",
                          "pretrained=False", f"project={self.work / 'runs'}", "name=scratch", "exist_ok=True",
                          env={"TORCH_HOME": str(empty)})  # fmt: skip
        best = self.work / "runs" / "scratch" / "weights" / "best.pt"
        if result.returncode or not best.is_file():
            return False, tail(result)
        result = self.check("init", str(best))
        if "init" not in result:
            return False, result["detail"]
        return result["ok"], "no ImageNet file read, rows from " + ", ".join(sorted(set(result["init"])))

    def reformat(self) -> tuple[bool | None, str]:
        """The parse_model patch on the release's parse_model rewritten by ast.unparse builds our model the same."""
        if not self.tried:
            return None, "n/a"
        result = self.check("reformat", TRAINED)
        if "tensors" not in result:
            return False, result["detail"]
        return result["ok"], f"ast.unparse'd parse_model: same {result['tensors']} tensors"

    def timm(self) -> tuple[bool | None, str]:
        """A model of TimmBackbone rows (timm's MobileNetV4-Conv-Small, random weights, YOLO11 head) builds and runs."""
        if not self.tried:
            return None, "n/a"
        if importlib.util.find_spec("timm") is None:
            return None, "timm not installed"
        result = self.check("stock", str(timm_yaml(self.work, template="yolo11-resnet18.yaml")))
        return result["ok"], "MobileNetV4 rows build and run" if result["ok"] else result["detail"]

    def results(self) -> dict[str, tuple[bool | None, str]]:
        """Each check's (passed, detail); None where it does not apply or an earlier one failed."""
        results = {}
        for name in CHECKS:
            if name in ("predict", "reload", "onnx", "int8", "scratch") and (not self.tried or not results["train"][0]):
                results[name] = (None, "n/a" if not self.tried else "no best.pt")
                continue
            results[name] = getattr(self, name)()
        return results


def tail(result: subprocess.CompletedProcess) -> str:
    return ((result.stderr + result.stdout).strip().splitlines() or ["no output"])[-1][:300]


def table(rows: dict[str, dict[str, tuple[bool | None, str]]], newest: str | None) -> str:
    mark = {True: "✅", False: "❌", None: "–"}
    lines = [
        "| release | declared | " + " | ".join(CHECKS) + " |",
        "|---|---|" + "---|" * len(CHECKS),
    ]
    for release, results in rows.items():
        declared = DECLARED[kind(release)] + (", newest on the index" if release == newest else "")
        cells = [f"{mark[results[c][0]]} {results[c][1]}" for c in CHECKS]
        lines.append(f"| {release} | {declared} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment(python: str) -> str:
    """The versions that `python` runs the checks with."""
    code = (
        "import platform; from importlib.metadata import version; "
        "print(f'Python {platform.python_version()}, ' + ', '.join(f'{p} {version(p)}' for p in "
        "('torch', 'torchvision', 'onnxruntime', 'ultralytics-light')))"
    )
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def resolve(releases: list[str]) -> tuple[list[str], str | None, str]:
    """The releases to check, with NEWEST resolved; the newest release (None if unresolved) and a note on it."""
    if NEWEST not in releases:
        return releases, None, ""
    try:
        newest = newest_release()
    except Exception as error:
        note = f"⚠️ The newest release on the package index could not be resolved ({error}), so it was not checked."
        print(f"WARNING: {note}")
        return [r for r in releases if r != NEWEST], None, note
    resolved = list(dict.fromkeys(newest if r == NEWEST else r for r in releases))
    return resolved, newest, f"The newest release on the package index when this ran: {newest}."


def exit_status(failing: dict[str, list[str]]) -> int:
    """1 if a verified release, or an older one (which must refuse), failed a check; newer ones only warn."""
    return 1 if any(names for release, names in failing.items() if kind(release) != "newer") else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", nargs="+", default=[*OUT_OF_RANGE, *IN_RANGE, NEWEST],
                        help=f"releases to check; '{NEWEST}': the newest on the package index")  # fmt: skip
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter whose environment (torch, torchvision, exporters, ultralytics-light) "
                             "runs the checks; this one by default")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=CACHE, help="where releases are installed (kept for reuse)")
    parser.add_argument("--out", type=Path, help="where to write the results (compat/results.md for a full run)")
    args = parser.parse_args()
    args.python = os.path.abspath(args.python)  # the checks run in another folder; a venv's python stays a link
    full = set(IN_RANGE + OUT_OF_RANGE) <= set(args.releases) and args.python == sys.executable
    out = args.out or (HERE / "results.md" if full else None)
    releases, newest, newest_note = resolve(args.releases)

    start, rows = time.time(), {}
    with tempfile.TemporaryDirectory(prefix="ultralytics-light-compat-") as tmp:
        work = Path(tmp)
        offline_caches(work, args.python)
        rectangles_dataset(work / "data")
        for k, release in enumerate(releases, 1):
            print(f"[{k}/{len(releases)}] ultralytics {release} ({DECLARED[kind(release)]}) ...", flush=True)
            started = time.time()
            try:
                runner = Release(release, install(release, args.cache), work, args.python)
            except SystemExit as error:  # pip could not install it: for a newer release, a row saying so
                if kind(release) != "newer":
                    raise
                rows[release] = {name: (False if name == "stock" else None, str(error)[:300]) for name in CHECKS}
                continue
            rows[release] = runner.results()
            for name, (passed, detail) in rows[release].items():
                print(f"    {name:8s} {'pass' if passed else 'n/a ' if passed is None else 'FAIL'}  {detail}")
            failed = [name for name, (passed, _) in rows[release].items() if passed is False]
            print(f"    {'FAILED: ' + ', '.join(failed) if failed else 'ok'} in {time.time() - started:.0f} s")
            if failed:
                print(runner.log.read_text()[-6000:])
        elapsed = time.time() - start

    failing = {
        release: [name for name, (passed, _) in checks.items() if passed is False] for release, checks in rows.items()
    }
    newer_failing = [release for release, names in failing.items() if names and kind(release) == "newer"]
    releases_run = f"{len(rows)} release{'s' * (len(rows) != 1)}"
    timing = f"{releases_run} in {elapsed / 60:.1f} min on {os.cpu_count()} CPUs; {environment(args.python)}."
    summary = "\n\n".join(part for part in (table(rows, newest), newest_note, timing) if part)
    print("\n" + summary)
    for release in newer_failing:
        print(f"\nWARNING: ultralytics {release}, newer than the newest verified release ({NEWEST_VERIFIED}), fails "
              f"{', '.join(failing[release])}: see its row and log above. Users who upgrade to it meet this; it does "
              f"not fail the run, which fails only for releases in the verified range.")  # fmt: skip
    if out:
        out.write_text(f"# Compatibility matrix\n\nWritten by `{' '.join(['python', *sys.argv])}`.\n\n{summary}\n")
    return exit_status(failing)


if __name__ == "__main__":
    sys.exit(main())
