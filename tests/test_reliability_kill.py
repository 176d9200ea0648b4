"""Kill anywhere: SIGKILL a real `hpsearch tune` / `hpsearch study` process at many moments,
resume it each time, and check that nothing finished is lost, re-run or changed, and that no
results file is ever seen half-written.

An observer polls the project directory every few milliseconds while the process runs. Every
JSON and CSV file it sees must parse (writes go through `hpsearch.fileio`: temp file, fsync,
rename). A trial or run record, once final, must stay byte-for-byte the same until the end.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TIMEOUT_S = 240  # per process; a healthy run of the tiny search takes well under a minute
ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def _parse(path: Path, text: str) -> object:
    """Fail the test if a results file is half-written."""
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except ValueError as exc:
            raise AssertionError(f"{path} is half-written: {exc}: {text[-200:]!r}") from exc
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and text.endswith("\n"), f"{path} is empty or cut off: {text[-200:]!r}"
    assert all(len(r) == len(rows[0]) for r in rows), f"{path} has a ragged row"
    return rows


class Observer:
    """Snapshots of every .json/.csv under a directory, each checked as it is seen."""

    def __init__(self, root: Path, final: Callable[[Path, object], bool]) -> None:
        self.root, self.final = root, final
        self.frozen: dict[str, str] = {}  # final records: first content seen
        self.observations = 0
        self.last: dict[str, str] = {}

    def look(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        if not self.root.is_dir():
            return seen
        for path in self.root.rglob("*"):
            if path.suffix not in (".json", ".csv") or path.name.startswith("."):
                continue  # ".<name>.xxx.tmp" files are the atomic writer's scratch
            try:
                text = path.read_text(encoding="utf-8")
            except (FileNotFoundError, IsADirectoryError):
                continue  # removed between listing and reading (e.g. --overwrite)
            rel = str(path.relative_to(self.root))
            value = _parse(path, text)
            if self.final(path, value):
                if rel in self.frozen:
                    assert self.frozen[rel] == text, f"finished record {rel} was changed"
                else:
                    self.frozen[rel] = text
            seen[rel] = text
        self.observations += 1
        self.last = seen
        return seen


def _kill_run(command: list[str], observer: Observer, trigger: Callable[[dict, dict], bool],
              cwd: Path, log: Path) -> bool:
    """Start `command`, watch, SIGKILL it when `trigger(previous, current)` fires.
    Returns True if it was killed, False if it finished first (exit code checked)."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=out, stderr=out)
    start, previous = time.monotonic(), observer.look()
    try:
        while proc.poll() is None:
            assert time.monotonic() - start < TIMEOUT_S, "search hung"
            current = observer.look()
            if trigger(previous, current):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                observer.look()  # the state the kill left behind must parse too
                return True
            previous = current
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    observer.look()
    assert proc.returncode == 0, log.read_text()[-2000:]
    return False


# ------------------------------------------------------------------ triggers


def _changed(name_part: str) -> Callable[[dict, dict], bool]:
    """Right after a file whose path contains `name_part` is written (new or different)."""
    return lambda prev, cur: any(name_part in k and prev.get(k) != v for k, v in cur.items())


def _became(field: str, test: Callable[[dict], bool]) -> Callable[[dict, dict], bool]:
    def trigger(prev: dict, cur: dict) -> bool:
        for key, text in cur.items():
            if field in key and prev.get(key) != text and test(json.loads(text)):
                return True
        return False
    return trigger


def _after(seconds: float, inner: Callable[[dict, dict], bool]) -> Callable[[dict, dict], bool]:
    """`inner` fires, then `seconds` later (e.g. somewhere inside the next fold's epoch)."""
    state: dict[str, float] = {}

    def trigger(prev: dict, cur: dict) -> bool:
        if "at" not in state and inner(prev, cur):
            state["at"] = time.monotonic()
        return "at" in state and time.monotonic() - state["at"] >= seconds
    return trigger


def _delay(seconds: float) -> Callable[[dict, dict], bool]:
    start = time.monotonic()
    return lambda prev, cur: time.monotonic() - start >= seconds


# ------------------------------------------------------------------ tune


def _tune_final(path: Path, value: object) -> bool:
    return path.parent.name == "trials" and isinstance(value, dict) \
        and value.get("status") in ("ok", "pruned", "failed")


