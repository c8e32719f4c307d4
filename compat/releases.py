"""Which Ultralytics releases the compatibility matrix checks, what each is to us (older than the verified range,
verified, or newer and tried), and each installed alone into a cache folder (`pip install --no-deps --target`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from ultralytics_light.patches import NEWEST_VERIFIED, OLDEST_VERIFIED

# The supported range's ends, both sides of each change in Ultralytics' internals that our patches depend on (reg_max
# in 8.4.0, restricted loading in 8.4.67, its allow-list a dict from 8.4.126), and releases spread between. The ends
# must equal patches.OLDEST_VERIFIED/NEWEST_VERIFIED (a test checks it).
IN_RANGE = (
    "8.3.253", "8.4.0", "8.4.20", "8.4.50", "8.4.66", "8.4.67", "8.4.80", "8.4.120", "8.4.125", "8.4.126", "8.4.150",
    "8.4.190",
)  # fmt: skip
OUT_OF_RANGE = ("8.2.103",)  # stock must still work there, and our models must refuse (UnsupportedReleaseError)
NEWEST = "newest"  # in --releases: the newest release on the package index, resolved when the matrix runs
DECLARED = {"older": "outside", "supported": "supported", "newer": "newer: tried"}
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ultralytics-light" / "compat"


def version_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def kind(release: str) -> str:
    """'older' than every verified release (refused), 'supported' (the verified range), or 'newer' (tried)."""
    if version_key(release) < version_key(OLDEST_VERIFIED):
        return "older"
    return "newer" if version_key(release) > version_key(NEWEST_VERIFIED) else "supported"


def newest_release() -> str:
    """The newest Ultralytics release the package index serves now, through pip and its settings."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "ultralytics", "--disable-pip-version-check"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    found = re.search(r"^ultralytics \(([0-9.]+)\)", result.stdout, re.MULTILINE)
    if found is None:
        raise RuntimeError(tail(result))
    return found.group(1)


def resolve(releases: list[str]) -> tuple[list[str], str | None, str]:
    """The releases to check, with NEWEST resolved; the newest release (None if unresolved) and a note on it."""
    if NEWEST not in releases:
        return releases, None, ""
    try:
        newest = newest_release()
    except Exception as error:
        note = f"⚠️ The newest release on the package index could not be resolved ({error}), so it was not checked."
        print(f"WARNING: {note}")
        return [r for r in releases if r != NEWEST], None, note
    resolved = list(dict.fromkeys(newest if r == NEWEST else r for r in releases))
    return resolved, newest, f"The newest release on the package index when this ran: {newest}."


def install(release: str, cache: Path) -> Path:
    """The folder holding Ultralytics `release` alone (installed there once, without its dependencies)."""
    target = cache / f"ultralytics-{release}"
    if not (target / f"ultralytics-{release}.dist-info").is_dir():
        result = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--target", str(target), f"ultralytics=={release}"],
            capture_output=True, text=True, env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"},
        )  # fmt: skip
        if result.returncode:
            raise SystemExit(f"could not install ultralytics=={release}:\n{result.stdout}{result.stderr}")
    return target


def tail(result: subprocess.CompletedProcess) -> str:
    """The last line a command printed (pip's, or a check's), to stand for its failure in the table."""
    return ((result.stderr + result.stdout).strip().splitlines() or ["no output"])[-1][:300]
