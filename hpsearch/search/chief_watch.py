"""A worker never outlives its chief, and never writes a file after its chief is gone.

Keras Tuner's worker waits up to an hour in each gRPC call for an oracle that may have died (an
OOM kill, `kill -9`), holding memory and threads, and a worker that finishes its trial after the
chief died would write a record that a later `tune --resume` (whose own worker re-runs that
trial) then has to fight. Two guards:

- `die_with_parent`: a worker started by `tune --workers N` dies with the chief. On Linux the
  kernel sends it SIGKILL when the chief exits (`prctl(PR_SET_PDEATHSIG)`), so it cannot write
  anything afterwards; elsewhere a thread watches the parent once a second.
- `ChiefWatch`: any worker (also one started by hand on another machine) checks that the
  chief's oracle still answers, in a thread and before every write. After `timeout` seconds
  without an answer, or when another chief has taken over the project's lock (a resumed
  search), it calls `on_lost` and writes nothing more. Its unfinished trial stays `running` in
  the project, and `tune --resume` runs it again.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hpsearch.fileio import read_json

CHIEF_PID_ENV = "HPSEARCH_CHIEF_PID"  # set by `tune --workers N` for the workers it starts
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PROBE_TIMEOUT_S = 2.0


def die_with_parent(parent_pid: int, poll_s: float = 1.0) -> str:
    """End this process as soon as `parent_pid` (its parent) exits.

    Args:
        parent_pid: the pid of the process that started this one (the chief).
        poll_s: how often the fallback thread looks at the parent.

    Returns:
        "pdeathsig" (Linux: the kernel kills us) or "watch" (a thread polls the parent).

    Example:
        >>> die_with_parent(os.getppid())  # doctest: +SKIP
        'pdeathsig'
    """
    if _parent_gone(parent_pid):
        os._exit(1)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if _parent_gone(parent_pid):  # it died before the kernel knew to tell us
                    os._exit(1)
                return "pdeathsig"
        except (OSError, AttributeError):
            pass  # no prctl in this libc: watch instead

    def watch() -> None:
        while not _parent_gone(parent_pid):
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="hpsearch-parent-watch", daemon=True).start()
    return "watch"


def _parent_gone(parent_pid: int) -> bool:
    if os.name != "nt":
        return os.getppid() != parent_pid  # orphans are re-parented (to init or a subreaper)
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x00100000, False, parent_pid)  # SYNCHRONIZE
    if not handle:
        return True
    try:
        return kernel32.WaitForSingleObject(handle, 0) != 0x102  # WAIT_TIMEOUT: still running
    finally:
        kernel32.CloseHandle(handle)


def exit_on_lost(reason: str) -> None:
    """The default `on_lost`: one `error:` line, then end this process at once. Keras Tuner's
    client may be blocked in a gRPC wait of up to an hour that no exception reaches, so only
    `os._exit` ends it; nothing is half-written (writes are atomic, none starts after this)."""
    print(f"error: {reason}", file=sys.stderr, flush=True)
    os._exit(1)


class ChiefWatch:
    """Is the chief that started this search still there? Asked in a thread and before writes.

    Args:
        host, port: the chief's oracle.
        lock_path: the project's lock file; the chief holds it while it runs, and a resumed
            chief replaces it, which tells a worker of the old chief to stop.
        timeout: seconds without an answer after which the chief counts as gone.
        on_lost: called once with a one-line reason; must not return (the CLI exits).
        interval: seconds between the thread's checks.

    Example:
        >>> watch = ChiefWatch("127.0.0.1", 8000, Path("runs/t1/.hpsearch.lock"), 60,
        ...                    on_lost=lambda reason: os._exit(1))  # doctest: +SKIP
        >>> watch.start(); watch.confirm()  # doctest: +SKIP
    """

    def __init__(self, host: str, port: int, lock_path: Path, timeout: float,
                 on_lost: Callable[[str], Any], interval: float = 2.0) -> None:
        self.host, self.port, self.lock_path = host, port, lock_path
        self.timeout, self.on_lost, self.interval = timeout, on_lost, interval
        self.chief: tuple[Any, ...] | None = None  # the lock owner seen at the first answer
        self.answered = False
        self.silent_since: float | None = None
        self._lost = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._loop, name="hpsearch-chief-watch", daemon=True).start()

    def confirm(self) -> None:
        """Return once the same chief answers; if it is gone, call `on_lost` (never return)."""
        while True:
            problem = self.check()
            if problem is None:
                return
            if problem:
                self._lose(problem)
            time.sleep(min(self.interval, 0.5))

    def check(self) -> str | None:
        """None: the chief answers. "": no answer yet, within the timeout. Else: why it is gone.
        """
        with self._lock:
            if self._lost.is_set():
                return "the chief is gone"
            owner = self._owner()
            if self._reachable():
                if not self.answered:
                    self.answered, self.chief = True, owner
                elif self.chief is not None and owner != self.chief:
                    return (f"the chief this worker served has left {self.lock_path.parent} "
                            f"({_who(owner)}); this worker stops and writes nothing more")
                self.silent_since = None
                return None
            now = time.monotonic()
            self.silent_since = self.silent_since or now
            if now - self.silent_since < self.timeout:
                return ""
            where = f"{self.host}:{self.port}"
            if not self.answered:
                return (f"no oracle answered at {where} for {self.timeout:g} s; start the chief "
                        "(hpsearch tune --workers ...) first, or check --oracle")
            return (f"the chief's oracle at {where} has not answered for {self.timeout:g} s; "
                    "this worker stops and writes nothing more (its unfinished trial stays in "
                    f"{self.lock_path.parent} for hpsearch tune --directory "
                    f"{self.lock_path.parent} --resume)")

    def _loop(self) -> None:
        while not self._lost.is_set():
            problem = self.check()
            if problem:
                self._lose(problem)
            time.sleep(self.interval)

    def _lose(self, reason: str) -> None:
        self._lost.set()
        self.on_lost(reason)
        raise RuntimeError(f"on_lost returned: {reason}")  # it must end the worker

    def _reachable(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=PROBE_TIMEOUT_S):
                return True
        except OSError:
            return False

    def _owner(self) -> tuple[Any, ...] | None:
        owner, problem = read_json(self.lock_path)
        if problem or not isinstance(owner, dict):
            return None
        return owner.get("pid"), owner.get("host"), owner.get("proc_start")


def _who(owner: tuple[Any, ...] | None) -> str:
    return "its lock is gone" if owner is None else f"now held by pid {owner[0]} on {owner[1]}"
