"""SIGTERM is handled like Ctrl-C, and workers never outlive (or write after) their chief.

Real `hpsearch` processes on the shipped sample, stopped with real signals: SLURM, Kubernetes,
systemd and `timeout` send SIGTERM; the OOM killer sends SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
TINY = ["-k", "2", "--epochs", "2", "--no-prune", "--fix", "hidden=16", "--fix",
        "batch_size=256", "--dataset", "fashion-mnist-sample", "-q"]


def _start(args: list[str], cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hpsearch", *args], cwd=cwd, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def _wait_for(condition, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.stderr.read()}")
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _records(project: Path) -> dict[str, dict]:
    out = {}
    for path in (project / "trials").glob("trial_*.json"):
        try:
            out[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return out


def _finished(project: Path) -> dict[str, dict]:
    return {k: v for k, v in _records(project).items() if v["status"] != "running"}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_sigterm_stops_export_with_one_line(tmp_path) -> None:
    out = tmp_path / "export"
    proc = _start(["export", "--preset", "model1", "--set", "epochs=200", "--out", str(out),
                   "--dataset", "fashion-mnist-sample", "-q"], tmp_path)
    _wait_for(out.is_dir, 120, proc)  # created just before the data load and the refit
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert _one_line(err).startswith("interrupted: nothing was exported")
    assert "hpsearch export --preset model1" in err and not any(out.iterdir())


def test_sigterm_stops_a_study_and_its_dashboard_with_one_line(tmp_path) -> None:
    out = tmp_path / "s"
    args = ["study", "batch-size", "--values", "128,256", "--repeats", "3", "--epochs", "2",
            "--dataset", "fashion-mnist-sample", "--out", str(out), "-q"]
    proc = _start(args, tmp_path)
    _wait_for(lambda: len(list((out / "runs").glob("*.json"))) >= 1, 240, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    line = _one_line(err)
    resume = "hpsearch " + " ".join(args) + " --resume"
    assert line == f"interrupted: the finished runs are saved in {out}; continue with {resume}"
    runs = {p.name: p.read_text() for p in (out / "runs").glob("*.json")}
    done = subprocess.run([sys.executable, "-m", "hpsearch", *args, "--resume"], env=ENV,
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert all((out / "runs" / name).read_text() == text for name, text in runs.items())

    proc = _start(["report", str(out), "--serve", "--port", "0"], tmp_path)  # its dashboard
    assert proc.stdout.readline().startswith("serving the dashboard")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and _one_line(err) == "stopped"


def test_workers_die_with_a_killed_chief_and_a_hand_started_worker_stops(tmp_path) -> None:
    """kill -9 of `tune --workers 1`: its worker exits within 10 s (parent-death signal); a
    worker started by hand stops with one line once the oracle is silent for --oracle-timeout,
    and neither writes anything after the chief died; --resume then finishes every trial."""
    from hpsearch.search.distributed import free_port

    project, port = tmp_path / "p", free_port("127.0.0.1")
    chief = _start(["tune", "-o", str(project), "--tuner", "random", "--max-trials", "12",
                    "--workers", "1", "--port", str(port), *TINY, "--epochs", "4"], tmp_path)
    _wait_for(lambda: (project / "project.json").is_file(), 120, chief)
    hand = _start(["worker", "--oracle", f"127.0.0.1:{port}", "--directory", str(project),
                   "--id", "by-hand", "--oracle-timeout", "4"], tmp_path)

    def hand_is_running() -> bool:
        return any(r["worker"] == "by-hand" and r["status"] == "running"
                   for r in _records(project).values())

    _wait_for(hand_is_running, 240, chief)
    workers = [pid for pid in _children(chief.pid) if pid != hand.pid]
    assert workers, "the chief started no worker"
    chief.kill()
    chief.wait()
    killed = time.monotonic()
    before = {p.name: p.read_bytes() for p in (project / "trials").glob("*.json")}
    _wait_for(lambda: not any(_alive(pid) for pid in workers), 10)
    assert time.monotonic() - killed < 10
    _, err = hand.communicate(timeout=60)
    assert hand.returncode == 1
    line = _one_line(err)
    assert line.startswith("error: the chief's oracle at 127.0.0.1:") and "--resume" in line
    after = {p.name: p.read_bytes() for p in (project / "trials").glob("*.json")}
    assert after == before  # nothing written after the chief died
    running = [k for k, v in _records(project).items() if v["status"] == "running"]
    assert running  # the hand-started worker's trial, left for --resume
    done = subprocess.run([sys.executable, "-m", "hpsearch", "tune", "-o", str(project),
                           "--resume", "-q"], env=ENV, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    final = _records(project)
    assert len(final) == 12 and all(v["status"] != "running" for v in final.values())


def test_a_worker_with_no_oracle_stops_after_the_timeout_and_sigterm_names_the_rejoin(
        tmp_path) -> None:
    from hpsearch.search.distributed import free_port

    project = tmp_path / "p"
    made = subprocess.run([sys.executable, "-m", "hpsearch", "tune", "-o", str(project),
                           "--tuner", "random", "--max-trials", "1", *TINY], env=ENV,
                          capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    address = f"127.0.0.1:{free_port('127.0.0.1')}"  # nobody listens there
    start = time.monotonic()
    proc = _start(["worker", "--oracle", address, "--directory", str(project),
                   "--oracle-timeout", "3"], tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and time.monotonic() - start < 60
    assert _one_line(err).startswith(f"error: no oracle answered at {address} for 3 s")

    with socket.create_server(("127.0.0.1", 0)) as fake:  # answers the worker's checks
        address = f"127.0.0.1:{fake.getsockname()[1]}"
        proc = _start(["worker", "--oracle", address, "--directory", str(project), "--id",
                       "w7"], tmp_path)
        fake.settimeout(120)
        fake.accept()[0].close()  # the worker is in run_worker, checking on its chief
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    line = _one_line(err)
    assert line.startswith("interrupted: worker w7 stopped") and line.endswith(
        f"rejoin with hpsearch worker --oracle {address} --directory {project} --id w7")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found

