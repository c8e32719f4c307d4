"""The compatibility matrix's table, the environment it ran in, and whether the run fails (a verified or an older
release failing a check does; a newer one only warns)."""

from __future__ import annotations

import subprocess

from release_checks import CHECKS
from releases import DECLARED, kind


def table(rows: dict[str, dict[str, tuple[bool | None, str]]], newest: str | None) -> str:
    mark = {True: "✅", False: "❌", None: "–"}
    lines = [
        "| release | declared | " + " | ".join(CHECKS) + " |",
        "|---|---|" + "---|" * len(CHECKS),
    ]
    for release, results in rows.items():
        declared = DECLARED[kind(release)] + (", newest on the index" if release == newest else "")
        cells = [f"{mark[results[c][0]]} {results[c][1]}" for c in CHECKS]
        lines.append(f"| {release} | {declared} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment(python: str) -> str:
    """The versions that `python` runs the checks with."""
    code = (
        "import platform; from importlib.metadata import version; "
        "print(f'Python {platform.python_version()}, ' + ', '.join(f'{p} {version(p)}' for p in "
        "('torch', 'torchvision', 'onnxruntime', 'ultralytics-light')))"
    )
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def exit_status(failing: dict[str, list[str]]) -> int:
    """1 if a verified release, or an older one (which must refuse), failed a check; newer ones only warn."""
    return 1 if any(names for release, names in failing.items() if kind(release) != "newer") else 0
