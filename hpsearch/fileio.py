"""Atomic file writes and untrusted reads.

Writes: results are replaced whole or not at all, so a kill never leaves half a file behind,
and a full or read-only disk is one `StorageError` naming the file (the old file intact).
Reads: every file is untrusted; `read_json` says what is wrong with one instead of raising.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.errors import StorageError

FULL_OR_READ_ONLY = {errno.ENOSPC: "no space left on device",
                     errno.EDQUOT: "disk quota exceeded",
                     errno.EROFS: "read-only file system"}


def storage_error(path: str | Path, exc: OSError) -> StorageError:
    """One line for a full or read-only disk. When Keras Tuner is loaded the error is also its
    `FatalError`, so its search loop stops instead of recording the trial as failed and going
    on to fail every later trial the same way."""
    what = FULL_OR_READ_ONLY.get(exc.errno or 0, exc.strerror or str(exc))
    message = (f"{what} while writing {path}; free space (or make it writable) and rerun "
               "with --resume: everything finished before is saved")
    kt = sys.modules.get("keras_tuner")  # only when it is loaded: never import it here
    fatal = getattr(getattr(kt, "errors", None), "FatalError", None)
    if fatal is None:
        return StorageError(message)
    return type("FatalStorageError", (StorageError, fatal), {})(message)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write via a temporary file in the same directory, fsync, then rename over the target.

    A full or read-only disk raises `StorageError` naming `path`; the old file is untouched
    and the temporary file is removed.
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                         prefix=f".{path.name}.", encoding="utf-8") as handle:
            tmp = Path(handle.name)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # also Ctrl-C / SIGTERM: no scratch file is left behind
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in FULL_OR_READ_ONLY:
            raise storage_error(path, exc) from exc
        raise


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str))


# ---------------------------------------------------------------- untrusted reads
@dataclass
class Damage:
    """A file that could not be used, and what another file still says it held.

    `line()` is the one line the user sees: the file, the problem and (where known) the copy.
    """

    path: Path
    problem: str  # "missing", "empty", "not valid JSON (...)", "holds a list, not ..."
    held: str = ""  # e.g. "results.csv lists trial 1 as ok, mean val accuracy 0.7612 (rank 1)"
    key: str | None = None  # which trial / run it is, where the file is one of many
    row: dict[str, Any] | None = None  # the other copy's row, when one exists

    def line(self) -> str:
        return f"{self.path}: {self.problem}" + (f"; {self.held}" if self.held else "")


def read_json(path: str | Path) -> tuple[Any, str]:
    """Parse a JSON file that may be missing, empty, truncated or not JSON at all.

    Args:
        path: the file.

    Returns:
        (data, "") when it parses, else (None, the problem in a few words).

    Example:
        >>> read_json("nowhere.json")
        (None, 'missing')
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    if not raw.strip():
        return None, "empty"
    try:
        return json.loads(raw.decode("utf-8")), ""
    except UnicodeDecodeError:
        return None, "not UTF-8 text (binary or damaged)"
    except json.JSONDecodeError as exc:
        ends = exc.pos >= len(raw.decode("utf-8", "replace").rstrip())
        return None, (f"truncated (the JSON stops at character {exc.pos})" if ends else
                      f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")


def kind_of(value: Any) -> str:
    """'a list', 'a number', ... for messages about JSON of the wrong shape."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
