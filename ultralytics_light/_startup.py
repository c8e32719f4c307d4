"""Apply our patches to Ultralytics right after `ultralytics.nn.tasks` is imported, wherever that happens.

This runs at interpreter start-up, so it imports nothing heavy: a one-shot finder on `sys.meta_path` waits for the
task parser's module, lets it load as usual, then hands it to `ultralytics_light.patches.apply`. A hand-written finder
rather than wrapt's post-import hooks: importing wrapt costs ~60 ms, paid by every Python process (and
importlib.abc ~1 ms, so the finder is duck-typed).
"""

from __future__ import annotations

import importlib.machinery
import sys
from types import ModuleType

TARGET = "ultralytics.nn.tasks"


def _apply_patches(tasks: ModuleType) -> None:
    """Apply our patches; whatever fails, Ultralytics' import goes on as if we were not installed."""
    try:
        from ultralytics_light.patches import apply

        apply(tasks)
    except Exception as error:  # patches.apply undoes and reports its own failures; this is the last resort
        import warnings

        warnings.warn(f"ultralytics-light is disabled: {type(error).__name__}: {error}", stacklevel=2)


class _PatchAfterImport:
    """Find `ultralytics.nn.tasks` with the other finders, and patch it once its code has run."""

    def find_spec(self, name: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if name != TARGET:
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
            _apply_patches(module)

        spec.loader.exec_module = exec_and_patch  # this loader instance serves this one module only
        return spec


def install() -> None:
    """Arrange for the patches to be applied (now, if Ultralytics' task parser is already imported). Idempotent."""
    if TARGET in sys.modules:
        _apply_patches(sys.modules[TARGET])
    elif not any(isinstance(finder, _PatchAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchAfterImport())
