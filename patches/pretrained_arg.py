"""`yolo train ... pretrained=` decides what our backbone rows start from, as Ultralytics users expect.

Every trainer builds its model in its `get_model(cfg, weights)`; we wrap that method of the trainer's class the first
time a trainer of the class is made (trainer classes live in modules Ultralytics imports later than ours):

- `pretrained=False`: our rows start from random weights and no ImageNet file is read; the model's YAML (saved in
  the checkpoint) says `weights: null` for them.
- `pretrained=True` (the default): the weights the YAML names.
- `pretrained=path.pt`: Ultralytics' own meaning (the checkpoint's tensors are transferred where names and shapes
  match, the rest as the YAML says).

Either way one line of the log says what each backbone started from, and each row keeps it as its `init`, which the
checkpoint stores.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType

from ultralytics_light.backbone import stages
from ultralytics_light.backbone_init import pretrained
from ultralytics_light.families import drop_pretrained
from ultralytics_light.patches import Patcher

WRAPPED = "_ultralytics_light_pretrained"


def without_pretrained(tasks: ModuleType, cfg):
    """`cfg` (a YAML dict or path) as a YAML dict whose rows of ours load no weights; `cfg` itself if it has none."""
    if cfg is None:
        return cfg
    d = copy.deepcopy(cfg) if isinstance(cfg, dict) else tasks.yaml_model_load(cfg)
    return d if drop_pretrained(d) else cfg


def transferred(row, prefix: str, source: dict) -> tuple[int, int]:
    """(tensors of `row` that a checkpoint's state dict `source` holds with the same name and shape, all of them)."""
    own = {f"{prefix}{key}": tensor for key, tensor in row.state_dict().items()}
    return sum(key in source and source[key].shape == tensor.shape for key, tensor in own.items()), len(own)


def describe(model, setting, weights, source_name: str, resuming: bool) -> list[str]:
    """Set each of our rows' `init` after a trainer's build, and return one log line per backbone. A resumed run keeps
    what its rows started from."""
    prefixes = {module: f"{name}." for name, module in model.named_modules()}
    source = weights.state_dict() if hasattr(weights, "state_dict") else None
    started = [getattr(row, "init", None) for row in stages(weights)] if resuming and source is not None else []
    lines = {}
    for k, row in enumerate(stages(model)):
        if k < len(started) and started[k]:
            row.init = started[k]
        elif source is not None:
            found, total = transferred(row, prefixes[row], source)
            if found:
                row.init = (
                    f"checkpoint {source_name} ({found}/{total} tensors; the rest {row.init})"
                    if (found < total)
                    else f"checkpoint {source_name}"
                )
        lines.setdefault(row.name(row.builder), row.init)
    why = {False: " (pretrained=False); no ImageNet file read", True: ""}.get(setting, f" (pretrained={setting})")
    why = " (resumed)" if started else why
    return [f"ultralytics-light: backbone {name} starts from {init}{why}" for name, init in lines.items()]


def with_pretrained(tasks: ModuleType, get_model):
    """A trainer's `get_model` that applies the trainer's `pretrained` to our rows and logs what they start from."""
    signature = inspect.signature(get_model)

    @functools.wraps(get_model)
    def wrapper(self, *args, **kwargs):
        from ultralytics.utils import LOGGER, RANK

        call = signature.bind(self, *args, **kwargs)
        setting = getattr(self.args, "pretrained", True)
        if setting is False and "cfg" in call.arguments:
            call.arguments["cfg"] = without_pretrained(tasks, call.arguments["cfg"])
        with pretrained(setting is not False):
            model = get_model(*call.args, **call.kwargs)
        weights = call.arguments.get("weights")
        source = str(setting) if isinstance(setting, (str, Path)) else str(getattr(self.args, "model", ""))
        source_name = Path(source).name if source.endswith(".pt") else "the loaded model"  # else a model object
        resuming = bool(getattr(self.args, "resume", False))
        for line in describe(model, setting, weights, source_name, resuming):
            if RANK in {-1, 0}:
                LOGGER.info(line)
        return model

    setattr(wrapper, WRAPPED, True)
    return wrapper


TRAINER = "ultralytics.engine.trainer"


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Once the trainer module is imported (it imports this one, so not now), wrap `BaseTrainer.__init__`, which wraps
    the `get_model` of each trainer class it meets, once. Whether the release's trainers build through
    `get_model(cfg, weights)` is checked now, on the module's source, so that a release without it is refused."""
    origin = importlib.util.find_spec(TRAINER).origin
    if not re.search(r"def get_model\(\s*self,\s*cfg", Path(origin).read_text()):
        raise AttributeError(f"{origin} has no get_model(self, cfg, ...): cannot apply pretrained= to our rows")

    def wrap(module: ModuleType) -> None:
        trainer_class = module.BaseTrainer
        stock_init = trainer_class.__init__

        @functools.wraps(stock_init)
        def __init__(self, *args, **kwargs):
            stock_init(self, *args, **kwargs)
            cls = type(self)
            if not getattr(cls.get_model, WRAPPED, False):
                patcher.replace(cls, "get_model", with_pretrained(tasks, cls.get_model))

        patcher.replace(trainer_class, "__init__", __init__)

    patcher.when_imported(TRAINER, wrap, "pretrained_arg", "`pretrained=` for our backbone rows when training")
