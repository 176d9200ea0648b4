"""A SIGTERM is never lost, even when something swallows the exception its handler raises.

In-process, with the CLI's real handler and real signals sent to this process: the swallow
is simulated with `except KeyboardInterrupt: pass`, which is what a C extension that clears
a pending error does to it. (CI once saw a study run on to the end after SIGTERM and exit 143
with no line: tests/test_reliability_signals.py.)
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

import hpsearch.cli as cli
from hpsearch import stop_signal
from hpsearch.cli import interrupt
from hpsearch.config import ModelConfig
from hpsearch.training import loop


@contextmanager
def cli_handler() -> Iterator[None]:
    """The CLI's SIGTERM handler, and afterwards this process's own handlers and state."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    interrupt.install_sigterm_handler()
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        interrupt._state["terminated"] = False
        stop_signal.consume()


def swallowed_sigterm() -> None:
    """SIGTERM to this process, its `Terminated` dropped on the way (as a C extension can)."""
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
    except KeyboardInterrupt:
        pass


def test_a_swallowed_sigterm_stops_training_at_the_next_epoch() -> None:
    cfg = ModelConfig(hidden=(8,), epochs=3, batch_size=32)
    rows = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    labels = np.arange(64) % 2
    with cli_handler():
        swallowed_sigterm()
        assert interrupt.terminated() and stop_signal.pending()
        with pytest.raises(stop_signal.Terminated):
            loop.fit_towers(cfg, rows, labels, [np.arange(64)], None, [0], 2)
        assert stop_signal.pending()  # until the code that reports it consumes it
    loop.fit_towers(cfg, rows, labels, [np.arange(64)], None, [0], 2)  # nothing pending: trains


def test_a_swallowed_sigterm_gets_the_commands_own_line(capsys, tmp_path) -> None:
    """A study stopped this way names its --resume, like a SIGTERM that arrived intact."""
    with cli_handler():
        swallowed_sigterm()
        code = cli.run(["study", "batch-size", "--values", "128", "--repeats", "2", "--epochs",
                        "2", "--folds", "2", "--dataset", "fashion-mnist-sample", "--out",
                        str(tmp_path / "s"), "-q"])
        assert not stop_signal.pending()
    assert code == 143
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted: the finished runs are saved in")
    assert lines[0].endswith("--resume")


def test_a_sigterm_swallowed_after_the_last_epoch_is_still_reported(capsys) -> None:
    """The command finished anyway: exit 143 and a line saying its output is complete."""
    with cli_handler():
        swallowed_sigterm()
        code = cli.run(["study", "batch-size", "--values", "128", "--dry-run"])
    assert code == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["stopped: SIGTERM arrived as the command was finishing; it finished, and what "
                   "it printed and wrote is complete"]


def test_after_the_command_returns_a_signal_cannot_cut_the_teardown(monkeypatch) -> None:
    """Python restores the default handlers while it shuts down (all but "ignore"), so a
    SIGTERM in the teardown would end the process silently with -15 after it had finished."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    monkeypatch.setattr(cli, "run", lambda argv: 0)
    monkeypatch.setattr("sys.argv", ["hpsearch", "report", "--help"])
    try:
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code == 0
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_a_sigterm_while_export_prints_says_the_export_is_complete(capsys, tmp_path,
                                                                   monkeypatch) -> None:
    """Not "nothing was exported", nor "run it again" (which --overwrite alone would allow)."""
    import hpsearch.cli.core as core

    def print_then_signal(*args, **kwargs) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the result is being printed

    monkeypatch.setattr(core.console, "print", print_then_signal)
    out = tmp_path / "e"
    with cli_handler():
        code = cli.run(["export", "--preset", "model1", "--epochs", "1", "--dataset",
                        "fashion-mnist-sample", "--out", str(out), "-q"])
        assert not stop_signal.pending()
    assert code == 143
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"interrupted while printing: the export is complete in {out} "
                     "(model.keras and model_card.json)"]
    assert (out / "model.keras").is_file() and (out / "model_card.json").is_file()


def test_a_sigterm_while_tune_prints_its_table_names_the_saved_search(capsys, tmp_path,
                                                                      monkeypatch) -> None:
    import hpsearch.cli.tune as tune

    def print_then_signal(*args, **kwargs) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(tune.console, "print", print_then_signal)
    directory = tmp_path / "t"
    with cli_handler():
        code = cli.run(["tune", "--tuner", "random", "--max-trials", "1", "-k", "2", "--epochs",
                        "1", "--fix", "hidden=16", "--directory", str(directory), "--dataset",
                        "fashion-mnist-sample", "-q"])
        assert not stop_signal.pending()
    assert code == 143
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"interrupted while printing: the search's trials and tables are saved in "
                     f"{directory}; `hpsearch report {directory}` shows them"]
    assert (directory / "results.csv").is_file()
