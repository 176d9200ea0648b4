"""The `hpsearch` command line: parse, call the library, print. Nothing else lives here.

`main()` is the only place where errors become exit codes: a user mistake is one line on stderr
and exit 2, never a traceback.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from typing import Any

import typer

from hpsearch import stop_signal
from hpsearch.cli import interrupt
from hpsearch.cli.app import app
from hpsearch.cli.interrupt import EXIT_INTERRUPTED, Interrupted
from hpsearch.errors import HpsearchError, TrialFailed

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


_registered: set[str] = set()


def _register(argv: list[str] | None = None) -> None:
    """Attach the commands to `app`, in the order `hpsearch --help` lists them (the order of
    the work: train and compare, search, study, export and use, report).

    Each command module lists its commands in `COMMANDS`; importing one attaches nothing.
    `hpsearch playground ...` registers only the playground: the Keras-side modules cost
    ~0.4 s of imports that a sub-second simulator run should not pay.
    """
    if "playground" not in _registered:
        _registered.add("playground")
        from hpsearch.cli.playground_serve import serve
        from playground.cli import app as playground_app  # numpy only: keeps start-up fast

        playground_app.command("serve")(serve)  # the web side of the playground lives here
        app.add_typer(playground_app, name="playground",
                      help="TensorFlow Playground simulator: tiny networks, exact site rules.")
    if argv and argv[0] == "playground" or "keras" in _registered:
        return
    _registered.add("keras")
    from hpsearch.cli import core, predict, report, study, tune

    for module in (core, tune, study, predict, report):
        for command in module.COMMANDS:
            app.command()(command)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _usage_error(exc: Exception) -> int:
    """Bad options/values: one line naming the problem and where the help is."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # Typer has already printed the help
        return EXIT_BAD_INPUT
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    where = ctx.command_path if ctx is not None else "hpsearch"
    _error(f"{' '.join(message.split())} (see `{where} --help`)")
    return getattr(exc, "exit_code", EXIT_BAD_INPUT) or EXIT_BAD_INPUT


# library setting -> flag where the names differ beyond _ -> -
FLAG_NAMES = {"space_file": "--space", "prune": "--prune/--no-prune", "resume": "--resume",
              "overwrite": "--overwrite", "directory": "--directory"}


def in_flags(message: str, group: Any, argv: list[str] | None) -> str:
    """A library error in CLI terms: each `setting` the invoked command has as an option
    becomes its flag (`max_trials` -> --max-trials); other backticked words stay."""
    sub = group.commands.get(argv[0]) if argv and hasattr(group, "commands") else None
    if sub is None:
        return message
    options = {p.name: p for p in sub.params}

    def flag(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in options:
            return match.group(0)
        longest = max(options[name].opts, key=len)
        return FLAG_NAMES.get(name, longest)

    return re.sub(r"`([a-z_]+)`", flag, message)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI on `argv` and return the exit code (used by `main` and by the tests)."""
    _register(argv)
    interrupt.remember_argv(argv or [])
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="hpsearch", standalone_mode=False)
    except typer.TyperException as exc:  # Typer's (vendored Click) usage errors
        return _usage_error(exc)
    except Interrupted as exc:  # Ctrl-C or SIGTERM, with the command's own resume line
        print(exc.line, file=sys.stderr)
        return interrupt.exit_code()
    except TrialFailed as exc:
        _error(in_flags(str(exc), command, argv))
        return EXIT_FAILED
    except HpsearchError as exc:
        _error(in_flags(str(exc), command, argv))
        return EXIT_BAD_INPUT
    except (typer.Abort, KeyboardInterrupt):
        result = EXIT_INTERRUPTED
    except PermissionError as exc:
        _error(f"permission denied: {exc.filename}; choose a writable location")
        return EXIT_BAD_INPUT
    if result == EXIT_INTERRUPTED:  # Typer's exit for a KeyboardInterrupt no command caught
        return _interrupted()
    if stop_signal.consume():  # a SIGTERM that was swallowed after the last epoch
        print("stopped: SIGTERM arrived as the command was finishing; it finished, and what it "
              "printed and wrote is complete", file=sys.stderr)
    if interrupt.terminated():  # e.g. a server that stopped cleanly on SIGTERM
        return interrupt.EXIT_TERMINATED
    return result if isinstance(result, int) else 0


def _interrupted() -> int:
    stop_signal.consume()
    print("interrupted: everything finished so far is saved; run the command again to redo the "
          "rest", file=sys.stderr)
    return interrupt.exit_code()


# Commands that train or load Keras models; they import TensorFlow anyway.
TENSORFLOW_COMMANDS = {"train", "cv", "study", "tune", "export", "worker", "predict"}


def main() -> None:
    argv = sys.argv[1:]
    interrupt.install_sigterm_handler()  # SIGTERM stops like Ctrl-C (exit 143)
    simulator = argv[:1] == ["playground"]
    if simulator:
        from playground.cli import start_painter_early

        start_painter_early(argv)
    elif argv[:1] and argv[0] in TENSORFLOW_COMMANDS and not {"--help", "-h"} & set(argv):
        from hpsearch.api import start_tensorflow

        try:  # seconds on a loaded machine: a Ctrl-C or SIGTERM may well land here
            start_tensorflow()
        except KeyboardInterrupt:
            sys.exit(_interrupted())
    code = run(argv)
    # The command has finished and said so; the exit code is decided. A SIGTERM or Ctrl-C
    # from here on would only cut the interpreter's teardown short (it would die silently
    # with -15: Python restores the default handlers while it shuts down, all but "ignore").
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if simulator:
        # Skip interpreter teardown (~0.4 s of unloading numba/LLVM) for the simulator: it
        # holds no open files or pending work here, so flush the streams and leave.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
