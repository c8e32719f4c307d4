"""Everything ultralytics-light changes in Ultralytics, applied once `ultralytics.nn.tasks` has been imported.

Each patch is one small module with an `apply(tasks, patcher)` function that makes its changes through
`patcher.replace`. Patching is all or nothing, because it runs inside every Python process that imports Ultralytics
and must never break stock Ultralytics: on a release older than the oldest verified one none is applied, and if any
patch raises, the ones already applied are undone. Either way the user is warned once, and using our models fails with
that same message (patches/unsupported_release.py); stock models behave as if ultralytics-light were not installed.

A release newer than the newest verified one is tried rather than refused, since all-or-nothing patching makes trying
safe: if every patch applies, our models work, and the first of them built or loaded in a process warns that the
release is not verified yet (`warn_if_unverified`).

A patch whose target a release lacks decides for itself whether that is fine (safe_load: releases before restricted
loading need nothing; `not_needed`), an error (parse_model: an anchor that is gone), or, for a feature that is truly
optional, a feature of ours that is off on this release (`feature_off`: one warning per process naming the feature and
why). Each patch's state is in STATES, which `ultralytics-light checks` lists.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

# The Ultralytics releases compat/matrix.py verifies span this range; setup.cfg declares the same floor (a test checks
# both). Newer releases are tried (SUPPORTED has no ceiling); older ones are refused.
OLDEST_VERIFIED, NEWEST_VERIFIED = "8.3.253", "8.4.190"
VERIFIED = f">={OLDEST_VERIFIED},<={NEWEST_VERIFIED}"
SUPPORTED = {"ultralytics": f">={OLDEST_VERIFIED}", "torchvision": ">=0.15"}
PATCHES = (  # applied in this order, undone in reverse
    "module_names",
    "parse_model",
    "model_yaml",
    "pretrained_batchnorm",
    "checkpoint_rebuild",
    "pretrained_arg",
    "fuse_backbone",
    "safe_load",
    "onnx_int8_quantize",
    "openvino_int8_overflow",
)
_ABSENT = object()
refusal: str | None = None  # why our models are unavailable in this process, once `apply` has run and refused
STATES: dict[str, str] = {}  # each patch's state in this process: applied, not needed (why), off (what and why), …


class Patcher:
    """Replaces attributes of Ultralytics' modules and classes, and can put every one of them back."""

    def __init__(self) -> None:
        self._originals: list[tuple[object, str, object]] = []
        self._undone = False

    def when_imported(self, module: str, apply, patch: str, feature: str) -> None:
        """Call `apply(module)` once Ultralytics' `module` is imported (now, if it is), unless undone before that.

        By then the other patches are in use, so one that fails here cannot be all or nothing: what it replaced is put
        back, and `feature_off` says once which feature of `patch` is off and why."""
        from ultralytics_light._startup import when_imported

        def finish(imported: ModuleType) -> None:
            if self._undone:
                return
            done = len(self._originals)
            try:
                apply(imported)
            except Exception as error:
                self._restore(done)
                feature_off(patch, feature, f"{module} is not what it expects ({type(error).__name__}: {error})")

        when_imported(module, finish)

    def replace(self, owner: object, name: str, value: object) -> None:
        """Set `owner.name = value`, remembering the owner's own previous value (or that it had none)."""
        self._originals.append((owner, name, vars(owner).get(name, _ABSENT)))
        setattr(owner, name, value)

    def undo(self) -> None:
        """Restore every replaced attribute, the last replaced first."""
        self._undone = True
        self._restore(0)

    def _restore(self, keep: int) -> None:
        """Restore the attributes replaced after the first `keep`, the last replaced first."""
        while len(self._originals) > keep:
            owner, name, original = self._originals.pop()
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


def installed_version(package: str) -> str:
    from importlib.metadata import version

    try:
        return version(package)
    except Exception:  # metadata missing or unreadable: say so rather than fail
        return "unknown"


def versions() -> str:
    return ", ".join(f"{package} {installed_version(package)}" for package in ("ultralytics", "torchvision", "torch"))


def supported_requirement(package: str = "ultralytics") -> str:
    """The way out for a user whose release we cannot use: a release we verified."""
    return f"pip install '{package}{VERIFIED if package == 'ultralytics' else SUPPORTED[package]}'"


def unavailable() -> str:
    """What a refusal costs: our models (named from the registry), and not Ultralytics' own."""
    from ultralytics_light.families import FAMILIES

    return f"so its models ({', '.join(FAMILIES)} backbones) are unavailable; stock Ultralytics is unaffected."


def unsupported_message(package: str, version: str) -> str:
    """The message for an installed package outside SUPPORTED."""
    return (
        f"ultralytics-light supports {package}{SUPPORTED[package]}, but {package} {version} is installed, "
        f"{unavailable()} Install a supported release: {supported_requirement(package)}"
    )


