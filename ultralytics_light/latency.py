"""`ultralytics-light time`: each model's latency on the machine it runs on, under the runtime it will run with there.

Run it on the target device (a Raspberry Pi, an x86 box with OpenVINO, a phone's dev board) and hand its CSV to
`bench-accuracy latency=`: the budget, the ratio column and the Pareto front then use the device's latency instead of
the training machine's. Each model is exported as Ultralytics exports it (a YAML from random weights: latency does not
depend on them; a released checkpoint that cannot be had here from its YAML, the same graph), then all are timed
interleaved, batch 1 on a fixed image, so that drift in the machine's load hits every model alike. The CSV holds one row
per model (`model`, `ms`: the median, `iqr_ms`) with the device, runtime, threads, size and versions it was measured
with; a person can read and edit it.
"""

from __future__ import annotations

import csv
import platform
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ultralytics_light.command import Command, Option, UsageError


@dataclass(frozen=True)
class Runtime:
    """An inference runtime a model is timed in.

    Args:
        format: Ultralytics' export `format=` for it.
        suffix: What Ultralytics names the export after the checkpoint's stem.
        module: The Python module it runs with.
        extra: Our pip extra that installs it.
    """

    format: str
    suffix: str
    module: str
    extra: str


RUNTIMES = {
    "onnxruntime": Runtime("onnx", ".onnx", "onnxruntime", "export"),
    "openvino": Runtime("openvino", "_openvino_model", "openvino", "export"),
    "ncnn": Runtime("ncnn", "_ncnn_model", "ncnn", "export"),
    "litert": Runtime("litert", ".tflite", "ai_edge_litert", "litert"),
}
COLUMNS = ("model", "ms", "iqr_ms", "runtime", "imgsz", "threads", "device", "versions", "source")


def device_name() -> str:
    """What the machine is: a board's model (a Raspberry Pi's device tree), else its CPU, else its architecture."""
    for path, key in (("/proc/device-tree/model", None), ("/proc/cpuinfo", "model name")):
        try:
            text = Path(path).read_text(errors="replace")
        except OSError:
            continue
        if key is None and text.strip("\x00\n "):
            return text.strip("\x00\n ")
        found = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(key or "\0")]
        if found:
            return found[0]
    return platform.processor() or platform.machine()


def versions(runtime: str) -> str:
    """The versions a latency depends on: Python, the runtime, torch (which exported it) and Ultralytics."""
    from importlib.metadata import PackageNotFoundError, version

    import torch
    import ultralytics

    packages = {"onnxruntime": "onnxruntime", "openvino": "openvino", "ncnn": "ncnn", "litert": "ai-edge-litert"}
    try:
        runtime_version = version(packages[runtime])
    except PackageNotFoundError:
        runtime_version = "unknown"
    return (
        f"Python {platform.python_version()}, {packages[runtime]} {runtime_version}, torch {torch.__version__}, "
        f"ultralytics {ultralytics.__version__}"
    )


def runtime_of(name: str) -> Runtime:
    """The runtime named `name`, installed; a UsageError naming the choices, or the install command."""
    import importlib.util

    if name not in RUNTIMES:
        raise UsageError(f"time: runtime= takes one of {', '.join(RUNTIMES)}, got {name!r}.")
    runtime = RUNTIMES[name]
    if importlib.util.find_spec(runtime.module) is None:
        install = f"pip install 'ultralytics-light[{runtime.extra}]'"
        raise UsageError(f"time: runtime={name} needs the {runtime.module} package: {install}.")
    return runtime


def model_name(model: str) -> str:
    """How bench-accuracy's table names a model: a YAML's or released checkpoint's stem, RUN/best for a run's
    best.pt, else the checkpoint's stem."""
    from ultralytics_light.accuracy.plan import checkpoint_label
    from ultralytics_light.accuracy.references import is_release

    path = Path(model)
    return checkpoint_label(path) if path.suffix == ".pt" and not is_release(model) else path.stem


