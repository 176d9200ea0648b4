"""One live process per project or study directory: a lock file with pid, host and command.

Two `hpsearch tune --resume` (or `study --resume`) on one directory would both run the same
pending trials and overwrite each other's records. The first takes `DIR/.hpsearch.lock`
(created with O_EXCL, so exactly one wins); a second is refused with a line naming the owner.
A lock whose process is gone (same host, pid dead or a zombie, or a pid reused by a process
that started later) is stale and taken over. Workers (`hpsearch worker`) do not lock: they join
the chief's search through its oracle, which hands each trial to one worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hpsearch.errors import ProjectError, ProjectLocked
from hpsearch.fileio import read_json

LOCK_FILE = ".hpsearch.lock"


def _start_time(pid: int) -> float | None:
    """When `pid` started (seconds since boot, from /proc), to tell a reused pid apart."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":  # a zombie: dead, waiting to be reaped
        return -1.0
    return int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _alive(owner: dict[str, Any]) -> bool:
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    started = _start_time(pid)
    if started is not None and started < 0:
        return False
    recorded = owner.get("proc_start")
    return started is None or recorded is None or abs(started - recorded) < 1.0


def _describe(owner: dict[str, Any]) -> str:
    return (f"pid {owner.get('pid')} on {owner.get('host')} ({owner.get('command', '?')}, "
            f"since {owner.get('since', '?')})")


_HELD: set[Path] = set()  # locks this process holds right now


@contextmanager
def project_lock(directory: str | Path, what: str = "project") -> Iterator[list[str]]:
    """Hold `directory`'s lock for the duration of the block.

    Args:
        directory: the tune project or study directory (created if missing).
        what: "project" (tune, `--directory`) or "study" (`--out`), for messages.

    Yields:
        Notes for the user (e.g. that a stale lock was taken over).

    Raises:
        ProjectLocked: a live process (or one on another host, which cannot be checked)
            holds the lock.

    Example:
        >>> with project_lock("tune-project") as notes:  # doctest: +SKIP
        ...     run_the_search()
    """
    path = Path(directory) / LOCK_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        flag = "--out" if what == "study" else "--directory"
        raise ProjectError(f"cannot create {directory} ({exc.strerror or exc}); choose a "
                           f"writable {flag}") from exc
    pid = os.getpid()
    me = {"pid": pid, "host": socket.gethostname(), "proc_start": _start_time(pid),
          "command": " ".join(["hpsearch", *sys.argv[1:3]]) if sys.argv else "hpsearch",
          "since": time.strftime("%Y-%m-%dT%H:%M:%S")}
    notes: list[str] = []
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner, problem = read_json(path)
            owner = owner if isinstance(owner, dict) else {}
            if not problem and owner.get("host") != me["host"]:
                raise ProjectLocked(f"{directory} is in use by {_describe(owner)}; another "
                                    f"host cannot be checked: if that process is gone, "
                                    f"delete {path}") from None
            mine = owner.get("pid") == pid and path.resolve() not in _HELD  # left behind by
            # an earlier block of this very process (e.g. a disk that turned read-only)
            if not problem and not mine and _alive(owner):
                raise ProjectLocked(f"{directory} is in use by {_describe(owner)}; wait for "
                                    f"it to finish (or stop it), or join a search as "
                                    f"`hpsearch worker`") from None
            notes.append(f"took over the stale lock of {_describe(owner)}" if owner
                         else f"replaced an unreadable lock file {path}")
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump(me, handle)
        _HELD.add(path.resolve())
        break
    else:
        raise ProjectLocked(f"{path}: could not take the lock; another process keeps taking it")
    try:
        yield notes
    finally:
        _HELD.discard(path.resolve())
        owner, _ = read_json(path)
        if isinstance(owner, dict) and owner.get("pid") == pid:
            # On a disk that became read-only the lock stays behind; the next run sees a
            # dead pid and takes it over, so the error that stopped us stays the one shown.
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
