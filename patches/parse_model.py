"""Two edits to Ultralytics' `parse_model`, which has no hook for either.

1. Declared channels. Stock `parse_model` gives a module it does not know its input's channels (`c2 = ch[f]`). A
   module class that has `declared_channels(f, n, layers, *args)` now gets `c2` from it (which also checks the row's
   args and where its input comes from), and is built as `m(c1, c2, *args)` like Ultralytics' own blocks, so the
   model summary prints its channels and no backbone channel count is typed in a YAML.
2. File paths as args. String args are tried as Python literals, and only a ValueError is suppressed; an absolute
   path such as `/data/mnv2.pth` (a backbone's weights) raises SyntaxError. It now stays a string, as intended.

We recompile `parse_model` from its own source with these edits. Each anchor must occur exactly once, or the patch
refuses to apply.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
from types import ModuleType

from ultralytics_light.patches import Patcher

FALLBACK = """\
        else:
            c2 = ch[f]
"""
EDITS = {
    FALLBACK: """\
        elif hasattr(m, "declared_channels"):  # added by ultralytics-light: patches/parse_model.py
            c2 = m.declared_channels(f, n, layers, *args)
            c1 = ch[f]
            args = [c1, c2, *args]
"""
    + FALLBACK,
    "with contextlib.suppress(ValueError):": "with contextlib.suppress(ValueError, SyntaxError):",
}


def patched_parse_model(tasks: ModuleType, source: str):
    """`parse_model` compiled from `source` (its code, as the release wrote it or reformatted) with EDITS applied, run
    inside `model_build()` (the scope in which our rows hand their network on: backbone.py); a RuntimeError naming
    the anchor if one is not found exactly once."""
    from ultralytics_light.backbone import model_build

    stock = getattr(tasks.parse_model, "__wrapped__", tasks.parse_model)
    source = textwrap.dedent(source)
    for anchor, replacement in EDITS.items():
        if source.count(anchor) != 1:
            raise RuntimeError(
                f"ultralytics-light cannot patch this release's parse_model ({tasks.__file__}): "
                f"{anchor.strip()!r} was not found exactly once. Please report the installed ultralytics version."
            )
        source = source.replace(anchor, replacement)
    # Pad so that tracebacks through the patched function point at the right lines of tasks.py (+4 after the branch).
    padded = "\n" * (stock.__code__.co_firstlineno - 1) + source
    namespace: dict = {}
    exec(compile(padded, tasks.__file__, "exec"), tasks.__dict__, namespace)
    patched = namespace["parse_model"]

    @functools.wraps(stock)
    def parse_model(*args, **kwargs):
        with model_build():
            return patched(*args, **kwargs)

    return parse_model  # its __wrapped__: Ultralytics' own


def apply(tasks: ModuleType, patcher: Patcher) -> None:
    """Replace `tasks.parse_model` by its own source with EDITS applied."""
    patcher.replace(tasks, "parse_model", patched_parse_model(tasks, inspect.getsource(tasks.parse_model)))
