PYTHON ?= python3
PIP := $(PYTHON) -m pip
COCO128 ?= ../shared/datasets/coco128
IMAGENET ?= ../shared/weights

.PHONY: install reinstall test test-compat test-floor bench imagenet-weights bench-accuracy bench-recipes bench-edge bench-parity bench-int8

# Everything the tests need, with torch/torchvision/ultralytics pinned to the tested releases.
install:
	$(PIP) install --constraint requirements-pinned.txt ".[test,export,qat,litert]"

# Our own package only, from this checkout: a regular (non-editable) install, because editable installs do not
# carry the ultralytics_light.pth start-up hook. Cheap, so `make test` always tests the code in front of it.
reinstall:
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

test: reinstall
	$(PYTHON) -m pytest

# Every Ultralytics release in compat/matrix.py and the newest on the package index (resolved now), each installed
# alone beside the main environment (which stays as it is): builds, trains, predicts, reloads and exports in fresh
# interpreters. Writes compat/results.md and the README's table. Fails for a verified release only: a newer one's
# failure is a warning and a row of the table. About 8 minutes.
test-compat: reinstall
	$(PYTHON) compat/matrix.py --readme README.md

# The oldest torch/torchvision that setup.cfg admits, in a virtual environment of its own: first what a user of that
# torch has (from the package index: torch 2.0's CUDA build, several GB), then this package installed by pip, which
# keeps that torch (the results name the versions the checks ran on); then the matrix's checks there on the pinned
# Ultralytics release. Writes compat/floor.md and the README's section. Not part of CI (downloads).
FLOOR_VENV = build/floor
FLOOR = torch==2.0.1 torchvision==0.15.2 'numpy<2'
PINNED_ULTRALYTICS = $(shell grep '^ultralytics==' requirements-pinned.txt)
test-floor: reinstall
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet $(FLOOR) $(PINNED_ULTRALYTICS) onnx onnxslim onnxruntime
	$(FLOOR_VENV)/bin/pip install --quiet .
	$(PYTHON) compat/matrix.py --python $(FLOOR_VENV)/bin/python --releases $(patsubst ultralytics==%,%,$(PINNED_ULTRALYTICS)) \
		--out compat/floor.md --readme README.md --section floor

# Not a test: times every shipped model against stock yolov5n/yolo11n/yolo26n, writes bench/results.* and the
# README's model table. Several minutes; keep the machine otherwise idle.
bench: reinstall
	$(PYTHON) bench/bench.py --readme README.md

# The torchvision ImageNet files in $(IMAGENET), verified and cached where torchvision looks (torch.hub.get_dir()),
# so that the benches below start those backbones from ImageNet; no folder, nothing to do.
imagenet-weights: reinstall
	for file in $(wildcard $(IMAGENET)/*.pth); do $(PYTHON) -m ultralytics_light weights import $$file || exit 1; done

# Not a test: which model to pick. Trains every shipped detect family (lite head, n) and stock yolo11n/yolo26n on
# COCO128's person class (96 train / 32 held-out images), times them as `make bench` does; writes bench/accuracy.*
# and the README's "Which model?" table. Resumes where it stopped (runs in build/bench-accuracy).
bench-accuracy: imagenet-weights
	$(PYTHON) bench/person_split.py $(COCO128) build/person
	$(PYTHON) -m ultralytics_light bench-accuracy data=build/person/data.yaml project=build/bench-accuracy out=bench \
		readme=README.md

# Not a test: the fine-tuning recipe trials behind bench-accuracy's recipe; writes bench/recipes.md and the README's
# table. Two seeds of every trial at bench-accuracy's budget: about 1.5 hours on 2 cores; resumes where it stopped.
bench-recipes: imagenet-weights
	$(PYTHON) bench/person_split.py $(COCO128) build/person
	$(PYTHON) bench/recipes.py --data build/person/data.yaml --readme README.md

# Not a test: every accuracy figure of the README's "Deploying" section (INT8, QAT, distillation); writes
# bench/edge.md. Resumes where it stopped (runs in build/edge).
bench-edge: imagenet-weights
	$(PYTHON) bench/edge.py --coco128 $(COCO128)

# Not a test: INT8 against float32 for every shipped detect model, each trained on a synthetic set it learns from
# scratch (shapes on crops of COCO128's photographs); writes bench/parity.md and the README's table, then each model's
# ONNX Runtime INT8 under stock Ultralytics' settings and ours (bench/ort-int8-settings.md, about 15 minutes).
# Hours on 2 cores; resumes where it stopped (runs in build/parity).
bench-parity: imagenet-weights
	$(PYTHON) bench/parity.py --backgrounds $(COCO128)/images/train2017 --readme README.md
	$(PYTHON) bench/ort_int8_settings.py --work build/parity

# Not a test: INT8 latency against float32 at 640 px for every lite model and stock yolo11n (ONNX Runtime, OpenVINO;
# LiteRT for the lite MobileNetV2 and ShuffleNetV2); ShuffleNetV2's channel shuffle against the interleave that `fuse()`
# makes of it; OpenVINO's per-layer profile of the two lite models furthest from 0.6× INT8 ÷ float32, beside the lite
# MobileNetV2 and yolo11n. Writes bench/int8.md, bench/int8-litert.md, bench/interleave.md and
# bench/openvino-profile.md. About 25 minutes: run it on an otherwise idle CPU. bench-parity's synthetic set only
# calibrates INT8 here.
LITE_MODELS = $(patsubst cfg/models/yolo11-%.yaml,yolo11n-%.yaml,$(wildcard cfg/models/yolo11-lite-*.yaml))
SHAPES = build/parity/shapes
bench-int8: reinstall
	$(PYTHON) bench/shapes.py $(SHAPES) --backgrounds $(COCO128)/images/train2017
	$(PYTHON) bench/int8.py --models $(LITE_MODELS) yolo11n.yaml --formats onnx openvino --data $(SHAPES)/data.yaml
	$(PYTHON) bench/int8.py --models yolo11n-lite-mobilenetv2.yaml yolo11n-lite-shufflenetv2.yaml --formats litert \
		--data $(SHAPES)/data.yaml --out bench/int8-litert.md
	$(PYTHON) bench/interleave.py --data $(SHAPES)/data.yaml --formats openvino onnx litert
	$(PYTHON) bench/openvino_profile.py --models yolo11n-lite-shufflenetv2.yaml yolo11n-lite-mobilenetv3-small.yaml \
		yolo11n-lite-mobilenetv2.yaml yolo11n.yaml --data $(SHAPES)/data.yaml
