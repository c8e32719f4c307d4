PYTHON ?= python3
PIP := $(PYTHON) -m pip
COCO128 ?= ../shared/datasets/coco128
IMAGENET ?= ../shared/weights
# A COCO-pretrained reference that can be had offline: Ultralytics' yolov5n.yaml carrying the official YOLOv5n COCO
# backbone and neck (../shared/README.md). The accuracy benches fine-tune it beside our models where it is present.
COCO_REFERENCE ?= ../shared/weights/yolov5n-coco-backbone-neck.pt
comma := ,
# Every shipped lite model at scale n
LITE_MODELS = $(patsubst cfg/models/yolo11-%.yaml,yolo11n-%.yaml,$(wildcard cfg/models/yolo11-lite-*.yaml))

.PHONY: install reinstall test test-fast test-compat test-floor docs docs-tables bench imagenet-weights bench-accuracy bench-recipes \
	bench-end-to-end-accuracy bench-edge bench-parity bench-int8 bench-distill bench-search

# Everything the tests and the docs need, with torch/torchvision/ultralytics pinned to the tested releases.
install:
	$(PIP) install --constraint requirements-pinned.txt ".[test,export,qat,litert,docs,timm,search]"

# Our own package only, from this checkout: a regular (non-editable) install, because editable installs do not
# carry the ultralytics_light.pth start-up hook. Cheap, so `make test` always tests the code in front of it.
reinstall:
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

# Tests run in parallel workers (pytest-xdist), as many as the CPU has cores, up to 4: most of a test's time is one core
# (a fresh interpreter's imports, a tiny model's epoch), and the trained checkpoints are shared between workers.
XDIST = -n auto --maxprocesses=4 --dist worksteal
test: reinstall
	$(PYTHON) -m pytest $(XDIST)

# The edit loop: every test but those that train, export, build dists or start fresh interpreters (marked slow, most
# by the fixtures they use: tests/conftest.py). `make test` before you commit.
test-fast: reinstall
	$(PYTHON) -m pytest -m "not slow" $(XDIST)

# Every Ultralytics release in compat/matrix.py and the newest on the package index (resolved now), each installed
# alone beside the main environment (which stays as it is): builds, trains, predicts, reloads and exports in fresh
# interpreters. Writes compat/results.md, then publishes it into the docs. Fails for a verified release only: a newer
# one's failure is a warning and a row of the table. About 8 minutes.
test-compat: reinstall
	$(PYTHON) compat/matrix.py
	$(PYTHON) -m bench.publish

# The oldest torch/torchvision that setup.cfg admits, in a virtual environment of its own: first what a user of that
# torch has (from the package index: torch 2.0's CUDA build, several GB), then this package installed by pip, which
# keeps that torch (the results name the versions the checks ran on); then the matrix's checks there on the pinned
# Ultralytics release. Writes compat/floor.md, then publishes it into the docs. Not part of CI (downloads).
FLOOR_VENV = build/floor
FLOOR = torch==2.0.1 torchvision==0.15.2 'numpy<2'
PINNED_ULTRALYTICS = $(shell grep '^ultralytics==' requirements-pinned.txt)
test-floor: reinstall
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/pip install --quiet $(FLOOR) $(PINNED_ULTRALYTICS) onnx onnxslim onnxruntime
	$(FLOOR_VENV)/bin/pip install --quiet .
	$(PYTHON) compat/matrix.py --python $(FLOOR_VENV)/bin/python --releases $(patsubst ultralytics==%,%,$(PINNED_ULTRALYTICS)) \
		--out compat/floor.md
	$(PYTHON) -m bench.publish

# The documentation site (mkdocs.yml, docs/): built into build/site/; --strict fails on a broken link or anchor, or a
# page missing from the navigation. Its generated tables are written by bench/publish.py (docs-tables), never by hand.
docs:
	NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict

