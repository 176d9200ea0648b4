"""Dead worker: SIGKILL one worker of a `tune --workers 2` search mid-trial. The chief re-queues
its trial and starts a replacement, so the search finishes with every trial recorded once.
The same run checks that the chief's oracle listens on 127.0.0.1 only.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}


def _children(pid: int) -> dict[int, str]:
    """pid -> command line of the direct children of `pid` (Linux /proc)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out[int(entry.name)] = cmdline
    return out


def _listening_addresses(pid: int) -> set[str]:
    """Local addresses of the TCP sockets `pid` listens on (hex from /proc/net/tcp*)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.add(fields[1].rsplit(":", 1)[0])
    return found


# 127.0.0.1, ::ffff:127.0.0.1 (gRPC's dual-stack socket) and ::1, as /proc/net/tcp* spells them
LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def test_killed_worker_trial_is_requeued_and_the_search_finishes(tmp_path) -> None:
    project, trials = tmp_path / "p", 4
    command = [sys.executable, "-m", "hpsearch", "tune", "-o", str(project), "--workers", "2",
               "--tuner", "random", "--max-trials", str(trials), "-k", "2", "--epochs", "1",
               "--no-prune", "--fix", "hidden=16", "--fix", "batch_size=256",
               "--dataset", "fashion-mnist-sample", "-q"]
    log = tmp_path / "log.txt"
    with open(log, "wb") as out:
        chief = subprocess.Popen(command, env=ENV, stdout=out, stderr=out, cwd=tmp_path)
    killed: dict[str, str] = {}
    listening: set[str] = set()
    deadline = time.monotonic() + 400
    try:
        while chief.poll() is None and not killed:
            assert time.monotonic() < deadline, "search hung"
            if not listening:
                listening = _listening_addresses(chief.pid)
            running = {}
            for path in (project / "trials").glob("trial_*.json"):
                try:
                    record = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                if record["status"] == "running":
                    running[record["worker"]] = record["trial_id"]
            for pid, cmdline in _children(chief.pid).items():
                worker_id = cmdline.split("--id ", 1)[-1].split()[0] if "--id" in cmdline else ""
                if worker_id in running:
                    os.kill(pid, signal.SIGKILL)  # mid-trial
                    killed = {"worker": worker_id, "trial": running[worker_id]}
                    break
            time.sleep(0.05)
        chief.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if chief.poll() is None:
            chief.kill()
            chief.wait()
    assert killed, "no worker was ever seen running a trial"
    assert chief.returncode == 0, log.read_text()[-3000:]
    assert listening and listening <= LOOPBACK, listening  # the oracle is on loopback only

    with open(project / "results.csv", newline="") as handle:
        rows = {r["trial_id"]: r for r in csv.DictReader(handle)}
    assert sorted(rows, key=int) == [str(i) for i in range(trials)]  # every trial, once
    assert all(r["status"] == "ok" for r in rows.values()), rows
    redone = rows[killed["trial"]]
    assert redone["n_folds_done"] == "2" and redone["worker"] != killed["worker"]
