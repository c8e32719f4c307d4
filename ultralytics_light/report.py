"""The README's generated tables: rewritten between a `<!-- name:start -->` and a `<!-- name:end -->` line."""

from __future__ import annotations

import re
from pathlib import Path


def replace_section(readme: Path, name: str, content: str) -> None:
    """Replace what lies between the `name` markers of `readme` with `content`; a ValueError if they are missing."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    text = Path(readme).read_text()
    if not pattern.search(text):
        raise ValueError(f"{readme} has no '<!-- {name}:start -->' … '<!-- {name}:end -->' lines to put the table in.")
    Path(readme).write_text(pattern.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(2), text))
