"""The checks of one installed Ultralytics release, each in a fresh interpreter (compat/checks.py runs inside it), with
the weights caches and the tiny data set they share."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import fresh_command, timm_yaml
from releases import kind, tail

from ultralytics_light.timm_backbone import INSTALL  # what timm's rows say where it is missing

HERE = Path(__file__).resolve().parent
TRAINED = "yolo11n-shufflenetv2.yaml"  # one detect model every supported release builds
# Exception class names the checks report (compat/checks.py): outcomes are decided on them, never on message text
REFUSED = "UnsupportedReleaseError"  # patches/unsupported_release.py: our models refuse this release
NO_HEAD = "HeadUnsupportedError"  # patches/model_yaml.py: a lite model on a release before reg_max and end2end
CHECKS = ("stock", "yamls", "train", "predict", "reload", "onnx", "int8", "scratch", "reformat", "timm")


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
