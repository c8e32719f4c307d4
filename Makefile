PYTHON ?= python3
PIP := $(PYTHON) -m pip

.PHONY: install reinstall test test-compat bench

# Everything the tests need, with torch/torchvision/ultralytics pinned to the tested releases.
install:
	$(PIP) install --constraint requirements-pinned.txt ".[test,export,qat,litert]"

# Our own package only, from this checkout: a regular (non-editable) install, because editable installs do not
# carry the ultralytics_light.pth start-up hook. Cheap, so `make test` always tests the code in front of it.
reinstall:
	$(PIP) install --quiet --no-deps --no-build-isolation --force-reinstall .

test: reinstall
	$(PYTHON) -m pytest

# Every Ultralytics release in compat/matrix.py, each installed alone beside the main environment (which stays as it
# is): builds, trains, predicts, reloads and exports in fresh interpreters. Writes compat/results.md and the README's
# table. About 8 minutes.
test-compat: reinstall
	$(PYTHON) compat/matrix.py --readme README.md

# Not a test: times every shipped model against stock yolov5n/yolo11n/yolo26n, writes bench/results.* and the
# README's model table. Several minutes; keep the machine otherwise idle.
bench: reinstall
	$(PYTHON) bench/bench.py --readme README.md
