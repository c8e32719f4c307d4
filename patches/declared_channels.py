"""Let YAML rows take their output channels from the module's declaration instead of a number typed in the YAML.

Stock `parse_model` gives a module it does not know its input's channels (`c2 = ch[f]`), and has no hook to do
otherwise. We recompile its own source with one branch added before that fallback: a module class that has
`declared_channels(*args)` gets `c2` from it, and is built as `m(c1, c2, *args)` like Ultralytics' own blocks, so the
model summary prints its channels. The anchor must occur exactly once, or the patch refuses to apply.
"""

from __future__ import annotations

import inspect
import textwrap
from types import ModuleType

ANCHOR = """\
        else:
            c2 = ch[f]
"""
BRANCH = """\
        elif hasattr(m, "declared_channels"):  # added by ultralytics-light: patches/declared_channels.py
            c1, c2 = ch[f], m.declared_channels(*args)
            args = [c1, c2, *args]
"""


def apply(tasks: ModuleType) -> None:
    """Replace `tasks.parse_model` by its own source plus the declared-channels branch."""
    stock = tasks.parse_model
    source = textwrap.dedent(inspect.getsource(stock))
    if source.count(ANCHOR) != 1:
        raise RuntimeError(
            f"ultralytics-light cannot patch this release's parse_model ({tasks.__file__}): its fallback "
            f"'c2 = ch[f]' branch was not found exactly once. Please report the installed ultralytics version."
        )
    source = source.replace(ANCHOR, BRANCH + ANCHOR)
    # Pad so that tracebacks through the patched function point at the right lines of tasks.py (+3 after the branch).
    padded = "\n" * (stock.__code__.co_firstlineno - 1) + source
    namespace: dict = {}
    exec(compile(padded, tasks.__file__, "exec"), tasks.__dict__, namespace)
    patched = namespace["parse_model"]
    patched.__wrapped__ = stock
    tasks.parse_model = patched
