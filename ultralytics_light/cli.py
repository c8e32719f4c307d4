"""`ultralytics-light`, the command-line tool (also `python -m ultralytics_light`).

Arguments follow the `yolo` CLI: words name the command (`weights fetch`), everything else is `key=value`. `help`,
`--help` or `-h` after any command prints its options, their meaning and defaults. Exit status: 0 done, 2 a usage
error (unknown command or key, a missing required key), 1 a run that failed; errors are printed as
`ultralytics-light: error: <message>`.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

PROG = "ultralytics-light"
HELP_WORDS = ("help", "--help", "-h")


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


def commands() -> list[Command]:
    from ultralytics_light import accuracy, checks, weights_cli

    return [*weights_cli.COMMANDS, accuracy.COMMAND, checks.COMMAND]


def overview(found: list[Command], prefix: tuple[str, ...] = ()) -> str:
    """The list of commands under `prefix`, one line each."""
    width = max(len(command.name) for command in found) + 2
    head = f"usage: {PROG} {' '.join(prefix) + ' ' if prefix else ''}COMMAND [key=value ...]"
    lines = [head, "", "commands:"]
    lines += [f"  {command.name.ljust(width)}{command.summary}" for command in found]
    lines += ["", f"`{PROG} COMMAND help` lists a command's options. Arguments are key=value, as with `yolo`."]
    return "\n".join(lines)


def dispatch(argv: list[str]) -> int:
    words = []
    for arg in argv:
        if "=" in arg or arg in HELP_WORDS:
            break
        words.append(arg)
    wants_help = any(arg in HELP_WORDS for arg in argv[len(words) :])
    every = commands()
    matches = [c for c in every if list(c.words) == words[: len(c.words)]]
    if not matches:  # an incomplete command ('weights'), or none at all: list what there is
        under = [c for c in every if list(c.words[: len(words)]) == words]
        if not under:
            raise UsageError(f"unknown command {' '.join(words)!r}.\n{overview(every)}")
        if wants_help or not words:
            print(overview(under, tuple(words)))
            return 0
        raise UsageError(f"{' '.join(words)} needs one of its commands.\n{overview(under, tuple(words))}")
    command = max(matches, key=lambda c: len(c.words))
    if wants_help:
        print(command.help())
        return 0
    options, passed = command.parse(argv[len(command.words) :])  # words after the command are errors there
    status = command.run(options, passed) if command.passes else command.run(options)
    return status or 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ultralytics-light` command and `python -m ultralytics_light`."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return dispatch(argv)
    except UsageError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if not is_user_error(error):
            raise
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1


def is_user_error(error: Exception) -> bool:
    """Errors whose message tells the user what to do: printed as one line, not as a traceback."""
    from ultralytics_light.weights import WeightsNotAvailableError

    return isinstance(error, (ValueError, FileNotFoundError, WeightsNotAvailableError))
