"""`tune --workers N` and `hpsearch worker`: Keras Tuner's own chief/worker gRPC engine.

The `tune` process is the chief: it holds the oracle and serves it (on 127.0.0.1 unless told
otherwise); N `hpsearch worker` subprocesses each run trials with 1/N of the CPU threads. The
chief watches its workers: when one dies, its running trial goes back into the oracle's queue
and a replacement starts, so the search still finishes. Workers on other machines join with
`hpsearch worker --oracle HOST:PORT --directory DIR` (DIR on a shared file system).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hpsearch.errors import ConfigError, HpsearchError
from hpsearch.locks import LOCK_FILE
from hpsearch.search.chief_watch import CHIEF_PID_ENV, ChiefWatch, die_with_parent, exit_on_lost
from hpsearch.search.project import Project

ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
MAX_RESTARTS_PER_WORKER = 2


@contextlib.contextmanager
def kt_env(tuner_id: str, host: str, port: int) -> Iterator[None]:
    """Keras Tuner reads its role from the environment; set it only for this block."""
    saved = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update({"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": host,
                       "KERASTUNER_ORACLE_PORT": str(port)})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def stray_prints_muted() -> Iterator[None]:
    """Keras Tuner 1.4.8 prints a conditional knob's first value on every gRPC message (a
    left-over `print` in `Parent.to_proto`, keras_tuner/src/engine/conditions.py), dozens of
    stray lines per trial. Chief and workers print nothing else on stdout while the search runs
    (the progress bar is on stderr), so stdout goes nowhere meanwhile."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--oracle {address!r}: write HOST:PORT, e.g. 127.0.0.1:8000")
    return host, int(port)


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // workers)