def checkpoint(model: str, name: str, folder: Path) -> tuple[Path, str]:
    """(a checkpoint of `model`'s graph in `folder`, named after `name`, so that its exports land there; what it was
    made from)."""
    from ultralytics import YOLO

    from ultralytics_light.accuracy.references import is_release, release_checkpoint
    from ultralytics_light.backbone_init import pretrained

    target = folder / f"{name.replace('/', '-')}.pt"
    source, note = Path(model), "random weights"
    if is_release(model):
        found, _ = release_checkpoint(model)
        if found is None:  # not here: its YAML, the same graph
            source, note = Path(f"{source.stem}.yaml"), f"random weights; {model} is not here, the graph is the same"
        else:
            source = found
    if source.suffix == ".pt":
        if not source.is_file():
            raise FileNotFoundError(f"time: {model} not found. Give a checkpoint's path, or a model YAML.")
        shutil.copyfile(source, target)
        return target, str(source)
    with pretrained(False):  # latency does not depend on the weights: no ImageNet file is read
        YOLO(str(source)).save(target)
    return target, f"{source} ({note})"


def export(checkpoint_path: Path, runtime: Runtime, imgsz: int) -> Path:
    """The checkpoint exported for `runtime` at `imgsz` (float32), beside it."""
    from ultralytics import YOLO

    return Path(YOLO(checkpoint_path).export(format=runtime.format, imgsz=imgsz, device="cpu"))


def runner(path: Path, imgsz: int, threads: int, precision: str | None = "f32") -> Callable[[], object]:
    """A callable that runs one inference of the export at `path` (ONNX, OpenVINO, NCNN or LiteRT, told by its name)
    on a fixed random image, with `threads` threads. OpenVINO compiles with `INFERENCE_PRECISION_HINT: precision`, or
    at its default precision (bf16 on CPUs that have it) when `precision` is None."""
    from ultralytics_light.timing import ort_options

    x = np.random.default_rng(0).random((1, 3, imgsz, imgsz), dtype=np.float32)
    if path.suffix == ".onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), ort_options(threads), providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x}
        return lambda: session.run(None, feed)
    if path.suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path), num_threads=threads)
        interpreter.allocate_tensors()
        index = interpreter.get_input_details()[0]["index"]

        def invoke() -> None:
            interpreter.set_tensor(index, x)
            interpreter.invoke()

        return invoke
    if path.name.endswith("_ncnn_model"):
        import ncnn

        net = ncnn.Net()
        net.opt.num_threads = threads
        net.load_param(str(path / "model.ncnn.param"))
        net.load_model(str(path / "model.ncnn.bin"))
        image = ncnn.Mat(x[0])

        def extract() -> None:
            with net.create_extractor() as extractor:
                extractor.input(net.input_names()[0], image)
                for name in net.output_names():
                    extractor.extract(name)

        return extract
    import openvino as ov

    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if precision:
        config["INFERENCE_PRECISION_HINT"] = precision
    request = ov.Core().compile_model(str(next(path.glob("*.xml"))), "CPU", config).create_infer_request()
    return lambda: request.infer({0: x})


def time_models(models: dict[str, str], imgsz: int, runtime: str, threads: int, warmup: int, runs: int,
                folder: Path) -> list[dict]:  # fmt: skip
    """Each model (name -> YAML or checkpoint) exported for `runtime` into `folder` and timed, interleaved with the
    others: the CSV's rows."""
    import torch

    from ultralytics_light.timing import summary, time_interleaved

    kind = runtime_of(runtime)
    folder.mkdir(parents=True, exist_ok=True)
    names, sources, runners = [], [], []
    for name, model in models.items():
        print(f"exporting {name} for {runtime} at {imgsz}", flush=True)
        path, source = checkpoint(model, name, folder)
        names.append(name)
        sources.append(source)
        runners.append({runtime: runner(export(path, kind, imgsz), imgsz, threads)})
    torch.set_num_threads(threads)
    times = time_interleaved(runners, warmup, runs)
    device, about = device_name(), versions(runtime)
    rows = []
    for name, source, model_times in zip(names, sources, times):
        median, iqr = summary(model_times[runtime])
        rows.append({"model": name, "ms": f"{median:.2f}", "iqr_ms": f"{iqr:.2f}", "runtime": runtime, "imgsz": imgsz,
                     "threads": threads, "device": device, "versions": about, "source": source})  # fmt: skip
    return rows


