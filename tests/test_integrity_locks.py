"""Two processes on one project or study: the second is refused with a line naming the first
(pid and host); a lock left by a dead process is stale and taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpsearch.errors import ProjectLocked
from hpsearch.locks import LOCK_FILE, _start_time, project_lock

TUNE = ["--dataset", "fashion-mnist-sample", "-q", "-k", "2", "--epochs", "1", "--tuner",
        "random", "--fix", "hidden=16", "--fix", "batch_size=512"]


def _write_lock(directory: Path, pid: int, host: str | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / LOCK_FILE).write_text(json.dumps({
        "pid": pid, "host": host or socket.gethostname(), "proc_start": _start_time(pid),
        "command": "hpsearch tune", "since": "2026-01-01T00:00:00"}))


def test_second_tune_on_a_live_project_is_refused_naming_the_first(tmp_path, cli):
    directory = tmp_path / "proj"
    first = subprocess.Popen([sys.executable, "-m", "hpsearch", "tune", "--directory",
                              str(directory), *TUNE, "--max-trials", "200"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (directory / "project.json").is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (directory / LOCK_FILE).is_file()
        code, _, err = cli("tune", "--directory", str(directory), *TUNE, "--max-trials", "200",
                           "--resume")
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1, err
        assert f"in use by pid {first.pid} on {socket.gethostname()}" in lines[0]
        assert "hpsearch worker" in lines[0]
    finally:
        first.kill()
        first.wait()
    # the first process was SIGKILLed: its lock is stale and a resume takes it over
    code, _, err = cli("tune", "--directory", str(directory), *TUNE, "--max-trials", "1",
                       "--resume")
    assert code == 0, err
    assert f"note: took over the stale lock of pid {first.pid}" in err
    assert not (directory / LOCK_FILE).exists()  # released at the end


def test_a_live_study_is_refused(tmp_path, cli):
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        out = tmp_path / "study"
        _write_lock(out, sleeper.pid)
        code, _, err = cli("study", "batch-size", "--values", "256", "--repeats", "1",
                           "--epochs", "1", "--dataset", "fashion-mnist-sample", "-q",
                           "--out", str(out))
        assert code == 2 and f"error: {out} is in use by pid {sleeper.pid}" in err
        assert list(out.iterdir()) == [out / LOCK_FILE]  # nothing trained or written
    finally:
        sleeper.kill()
        sleeper.wait()


def test_stale_reused_foreign_and_unreadable_locks(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    _write_lock(tmp_path / "a", dead.pid)
    with project_lock(tmp_path / "a") as notes:
        assert notes and "stale lock" in notes[0]
        owner = json.loads((tmp_path / "a" / LOCK_FILE).read_text())
        assert owner["pid"] == os.getpid()
        with pytest.raises(ProjectLocked, match=f"pid {os.getpid()}"):
            with project_lock(tmp_path / "a"):
                pass
    assert not (tmp_path / "a" / LOCK_FILE).exists()

    _write_lock(tmp_path / "b", 1, host="elsewhere.example")
    with pytest.raises(ProjectLocked, match="pid 1 on elsewhere.example.*another host cannot"):
        with project_lock(tmp_path / "b"):
            pass

    reused = {"pid": os.getpid(), "host": socket.gethostname(), "proc_start": 1.0}
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / LOCK_FILE).write_text(json.dumps(reused))  # our pid, another start
    with project_lock(tmp_path / "c") as notes:
        assert "stale lock" in notes[0]

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / LOCK_FILE).write_text("{trunc")
    with project_lock(tmp_path / "d") as notes:
        assert "unreadable lock file" in notes[0]