def failed_patch_message(name: str, error: BaseException) -> str:
    """The message for a patch that could not be applied to the installed release."""
    return (
        f"ultralytics-light could not adapt to the installed release ({versions()}): its patch '{name}' failed "
        f"({type(error).__name__}: {error}), {unavailable()} Install a release it is verified on: "
        f"{supported_requirement()}, or report this message to ultralytics-light."
    )


def unsupported_packages() -> list[tuple[str, str]]:
    """(package, installed version) of each package outside the releases our patches were verified on."""
    from ultralytics.utils.checks import check_version

    installed = {package: installed_version(package) for package in SUPPORTED}
    return [
        (package, v)
        for package, v in installed.items()
        if not check_version(v, SUPPORTED[package], name=package, hard=False, verbose=False)
    ]


def unverified_message(version: str) -> str:
    """The one-line warning for a release newer than every verified one, on which every patch applied."""
    return (
        f"ultralytics-light is verified on ultralytics {OLDEST_VERIFIED} to {NEWEST_VERIFIED}, and {version} is "
        f"running: its patches applied, so its models are tried on it. If one misbehaves, report it to "
        f"ultralytics-light with this line, or install a verified release: {supported_requirement()}"
    )


@cache  # once per process
def warn_if_unverified() -> None:
    """Warn when one of our models is built or loaded on a release newer than every verified one."""
    from ultralytics.utils import LOGGER
    from ultralytics.utils.checks import check_version

    version = installed_version("ultralytics")
    if check_version(version, f">{NEWEST_VERIFIED}", hard=False, verbose=False):
        LOGGER.warning(unverified_message(version))


def released_from(version: str) -> bool:
    """Whether the installed Ultralytics is `version` or newer (a feature that came in `version` should be there)."""
    from ultralytics.utils.checks import check_version

    return check_version(installed_version("ultralytics"), f">={version}", hard=False, verbose=False)


def applied(patch: str) -> None:
    """Record that `patch` is applied (those outside the all-or-nothing set say so themselves)."""
    STATES[patch] = "applied"


def not_needed(patch: str, why: str) -> None:
    """Record that `patch` has nothing to change on this release, and why (e.g. the feature it adapts came later)."""
    STATES[patch] = f"not needed ({why})"


def feature_off(patch: str, feature: str, why: str) -> None:
    """Record that `patch` could not give this release `feature`, and say so once per process; the rest of our patches
    stay applied, since the feature is one our models work without."""
    from ultralytics.utils import LOGGER

    if not STATES.get(patch, "").startswith("off: "):
        LOGGER.warning(f"ultralytics-light: {feature} is off: {why}")
    STATES[patch] = f"off: {feature} ({why})"


def target_missing(patch: str, arrived: str, since: str, feature: str, why: str) -> None:
    """A release lacks what `patch` adapts: not needed where it predates `since`, the release that brought `arrived`;
    else our `feature` is off, and said so (`why`)."""
    if not released_from(since):
        return not_needed(patch, f"{arrived} came in ultralytics {since}")
    return feature_off(patch, feature, why)


def apply_all(tasks: ModuleType) -> str | None:
    """Apply every patch, or none: on the first that raises, undo the others and return the message."""
    patcher = Patcher()
    for name in PATCHES:
        try:
            importlib.import_module(f"{__name__}.{name}").apply(tasks, patcher)
        except Exception as error:
            patcher.undo()
            STATES.update({patch: f"undone: '{name}' failed" for patch in PATCHES})
            return failed_patch_message(name, error)
        STATES.setdefault(name, "applied")
    return None


def refuse(tasks: ModuleType, message: str) -> None:
    """Warn once, and make our models fail with `message`; if even that cannot be done, leave Ultralytics as it is."""
    from ultralytics.utils import LOGGER

    LOGGER.warning(message)
    patcher = Patcher()
    try:
        from ultralytics_light.patches import unsupported_release

        unsupported_release.apply(tasks, patcher, message)
    except Exception:
        patcher.undo()


def apply(tasks: ModuleType) -> None:
    """Patch Ultralytics through its freshly imported task-parser module, all or nothing. Idempotent."""
    if getattr(tasks, "_ultralytics_light_patched", False):
        return
    tasks._ultralytics_light_patched = True  # also marks a refused release as handled: warn once
    try:
        unsupported = unsupported_packages()
        message = unsupported_message(*unsupported[0]) if unsupported else apply_all(tasks)
    except Exception as error:  # apply_all catches its own; this is the version check
        message = failed_patch_message("version check", error)
    if message is not None:
        global refusal
        refusal = message
        refuse(tasks, message)
