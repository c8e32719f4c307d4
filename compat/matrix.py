"""The compatibility matrix: ultralytics-light against a list of Ultralytics releases, each in isolation.

Each release is installed with `pip install --no-deps --target` into a cache folder and put first on PYTHONPATH; torch,
torchvision, the exporters and ultralytics-light itself come from the main environment, which nothing here changes.
Every check runs in a fresh interpreter (our start-up hook included), offline, with torchvision-format weights made
on the spot:

- stock: Ultralytics' own model builds (yolo11n.yaml; yolov8n.yaml on releases before YOLO11);
- yamls: every shipped YAML builds at scale n (in range), or is refused with UnsupportedReleaseError (out of range);
- train, predict: `yolo train` one tiny epoch of yolo11n-shufflenetv2.yaml, `yolo predict` with its best.pt;
- reload: best.pt loads, with our rows, and predicts (restricted loading too, where the release has it);
- onnx: `yolo export format=onnx`, and ONNX Runtime's predictions equal PyTorch's;
- int8: where the release has ONNX Runtime INT8 (8.4.60 on), `yolo export format=onnx quantize=8` scales every
  convolution's weights per channel (our settings, patches/onnx_int8_quantize.py).
- scratch, reformat: `pretrained=False` reads no ImageNet file; the parse_model patch survives `ast.unparse`;
- timm: a model of TimmBackbone rows (timm's MobileNetV4-Conv-Small) builds and runs, where timm is installed.

Besides the releases listed below, the newest release on the package index is resolved when the matrix runs and
checked too. Newer than every verified release, it is tried as our users' installs try it (patches/__init__.py): its
failures are reported as warnings and in the table, but fail the run only for releases in the verified range, so that
a day on which Ultralytics changes something of theirs does not turn CI red.

    python compat/matrix.py                       # every release below and the newest; writes compat/results.md
    python compat/matrix.py --releases 8.4.0      # one release
    python -m bench.publish                       # then publish the results into the docs (make test-compat does)
    python compat/matrix.py --python venv/bin/python --releases 8.4.190 --out compat/floor.md   # another environment
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the helpers the tests use (tests/helpers.py)

from helpers import rectangles_dataset  # noqa: E402
from release_checks import CHECKS, Release, offline_caches  # noqa: E402
from releases import CACHE, DECLARED, IN_RANGE, NEWEST, OUT_OF_RANGE, install, kind, resolve  # noqa: E402
from report import environment, exit_status, table  # noqa: E402

from ultralytics_light.patches import NEWEST_VERIFIED  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", nargs="+", default=[*OUT_OF_RANGE, *IN_RANGE, NEWEST],
                        help=f"releases to check; '{NEWEST}': the newest on the package index")  # fmt: skip
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter whose environment (torch, torchvision, exporters, ultralytics-light) "
                             "runs the checks; this one by default")  # fmt: skip
    parser.add_argument("--cache", type=Path, default=CACHE, help="where releases are installed (kept for reuse)")
    parser.add_argument("--out", type=Path, help="where to write the results (compat/results.md for a full run)")
    args = parser.parse_args()
    args.python = os.path.abspath(args.python)  # the checks run in another folder; a venv's python stays a link
    full = set(IN_RANGE + OUT_OF_RANGE) <= set(args.releases) and args.python == sys.executable
    out = args.out or (HERE / "results.md" if full else None)
    releases, newest, newest_note = resolve(args.releases)

    start, rows = time.time(), {}
    with tempfile.TemporaryDirectory(prefix="ultralytics-light-compat-") as tmp:
        work = Path(tmp)
        offline_caches(work, args.python)
        rectangles_dataset(work / "data")
        for k, release in enumerate(releases, 1):
            print(f"[{k}/{len(releases)}] ultralytics {release} ({DECLARED[kind(release)]}) ...", flush=True)
            started = time.time()
            try:
                runner = Release(release, install(release, args.cache), work, args.python)
            except SystemExit as error:  # pip could not install it: for a newer release, a row saying so
                if kind(release) != "newer":
                    raise
                rows[release] = {name: (False if name == "stock" else None, str(error)[:300]) for name in CHECKS}
                continue
            rows[release] = runner.results()
            for name, (passed, detail) in rows[release].items():
                print(f"    {name:8s} {'pass' if passed else 'n/a ' if passed is None else 'FAIL'}  {detail}")
            failed = [name for name, (passed, _) in rows[release].items() if passed is False]
            print(f"    {'FAILED: ' + ', '.join(failed) if failed else 'ok'} in {time.time() - started:.0f} s")
            if failed:
                print(runner.log.read_text()[-6000:])
        elapsed = time.time() - start

    failing = {
        release: [name for name, (passed, _) in checks.items() if passed is False] for release, checks in rows.items()
    }
    newer_failing = [release for release, names in failing.items() if names and kind(release) == "newer"]
    releases_run = f"{len(rows)} release{'s' * (len(rows) != 1)}"
    timing = f"{releases_run} in {elapsed / 60:.1f} min on {os.cpu_count()} CPUs; {environment(args.python)}."
    summary = "\n\n".join(part for part in (table(rows, newest), newest_note, timing) if part)
    print("\n" + summary)
    for release in newer_failing:
        print(f"\nWARNING: ultralytics {release}, newer than the newest verified release ({NEWEST_VERIFIED}), fails "
              f"{', '.join(failing[release])}: see its row and log above. Users who upgrade to it meet this; it does "
              f"not fail the run, which fails only for releases in the verified range.")  # fmt: skip
    if out:
        out.write_text(f"# Compatibility matrix\n\nWritten by `{' '.join(['python', *sys.argv])}`.\n\n{summary}\n")
    return exit_status(failing)


if __name__ == "__main__":
    sys.exit(main())
