"""`ultralytics-light`, the command-line tool (also `python -m ultralytics_light`).

Arguments follow the `yolo` CLI: words name the command (`weights fetch`), everything else is `key=value`. `help`,
`--help` or `-h` after any command prints its options, their meaning and defaults. Exit status: 0 done, 2 a usage
error (unknown command or key, a missing required key), 1 a run that failed; errors are printed as
`ultralytics-light: error: <message>`.
"""

from __future__ import annotations

import sys

from ultralytics_light.command import PROG, Command, UsageError

HELP_WORDS = ("help", "--help", "-h")


def commands() -> list[Command]:
    from ultralytics_light import accuracy, checks, latency, weights_cli

    return [*weights_cli.COMMANDS, accuracy.COMMAND, latency.COMMAND, checks.COMMAND]


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