def test_tune_survives_sigkill_anywhere_and_loses_nothing(tmp_path) -> None:
    rng = random.Random(6)
    trials = 6
    project = tmp_path / "p"
    base = [sys.executable, "-m", "hpsearch", "tune", "-o", str(project), "--tuner", "random",
            "--max-trials", str(trials), "-k", "2", "--epochs", "1", "--no-prune",
            "--fix", "hidden=16", "--fix", "batch_size=256",
            "--dataset", "fashion-mnist-sample", "-q", "--seed", "3"]
    observer = Observer(project, _tune_final)
    moments = {
        "during fold 0 (record just created, then a seeded delay)":
            _after(rng.uniform(0.05, 0.6),
                   _became("trials/", lambda r: r["status"] == "running" and not r["folds"])),
        # All folds of a trial train together and are recorded with its final status, so
        # there is no "between folds" moment any more; instead, a trial killed the moment its
        # record appears (before any epoch ran).
        "right as a trial's record was created":
            _became("trials/", lambda r: r["status"] == "running"),
        "trial finished, before the oracle and the tables heard":
            _became("trials/", lambda r: r["status"] == "ok"),
        "right after results.csv was rewritten": _changed("results.csv"),
        "while Keras Tuner writes its state": _changed("oracle.json"),
        "at a seeded random time": _delay(rng.uniform(6.0, 14.0)),
    }
    kills = []
    for moment, trigger in moments.items():
        command = base + (["--resume"] if project.exists() else [])
        if _kill_run(command, observer, trigger, tmp_path, tmp_path / "log.txt"):
            kills.append(moment)
        else:
            break  # the search finished before this moment came
    assert len(kills) >= 4, f"only killed at {kills}; the search finished too early"

    _kill_run(base + ["--resume"], observer, lambda p, c: False, tmp_path,
              tmp_path / "log.txt")

    records = {p.name: json.loads(p.read_text()) for p in (project / "trials").glob("*.json")}
    assert sorted(records) == [f"trial_{i}.json" for i in range(trials)]
    assert all(r["status"] == "ok" and len(r["folds"]) == 2 for r in records.values())
    with open(project / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(int(r["trial_id"]) for r in rows) == list(range(trials))  # each exactly once
    assert all(r["status"] == "ok" for r in rows)
    table = json.loads((project / "results.json").read_text())["trials"]
    assert sorted(int(r["trial_id"]) for r in table) == list(range(trials))
    # every record seen final before a kill is byte-for-byte the one at the end (not re-run:
    # a re-run would rewrite `started`, `finished` and the scores)
    for rel, text in observer.frozen.items():
        assert (project / rel).read_text(encoding="utf-8") == text, f"{rel} was re-run"
    assert len(observer.frozen) == trials and observer.observations > 100


# ------------------------------------------------------------------ study


def _study_final(path: Path, value: object) -> bool:
    return path.parent.name == "runs" and isinstance(value, dict) \
        and value.get("status") in ("ok", "failed")


def test_study_survives_sigkill_and_resumes_without_rerunning(tmp_path) -> None:
    rng = random.Random(7)
    base_cfg = tmp_path / "base.toml"
    base_cfg.write_text('hidden = [16]\nactivation = "relu"\noptimizer = "sgd"\n'
                        'learning_rate = 0.01\nbatch_size = 256\nepochs = 1\n')
    out = tmp_path / "s"
    base = [sys.executable, "-m", "hpsearch", "study", "optimizer", "--values", "sgd,adam",
            "--base", str(base_cfg), "--repeats", "3", "--epochs", "1", "--out", str(out),
            "--dataset", "fashion-mnist-sample", "-q"]
    observer = Observer(out, _study_final)
    moments = [
        _became("runs/", lambda r: True),  # right after the first run was saved
        _changed("results.csv"),  # right after the tables were rebuilt
        _after(rng.uniform(0.1, 1.0), _changed("runs/")),  # inside the next run
    ]
    kills = 0
    for trigger in moments:
        command = base + (["--resume"] if (out / "study.json").exists() else [])
        if not _kill_run(command, observer, trigger, tmp_path, tmp_path / "log.txt"):
            break
        kills += 1
    assert kills >= 2
    _kill_run(base + ["--resume"], observer, lambda p, c: False, tmp_path,
              tmp_path / "log.txt")

    runs = sorted(p.name for p in (out / "runs").glob("*.json"))
    assert runs == sorted(f"{v}__seed{s}.json" for v in ("sgd", "adam") for s in range(3))
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["variant"], r["seed"]) for r in rows) == sorted(
        (v, str(s)) for v in ("sgd", "adam") for s in range(3))  # each run exactly once
    for rel, text in observer.frozen.items():
        assert (out / rel).read_text(encoding="utf-8") == text, f"{rel} was re-run"
    assert (out / "summary.csv").is_file() and (out / "verdict.json").is_file()
