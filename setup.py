"""Everything is in setup.cfg except shipping the start-up hook, which setup.cfg cannot say.

`ultralytics_light.pth` must land at the top of site-packages, beside the packages, so that every interpreter
(the `yolo` CLI, a DDP worker) registers our modules with Ultralytics without importing us by hand.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HOOK = "ultralytics_light.pth"
HOOK_LINE = "import ultralytics_light\n"  # cheap: see ultralytics_light/_startup.py


class BuildPyWithStartupHook(build_py):
    """Build the packages, then write the start-up hook into the root of the build (the wheel's purelib)."""

    def run(self) -> None:
        super().run()
        (Path(self.build_lib) / HOOK).write_text(HOOK_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / HOOK)]


setup(cmdclass={"build_py": BuildPyWithStartupHook})