def _spawn(worker_id: str, host: str, port: int, directory: Path, threads: int) -> Any:
    env = os.environ | {"TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
                        "OMP_NUM_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "3",
                        CHIEF_PID_ENV: str(os.getpid())}  # it dies with this process
    command = [sys.executable, "-m", "hpsearch", "worker", "--oracle", f"{host}:{port}",
               "--directory", str(directory), "--id", worker_id, "--threads", str(threads)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def exposure_warning(bind: str) -> str | None:
    """The warning for an oracle bound beyond this machine, or None on loopback.

    Why: Keras Tuner's oracle speaks plain gRPC with no authentication, so anyone who can reach
    the address can ask for trials and report scores into the project, as with the web pages.

    Example:
        >>> exposure_warning("127.0.0.1") is None, exposure_warning("0.0.0.0")[:28]
        (True, 'warning: the oracle listens')
    """
    if bind in LOOPBACK_HOSTS:
        return None
    return (f"warning: the oracle listens on {bind} without authentication: anyone who can "
            "reach this address can take trials and report scores into the project")


def run_distributed(space: Any, settings: Any, project: Project, workers: int, bind: str,
                    port: int, quiet: bool) -> None:
    """Serve the oracle here, run `workers` worker processes, re-queue a dead worker's trial."""
    from hpsearch.search.tuner import build_tuner

    if (warning := exposure_warning(bind)) is not None:
        print(warning, file=sys.stderr, flush=True)

    port = port or free_port(bind)
    connect = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    with kt_env("chief", bind, port):  # for the whole run: KT reads it from the server thread
        try:
            with stray_prints_muted():
                _serve_and_watch(build_tuner(space, settings, project), settings, project,
                                 workers, connect, port, quiet)
        finally:  # the workers are stopped by now: one table of everything they finished
            project.write_results(settings.folds)


def _serve_and_watch(tuner: Any, settings: Any, project: Project, workers: int, connect: str,
                     port: int, quiet: bool) -> None:
    from hpsearch.progress import tracker

    failure: list[BaseException] = []

    def serve() -> None:
        try:
            tuner.search(verbose=0)  # the chief only serves the oracle (quietly: no KT
            # trial tables on stdout) until all trials are done
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    chief = threading.Thread(target=serve, name="hpsearch-oracle", daemon=True)
    chief.start()
    threads = threads_per_worker(workers)
    procs = {f"worker{i}": _spawn(f"worker{i}", connect, port, project.dir, threads)
             for i in range(workers)}
    restarts = 0
    total = settings.max_trials * settings.folds
    try:
        with tracker(total, f"tuning with {workers} workers", quiet) as bar:
            shown = 0
            while chief.is_alive():
                chief.join(timeout=1.0)
                for worker_id, proc in list(procs.items()):
                    if proc.poll() is None or proc.returncode == 0:
                        continue
                    tuner.oracle.requeue_tuner(worker_id)  # its trial runs again elsewhere
                    del procs[worker_id]
                    if restarts < MAX_RESTARTS_PER_WORKER * workers:
                        restarts += 1
                        new_id = f"{worker_id.split('-')[0]}-r{restarts}"
                        procs[new_id] = _spawn(new_id, connect, port, project.dir, threads)
                if chief.is_alive() and not any(p.poll() is None for p in procs.values()) \
                        and (not procs or any(p.returncode != 0 for p in procs.values())):
                    errors = "; ".join(_last_line(p) for p in procs.values())
                    raise HpsearchError(f"all workers stopped before the search ended "
                                        f"({errors or 'no workers left'}); finished trials "
                                        "are saved, continue with --resume")
                done = _folds_done(project, settings.folds)
                if done > shown:
                    bar.advance(done - shown, f"tuning with {workers} workers, best "
                                              f"{_best(project)}")
                    shown = done
                if procs and all(p.poll() == 0 for p in procs.values()):
                    # A worker exits 0 only once the oracle told it the search is over, and
                    # every trial result is saved by then. Keras Tuner's chief notices only in
                    # its next 20-second poll; don't wait for it (its thread is a daemon).
                    break
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
    if failure:
        raise failure[0]


def _last_line(proc: Any) -> str:
    text = (proc.stderr.read() if proc.stderr else "") or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {proc.returncode}"


def _folds_done(project: Project, folds: int) -> int:
    return sum(folds if r.final else len(r.folds) for r in project.records())


def _best(project: Project) -> str:
    scores = [r.mean for r in project.records() if r.status == "ok"]
    return f"{max(scores):.4f}" if scores else "-"


def run_worker(oracle: str, directory: Path, worker_id: str | None, threads: int,
               oracle_timeout: float = 60.0,
               on_lost: Callable[[str], Any] | None = None) -> None:
    """Join the chief at `oracle` and run trials until it says stop.

    A worker started by `tune --workers N` dies with that process; any worker stops (calling
    `on_lost` with the reason) once the oracle has not answered for `oracle_timeout` seconds
    or another chief took over the project, and writes nothing into it after that.

    Args:
        oracle: the chief's HOST:PORT.
        directory: the chief's project directory (shared file system).
        worker_id: a unique name (default: worker-HOST-PID).
        threads: CPU threads for TensorFlow (0 = all).
        oracle_timeout: seconds without an answer from the chief before stopping.
        on_lost: called with a one-line reason; must end the process (default: print it to
            stderr and exit 1).

    Example:
        >>> run_worker("127.0.0.1:8000", Path("runs/t1"), None, 2)  # doctest: +SKIP
    """
    from hpsearch.data import load_dataset
    from hpsearch.search.project import spec_of
    from hpsearch.search.space import Space
    from hpsearch.search.tuner import build_tuner, run_search

    host, port = parse_address(oracle)
    if os.environ.get(CHIEF_PID_ENV, "").isdigit():
        die_with_parent(int(os.environ[CHIEF_PID_ENV]))
    project = Project(directory)
    meta = project.read_meta()
    space = Space.from_dict(meta["space"])
    settings = spec_of(meta)
    watch = ChiefWatch(host, port, project.dir / LOCK_FILE, oracle_timeout,
                       on_lost or exit_on_lost)
    watch.start()
    project.before_write = watch.confirm
    if threads > 0:
        from hpsearch.training import import_tensorflow_quietly

        import_tensorflow_quietly()  # TensorFlow with our settings
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    data = load_dataset(settings.dataset, settings.data_dir, **dict(settings.data_options or {}))
    worker_id = worker_id or f"worker-{socket.gethostname()}-{os.getpid()}"
    with kt_env(worker_id, host, port), stray_prints_muted():
        tuner = build_tuner(space, settings, project)
        run_search(tuner, data)