@dataclass(frozen=True)
class Latencies:
    """Latencies read from a `time` CSV: each model's (median, IQR) in ms, and where they were measured.

    Args:
        ms: Model name -> (median, IQR) in ms.
        device: The machine they were measured on.
        runtime: The runtime they were measured in.
        threads: Its threads.
        imgsz: The image size.
        versions: The versions they were measured with.
    """

    ms: dict[str, tuple[float, float]]
    device: str
    runtime: str
    threads: int
    imgsz: int
    versions: str

    def about(self, path: Path) -> str:
        """How a table says where its latencies come from."""
        return (
            f"{self.runtime} on {self.device}, {self.threads} threads; {self.versions}, batch 1, {self.imgsz} px "
            f"(from {path.name}, `ultralytics-light time`)"
        )


def read_latencies(path: Path) -> Latencies:
    """A `time` CSV; a ValueError naming what is wrong with it (a missing column, a number that is not one, rows from
    more than one device, runtime, thread count or size)."""
    if not path.is_file():
        raise FileNotFoundError(f"latency={path}: no such file. Write one with `ultralytics-light time`.")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [column for column in COLUMNS[:-2] if not rows or column not in rows[0]]
    if missing:
        raise ValueError(f"latency={path}: needs the columns {', '.join(COLUMNS[:-2])}; missing {', '.join(missing)}.")
    for column in ("device", "runtime", "threads", "imgsz"):
        values = {row[column] for row in rows}
        if len(values) > 1:
            raise ValueError(f"latency={path}: rows from more than one {column} ({', '.join(sorted(values))}).")
    try:
        return latencies_of(rows)
    except ValueError as error:
        raise ValueError(f"latency={path}: {error}") from None


def latencies_of(rows: list[dict]) -> Latencies:
    """Rows as `time` writes them (one device, runtime, thread count and size), as Latencies."""
    ms = {row["model"]: (float(row["ms"]), float(row.get("iqr_ms") or 0)) for row in rows}
    first = rows[0]
    return Latencies(ms, first["device"], first["runtime"], int(first["threads"]), int(first["imgsz"]),
                     first.get("versions", ""))  # fmt: skip


def write_latencies(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


OPTIONS = {
    "models": Option(None, "comma-separated model YAMLs or .pt checkpoints; default bench-accuracy's default list"),
    "imgsz": Option(256, "image size, as bench-accuracy trains (its imgsz=)"),
    "runtime": Option("onnxruntime", f"what the models run in on this device: {', '.join(RUNTIMES)}"),
    "threads": Option(2, "threads the runtime uses"),
    "out": Option("latency.csv", "the CSV to write (bench-accuracy latency= reads it)"),
    "project": Option("runs/time", "folder for the exports"),
    "runs": Option(30, "timed runs per model"),
    "warmup": Option(10, "untimed runs before them"),
}


def run_command(options: dict) -> int:
    from ultralytics_light.accuracy.plan import default_models

    models = str(options["models"]).split(",") if options["models"] else default_models()
    numbers = {}
    for key in ("imgsz", "threads", "runs", "warmup"):
        try:
            numbers[key] = int(options[key])
        except ValueError:
            raise UsageError(f"time: {key}= takes an integer, got {options[key]!r}.") from None
    runtime_of(options["runtime"])
    named = {model_name(model): model for model in models}
    project = Path(options["project"]).resolve()
    rows = time_models(named, numbers["imgsz"], options["runtime"], numbers["threads"], numbers["warmup"],
                       numbers["runs"], project)  # fmt: skip
    out = Path(options["out"])
    write_latencies(rows, out)
    width = max(len(row["model"]) for row in rows)
    print(f"{rows[0]['runtime']} on {rows[0]['device']}, {rows[0]['threads']} threads, {rows[0]['imgsz']} px:")
    for row in rows:
        print(f"  {row['model'].ljust(width)}  {row['ms']} ± {row['iqr_ms']} ms")
    print(f"wrote {out}: pass it to bench-accuracy as latency={out}")
    return 0


COMMAND = Command(
    ("time",),
    "Time models on this machine (the target device) in its runtime: a latency CSV for bench-accuracy latency=.",
    run_command,
    OPTIONS,
    examples=(
        "time models=yolo11n-lite-lcnet.yaml,yolo11n-lite-mobilenetv2.yaml,yolo26n.pt imgsz=256",
        "time models=yolo11n-lite-lcnet.yaml,yolo26n.pt runtime=openvino threads=4 out=pi5-latency.csv",
    ),
)
