"""Multi-GPU training, as far as one CPU machine can show: a DDP worker, a fresh interpreter that imports only
Ultralytics, gets our model with our rows.

Ultralytics starts each DDP worker with `torch.distributed.run` on a script it writes (`generate_ddp_file`). We run
that very script up to where a worker joins the process group (`trainer.train()`), and there ask it for its model.
What needs several GPUs (the process group, gradient all-reduce, rank-0 checkpointing) is not exercised here.
"""

from __future__ import annotations

import re
import sys

GENERATE = """
import sys
from ultralytics import YOLO
from ultralytics.models.yolo.detect import DetectionTrainer
from ultralytics.utils.dist import generate_ddp_file

data, project = sys.argv[1:3]
model = YOLO("yolo11n-shufflenetv2.yaml")
overrides = dict(model="yolo11n-shufflenetv2.yaml", data=data, task="detect", mode="train", epochs=1, imgsz=64,
                 batch=4, workers=0, device="cpu", project=project, name="ddp", plots=False)
trainer = DetectionTrainer(overrides=overrides)  # as Model.train() does before trainer.train() launches DDP
trainer.model = trainer.get_model(cfg=model.model.yaml)
print("DDP_FILE", generate_ddp_file(trainer))
"""

# Replaces the worker's `trainer.train()`: what a worker does first in it (its model), then report.
WORKER_PROBE = r"""\1trainer.setup_model()
\1import sys as _sys
\1print("WORKER", "ultralytics_light" in _sys.modules,
\1      [f"{type(row).__module__}.{type(row).__name__}" for row in trainer.model.model[:3]],
\1      sorted({row.builder for row in trainer.model.model[:3]}), type(trainer.model.model[-1]).__name__)
"""


def test_ddp_worker_script_builds_our_model(detect_dataset, run_fresh, tmp_path):
    out = run_fresh(sys.executable, "-c", GENERATE, str(detect_dataset), str(tmp_path / "runs")).stdout
    script = next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("DDP_FILE "))
    source = open(script).read()
    assert "ultralytics_light" not in source  # the worker imports only Ultralytics; our start-up hook does the rest
    worker, replaced = re.subn(r"^(\s*)(?:results = )?trainer\.train\(\)\s*$", WORKER_PROBE, source, flags=re.M)
    assert replaced == 1, source
    (tmp_path / "worker.py").write_text(worker)

    result = run_fresh(sys.executable, str(tmp_path / "worker.py"))
    line = next(line for line in result.stdout.splitlines() if line.startswith("WORKER "))
    assert line == (
        "WORKER True ['ultralytics_light.shufflenetv2.ShuffleNetV2', 'ultralytics_light.shufflenetv2.ShuffleNetV2', "
        "'ultralytics_light.shufflenetv2.ShuffleNetV2'] ['shufflenet_v2_x0_5'] Detect"
    )
