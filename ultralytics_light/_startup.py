"""Apply our patches to Ultralytics right after `ultralytics.nn.tasks` is imported, wherever that happens.

This runs at interpreter start-up, so it imports nothing heavy: a finder on `sys.meta_path` waits for the task
parser's module, lets it load as usual, then hands it to `ultralytics_light.patches.apply`. It also hands
`ultralytics.cfg`, the `yolo` CLI's module, to `patches/cli_pretrained.py` (outside the all-or-nothing set), and
the trainer's and exporter's modules to what patches ask for them (`when_imported`). A hand-written finder rather
than wrapt's post-import hooks: importing wrapt costs ~60 ms, paid by every Python process (and
importlib.abc ~1 ms, so the finder is duck-typed).
"""

from __future__ import annotations

import importlib.machinery
import sys
from types import ModuleType

TARGET = "ultralytics.nn.tasks"
CLI = "ultralytics.cfg"
WATCHED = (TARGET, CLI, "ultralytics.engine.trainer", "ultralytics.engine.exporter")  # the finder watches these


def _patch_cli(cfg: ModuleType) -> None:
    """`pretrained=False` on the `yolo` command line; if this fails, the CLI goes on as if we were not installed, with
    the warning `_run_hooks` gives."""
    from ultralytics_light.patches import cli_pretrained

    cli_pretrained.apply(cfg)


def _apply_patches(tasks: ModuleType) -> None:
    """Apply our patches; whatever fails, Ultralytics' import goes on as if we were not installed."""
    try:
        from ultralytics_light.patches import apply

        apply(tasks)
    except Exception as error:  # patches.apply undoes and reports its own failures; this is the last resort
        import warnings

        warnings.warn(f"ultralytics-light is disabled: {type(error).__name__}: {error}", stacklevel=2)


_after_import = {TARGET: [_apply_patches], CLI: [_patch_cli]}  # module name -> what to call once it is imported


def _imported(name: str) -> ModuleType | None:
    """The module if its import has finished, else None (not imported, or still running its code)."""
    module = sys.modules.get(name)
    initializing = getattr(getattr(module, "__spec__", None), "_initializing", False)
    return None if module is None or initializing else module


def _run_hooks(name: str, module: ModuleType) -> None:
    """Run what waits for `module`; a hook that fails never fails Ultralytics' import, but says so."""
    for callback in _after_import.pop(name, []):
        try:
            callback(module)
        except Exception as error:
            import warnings

            warnings.warn(f"ultralytics-light could not adapt {name}: {type(error).__name__}: {error}", stacklevel=2)


def when_imported(name: str, callback) -> None:
    """Call `callback(module)` once the module `name` (one of WATCHED) has been imported: now, if it has been."""
    module = _imported(name)
    if module is not None:
        callback(module)
    else:
        _after_import.setdefault(name, []).append(callback)


class _PatchAfterImport:
    """Find the WATCHED modules with the other finders, and run their hooks once their code has run."""

    def find_spec(self, name: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if name not in WATCHED:
            return None
        try:
            return self._find_and_wrap(name, path, target)
        except Exception:  # an unusual loader: let the import go on without us rather than fail
            return None

    def _find_and_wrap(self, name: str, path, target) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            _run_hooks(name, module)

        spec.loader.exec_module = exec_and_patch  # this loader instance serves this one module only
        return spec


def install() -> None:
    """Arrange for the patches to be applied (now, to what Ultralytics has already imported). Idempotent."""
    for name in (CLI, TARGET):
        module = _imported(name)
        if module is not None:
            _run_hooks(name, module)
    if not any(isinstance(finder, _PatchAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchAfterImport())