# Publish the recorded results (bench/*.md, bench/*.csv, bench/*.png, compat/*.md) into the README and docs/, measuring
# nothing: after editing a page's text around a table, or pulling new results. The bench targets below end with it.
docs-tables:
	$(PYTHON) -m bench.publish

# Not a test: times every shipped model against stock yolov5n/yolo11n/yolo26n, writes bench/results.* and the
# backbones' speed/accuracy front (bench/front.*), then every lite model's end-to-end latency, image in and final boxes
# out (bench/end_to_end.*: from checkpoints it trains on COCO128's 80 classes, and a reference pair whose NMS sorts a
# trained detector's candidates, kept in build/end-to-end, so only the first run trains, for under an hour), and
# publishes them (the README's model table, the docs' Benchmarks and Deploying pages).
# Keep the machine otherwise idle.
bench: imagenet-weights
	$(PYTHON) -m bench.speed
	$(PYTHON) -m bench.front
	$(PYTHON) -m bench.end_to_end --coco128 $(COCO128)
	$(PYTHON) -m bench.publish

# The torchvision ImageNet files in $(IMAGENET), verified and cached where torchvision looks (torch.hub.get_dir()),
# so that the benches below start those backbones from ImageNet; no folder, nothing to do.
imagenet-weights: reinstall
	for file in $(wildcard $(IMAGENET)/*.pth); do $(PYTHON) -m ultralytics_light weights import file=$$file || exit 1; done

# Not a test: which model to pick. Trains every shipped detect family (lite head, n) that has its ImageNet file here
# (no_imagenet=skip: the others are named in the table's header, not trained from scratch) and the references a user
# would otherwise fine-tune (yolo26n.pt and yolo11n.pt from COCO, their YAMLs from scratch where offline, said so; and
# $(COCO_REFERENCE) where present) on COCO128's person class (96 train / 32 held-out images), times them as
# `make bench` does; writes bench/accuracy.* and publishes them (the model table's accuracy column, the docs'
# Benchmarks page). No distilled rows here (teacher=none): bench-distill measures those. Resumes where it stopped
# (runs in build/bench-accuracy).
ACCURACY_MODELS = $(subst $(eval) ,$(comma),$(LITE_MODELS) yolo26n.pt yolo11n.pt $(wildcard $(COCO_REFERENCE)))

bench-accuracy: imagenet-weights
	$(if $(wildcard $(COCO_REFERENCE)),,@echo "no $(COCO_REFERENCE): the table has no COCO-pretrained reference unless yolo26n.pt or yolo11n.pt can be had")
	$(PYTHON) -m bench.coco_splits $(COCO128) build/person
	$(PYTHON) -m ultralytics_light bench-accuracy data=build/person/data.yaml models=$(ACCURACY_MODELS) teacher=none \
		no_imagenet=skip project=build/bench-accuracy out=bench
	$(PYTHON) -m bench.publish

# Not a test: whether our fast lite models (LCNet, ShuffleNetV2, MobileNetV3-Small) learn from a fine-tuned teacher:
# each alone and distilled (distill_model=) from $(COCO_REFERENCE) and from our ImageNet lite MobileNetV2, both
# fine-tuned on the data (and that MobileNetV2 distilled from the first), at Ultralytics' dis=6 and two lighter
# weights, two seeds, on COCO128's person split and on synthetic shapes. Writes bench/distill.md from the per-data-set,
# per-seed records in bench/distill-records/ (commit them) and publishes it. Hours on 2 cores; a seed is measured in
# one sitting (runs resume in build/distill) and kept in its record.
bench-distill: imagenet-weights
	$(PYTHON) -m bench.distill --coco128 $(COCO128) --reference $(COCO_REFERENCE)
	$(PYTHON) -m bench.publish

# Not a test: whether the end-to-end (NMS-free) lite models keep their NMS twins' accuracy, each pair trained alike
# with two seeds on COCO128's person class and on bench-parity's synthetic shapes; writes bench/end_to_end_accuracy.md
# and publishes it. Resumes where it stopped (runs in build/end-to-end-accuracy); hours on 2 cores.
bench-end-to-end-accuracy: imagenet-weights
	$(PYTHON) -m bench.end_to_end_accuracy --coco128 $(COCO128)
	$(PYTHON) -m bench.publish

# Not a test: the fine-tuning recipe trials behind bench-accuracy's recipe, on four data sets that differ in class count
# (1, 5 and 80 classes cut from COCO128, and 12 synthetic ones); writes bench/recipes.md and publishes it (the docs'
# Training page). Two seeds of each of 5 trials on each set at bench-accuracy's budget: 40 training runs, hours on 2
# cores; resumes where it stopped (data and runs in build/recipes).
bench-recipes: imagenet-weights
	$(PYTHON) -m bench.recipes --coco128 $(COCO128)
	$(PYTHON) -m bench.publish

# Not a test: every accuracy figure on real images of the docs' Deploying page (INT8, ONNX Runtime's INT8 settings
# through bench/ort_int8.py, QAT, distillation); writes bench/edge.md and .csv and publishes them. Resumes where it stopped (runs
# in build/edge).
# The budgeted search (bench-accuracy budget_ms= rungs=, on Ray Tune) against the full sequential bench-accuracy, on the
# same candidates (every lite n model and $(COCO_REFERENCE)) on synthetic shapes: wall time, busy CPU, the winner and
# the Pareto front of each, Ray's start-up cost (bench/search.md, bench/search-records/). About 1.5 hours on 2 cores,
# on an otherwise idle machine; resumes where it stopped (build/search).
bench-search: imagenet-weights
	$(PYTHON) -m bench.search --coco128 $(COCO128) --reference $(COCO_REFERENCE)

bench-edge: imagenet-weights
	$(PYTHON) -m bench.edge --coco128 $(COCO128)
	$(PYTHON) -m bench.publish

# Not a test: INT8 against float32 for every shipped detect model, each trained on a synthetic set it learns from
# scratch (shapes on crops of COCO128's photographs); writes bench/parity.md, then each model's ONNX Runtime INT8
# under stock Ultralytics' settings and ours (bench/ort-int8-settings.md, about 15 minutes), and publishes both.
# Many hours on 2 cores, so it resumes across checkouts: each measured model is recorded in
# bench/parity-records/ and bench/ort-int8-settings-records/ (commit them); runs in build/parity.
bench-parity: imagenet-weights
	$(PYTHON) -m bench.parity --backgrounds $(COCO128)/images/train2017
	$(PYTHON) -m bench.ort_int8_settings --work build/parity
	$(PYTHON) -m bench.publish

# Not a test: INT8 latency against float32 at 640 px for every lite model and stock yolo11n (ONNX Runtime; OpenVINO,
# float32 both pinned to f32 and at its default precision, which is bf16 on CPUs with bf16; LiteRT for the lite
# MobileNetV2 and ShuffleNetV2). Writes bench/int8.md and bench/int8-litert.md (and .csv), then publishes them (the
# docs' Deploying page, the README's INT8 table). Run it on an otherwise idle CPU. bench-parity's synthetic set only
# calibrates INT8 here. The one-off investigations that once ran here (ShuffleNetV2's channel shuffle against
# `fuse()`'s interleave, OpenVINO's per-layer profile) are in experiments/, outside make: experiments/README.md.
SHAPES = build/parity/shapes
bench-int8: reinstall
	$(PYTHON) -m bench.shapes $(SHAPES) --backgrounds $(COCO128)/images/train2017
	$(PYTHON) -m bench.int8 --models $(LITE_MODELS) yolo11n.yaml --formats onnx openvino --data $(SHAPES)/data.yaml
	$(PYTHON) -m bench.int8 --models yolo11n-lite-mobilenetv2.yaml yolo11n-lite-shufflenetv2.yaml --formats litert \
		--data $(SHAPES)/data.yaml --out bench/int8-litert.md
	$(PYTHON) -m bench.publish
