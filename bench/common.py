"""What more than one bench (or experiment) uses: models with random weights, exports, validation, the
bench-accuracy runs that edge.py and parity.py train, and ONNX Runtime's static INT8 quantization as Ultralytics
calls it. A script imports another only to run it as a step (its `main` or `measure`), to build its data set
(shapes.py, coco_splits.py) or to share its settings (parity.py's with ort_int8_settings.py)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np

from ultralytics_light.patches.onnx_int8_quantize import EXTRA_OPTIONS, QUANTIZE_STATIC

FORMATS = ("onnx", "openvino", "litert")
SUFFIXES = {"onnx": ".onnx", "openvino": "_openvino_model", "litert": ".tflite"}  # as AutoBackend recognizes them

WEIGHTED = ("Conv", "Gemm", "MatMul")  # the only ops Ultralytics' ONNX INT8 export quantizes
# what `quantize=8` asks of ONNX Runtime for our models
OUR_OPTIONS = {**QUANTIZE_STATIC, "extra_options": EXTRA_OPTIONS}


# ------------------------------------------------------------------------------------------------- models, exports


def random_weights_yaml(name: str, folder: Path) -> str:
    """A path that builds `name` with random backbone weights: our YAML with weights null, copied to `folder`."""
    from ultralytics.utils import YAML

    from ultralytics_light.cfg import find_model_yaml
    from ultralytics_light.families import drop_pretrained

    source = find_model_yaml(name)
    if source is None:
        return name  # a stock Ultralytics model
    d = YAML.load(source)
    drop_pretrained(d)
    YAML.save(folder / source.name, d)
    return str(folder / name)


def export_all(model: str, stem: str, imgsz: int, data: str, folder: Path, split: str,
               formats: tuple[str, ...] = FORMATS, nms: bool | None = None) -> dict[str, Path]:  # fmt: skip
    """{'onnx fp32': path, 'onnx int8': …, 'openvino fp32': …, …, 'litert int8': …}, each of `formats` float32 and
    INT8 (with Ultralytics' `nms`: False puts an end-to-end head's final detections in the graph), moved into `folder`
    and named from `stem`, which must differ between models (checkpoints are all best.pt)."""
    from ultralytics import YOLO

    source = model if model.endswith(".pt") else random_weights_yaml(model, folder)
    exports = {}
    for fmt, quantize in ((fmt, quantize) for fmt in formats for quantize in (None, 8)):
        kwargs = {"quantize": 8, "data": data, "split": split} if quantize else {}
        path = Path(YOLO(source).export(format=fmt, imgsz=imgsz, nms=nms, **kwargs))
        precision = "int8" if quantize else "fp32"
        # The INT8 ONNX export deletes the float32 file it quantized, and exports share names: keep each apart, named
        # as Ultralytics' AutoBackend recognizes them.
        name = f"{stem}_{precision}{SUFFIXES[fmt]}"
        exports[f"{fmt} {precision}"] = folder / name
        shutil.move(path, folder / name)
    return exports


def validate(path: Path, data: str, imgsz: int, **val) -> tuple[float, float]:
    """(mAP50, mAP50-95) of an export (or checkpoint) with `yolo val` on the data's val split; batch 1, as the export's
    shape is; `val`: more `yolo val` arguments (nms=False: an end-to-end checkpoint's one-to-one branch)."""
    from ultralytics import YOLO

    metrics = YOLO(str(path), task="detect").val(data=data, imgsz=imgsz, batch=1, device="cpu", plots=False,
                                                 verbose=False, **val)  # fmt: skip
    return metrics.box.map50, metrics.box.map


# ------------------------------------------------------------------------------------------------------- training


def bench_accuracy(project: Path, data: Path, models: list[str], common: list[str], **extra) -> list[dict]:
    """A bench-accuracy run (resumed where it stopped); its accuracy.csv rows."""
    from ultralytics_light.accuracy import benchmark, parse

    argv = [f"data={data}", f"models={','.join(models)}", "scratch_twin=False", "spread_seeds=", f"project={project}"]
    argv += common
    argv += [f"{key}={value}" for key, value in extra.items()]
    if benchmark(*parse(argv)) != 0:
        raise SystemExit(f"bench-accuracy failed in {project}")
    return read_csv(project / "accuracy.csv")


def read_record(path: Path, **expected) -> dict | None:
    """A committed result record (JSON) if it exists and each `expected` field equals its value, else None."""
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    return record if all(record.get(key) == value for key, value in expected.items()) else None


def bench_accuracy_recipe() -> dict:
    """bench-accuracy's own recipe, under a training bench's KEY=VALUE arguments: recorded with each trained result,
    so that a record made before the recipe changed is measured again."""
    from ultralytics_light.accuracy import RECIPE

    return dict(RECIPE)


def write_record(path: Path, record: dict) -> dict:
    """Write a result record (JSON, to be committed beside the bench that made it); returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def write_csv(path: Path, rows: list[dict]) -> None:
    """A bench's rows as CSV, every key a column: the machine-readable record bench/publish.py renders the docs from
    (and one a person can open)."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def best(project: Path, label: str) -> Path:
    """The best.pt of a bench-accuracy run in `project`, by its table label (seed 0)."""
    from ultralytics_light.accuracy.plan import run_folder

    return run_folder(project, label, 0) / "weights" / "best.pt"


# --------------------------------------------------------------------------------------------- ONNX Runtime INT8


def letterboxed(image: np.ndarray, imgsz: int) -> np.ndarray:
    """A decoded BGR image as a square export takes it, as Ultralytics' predictor makes it: LetterBox to `imgsz`,
    RGB, NCHW, float32 in [0, 1]."""
    from ultralytics.data.augment import LetterBox

    boxed = LetterBox((imgsz, imgsz), auto=False)(image=image)
    return np.ascontiguousarray(boxed[..., ::-1].transpose(2, 0, 1)[None], np.float32) / 255


def calibration_images(data: str, imgsz: int) -> list[np.ndarray]:
    """The data's train images as the export takes them (`letterboxed`)."""
    import cv2
    from ultralytics.data.utils import check_det_dataset

    train = check_det_dataset(data)["train"]
    files = sorted(p for p in Path(train).glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return [letterboxed(cv2.imread(str(f)), imgsz) for f in files]


def quantize(fp32: Path, out: Path, images: list[np.ndarray], options: dict, exclude: list[str]) -> Path:
    """`quantize_static` of the float32 ONNX file with `options`, the nodes named in `exclude` left float."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantType, quantize_static

    name = onnx.load(str(fp32)).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter({name: x} for x in images)

        def get_next(self):
            return next(self.feeds, None)

    kwargs = {"per_channel": options.get("per_channel", False), "nodes_to_exclude": exclude,
              "extra_options": options.get("extra_options", {})}  # fmt: skip
    if options.get("u8"):
        kwargs["activation_type"] = QuantType.QUInt8
    if options.get("percentile"):
        kwargs["calibrate_method"] = CalibrationMethod.Percentile
    quantize_static(str(fp32), str(out), Reader(), **kwargs)
    return out
