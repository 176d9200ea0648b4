"""SIGTERM handled like Ctrl-C, and the one line an interrupted command prints.

SLURM, Kubernetes, systemd and `timeout` stop a job with SIGTERM (then SIGKILL). Python turns
only SIGINT into `KeyboardInterrupt`; SIGTERM would end the process at once, with no message
and nothing flushed. `install_sigterm_handler` makes SIGTERM raise `Terminated`, a
`KeyboardInterrupt`, in the main thread, so every path written for Ctrl-C (finished trials and
runs saved, workers stopped, the results table rewritten) serves both. Exit codes follow the
shell's convention: 130 (128 + SIGINT) and 143 (128 + SIGTERM).

A command that can be continued raises `Interrupted` with its own line naming the resume
command; `hpsearch.cli.run` prints it (and a generic line for the others).

The handler also marks the stop pending (`hpsearch.stop_signal`), so a `Terminated` that
something swallows is raised again at the next epoch instead of being lost. Once a command
has returned, `hpsearch.cli.main` ignores both signals for the interpreter's teardown.
"""

from __future__ import annotations

import shlex
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hpsearch import stop_signal
from hpsearch.stop_signal import Terminated

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM

_state: dict[str, Any] = {"terminated": False, "argv": []}


class Interrupted(Exception):
    """A command stopped by Ctrl-C or SIGTERM after saving what finished.

    Not a `KeyboardInterrupt` on purpose: Typer turns those into a bare exit 130, and the line
    would be lost on the way to `hpsearch.cli.run`.
    """

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def install_sigterm_handler() -> None:
    """From now on SIGTERM raises `Terminated` in the main thread (once: a second SIGTERM
    during the clean stop ends the process the default way)."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (e.g. the CLI run from a test thread)

    def handler(signum: int, frame: Any) -> None:
        _state["terminated"] = True
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        stop_signal.mark_pending()  # raised again at the next epoch if something swallows it
        raise Terminated

    signal.signal(signal.SIGTERM, handler)


def terminated() -> bool:
    """Did this process receive SIGTERM (so it should exit 143, not 130)?"""
    return _state["terminated"]


def remember_argv(argv: list[str]) -> None:
    """The arguments of the command being run, for resume lines (`same_command`)."""
    _state["argv"] = list(argv)


def exit_code() -> int:
    return EXIT_TERMINATED if terminated() else EXIT_INTERRUPTED


@contextmanager
def resume_line(line: str) -> Iterator[None]:
    """Turn Ctrl-C or SIGTERM inside the block into `Interrupted(line)`.

    Example:
        >>> with resume_line("interrupted: continue with hpsearch tune --resume"):
        ...     pass
    """
    try:
        yield
    except KeyboardInterrupt:
        stop_signal.consume()
        raise Interrupted(line) from None


def same_command(add: str | None = None, drop: tuple[str, ...] = (),
                 argv: list[str] | None = None) -> str:
    """The command being run (or `argv`) as a shell line, without the flags in `drop` and
    with `add` once: the resume command of a command that keeps no settings of its own.

    Example:
        >>> same_command("--resume", ("--overwrite",), ["study", "dropout", "--overwrite"])
        'hpsearch study dropout --resume'
    """
    words = [w for w in (_state["argv"] if argv is None else argv) if w not in drop]
    if add and add not in words:
        words.append(add)
    return shlex.join(["hpsearch", *words])
