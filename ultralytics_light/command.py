"""What a command of the `ultralytics-light` tool is: its `key=value` options, its help, and its usage errors.

The commands (weights_cli.py, accuracy/, checks.py) declare themselves with these; cli.py lists and dispatches them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

PROG = "ultralytics-light"


class UsageError(ValueError):
    """The command line is wrong: exit status 2."""


@dataclass(frozen=True)
class Option:
    """One `key=value` option of a command.

    Args:
        default: The value when the key is not given; None for a required key (see Command.required).
        help: What it means, one line.
    """

    default: object
    help: str


@dataclass(frozen=True)
class Command:
    """A command of the tool.

    Args:
        words: How it is called, e.g. ('weights', 'fetch').
        summary: One line for the command list.
        run: Called with the parsed options (and the keys it passes on, see `passes`); returns the exit status.
        options: Its own keys.
        required: Keys that must be given.
        passes: What keys other than its own mean (e.g. "any `yolo train` argument"); empty: other keys are errors.
        accepts: Which other keys are valid, when `passes` is set (checked, so a typo is a usage error).
        examples: Command lines shown by help.
    """

    words: tuple[str, ...]
    summary: str
    run: Callable[..., int | None]
    options: dict[str, Option] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    passes: str = ""
    accepts: Callable[[], set[str]] | None = None
    examples: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(self.words)

    def usage(self) -> str:
        keys = " ".join(f"{key}=…" for key in self.required)
        return (
            f"usage: {PROG} {self.name}" + (f" {keys}" if keys else "") + (" [key=value ...]" if self.options else "")
        )

    def help(self) -> str:
        lines = [self.usage(), "", self.summary]
        if self.options:
            width = max(len(key) for key in self.options) + 2
            lines += ["", "options (key=value):"]
            for key, option in self.options.items():
                default = "required" if key in self.required else f"default: {option.default}"
                shown = "" if option.default is None and key not in self.required else f" ({default})"
                lines.append(f"  {key.ljust(width)}{option.help}{shown}")
        if self.passes:
            lines += ["", f"Any other key=value: {self.passes}"]
        if self.examples:
            lines += ["", "examples:", *(f"  {PROG} {example}" for example in self.examples)]
        return "\n".join(lines)

    def parse(self, args: list[str]) -> tuple[dict, dict]:
        """`key=value` arguments -> (this command's options with defaults, the other keys it passes on)."""
        options, passed = {key: option.default for key, option in self.options.items()}, {}
        valid_others = self.accepts() if self.accepts else set()
        for arg in args:
            key, sep, value = arg.partition("=")
            if not sep or not key:
                hint = f" Did you mean {self.required[0]}={arg}?" if self.required and sep == "" else ""
                raise UsageError(f"{self.name}: arguments are key=value, got {arg!r}.{hint}\n{self.usage()}")
            if key in self.options:
                options[key] = value
            elif key in valid_others:
                from ultralytics.cfg import smart_value  # as `yolo` reads values (imported only for such keys)

                passed[key] = smart_value(value)
            else:
                known = [*self.options, *valid_others]
                close = difflib.get_close_matches(key, known, n=3)
                suggestion = f" Similar: {', '.join(close)}." if close else ""
                raise UsageError(
                    f"{self.name}: unknown key {key!r}.{suggestion} See `{PROG} {self.name} help`.\n{self.usage()}"
                )
        missing = [key for key in self.required if options.get(key) in (None, "")]
        if missing:
            what = "; ".join(f"{key}= ({self.options[key].help})" for key in missing)
            raise UsageError(f"{self.name}: {what} is required.\n{self.usage()}")
        return options, passed
