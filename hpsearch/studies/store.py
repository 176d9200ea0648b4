"""A study directory on disk: one JSON per finished run, plus tables rebuilt from them.

Each run is written atomically the moment it ends (`runs/<variant>__seed<seed>.json`), and
`results.csv` / `curves.csv` are regenerated from those files, so a killed study loses at most
the run in progress and `--resume` knows exactly what is finished. The column lists below are a
stable format read by other tools: change them only by appending.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.errors import DamagedFile, ProjectError
from hpsearch.fileio import atomic_write_json, atomic_write_text, kind_of, read_json
from hpsearch.locks import LOCK_FILE

FORMAT_VERSION = 1
STUDY_FILE = "study.json"
RUNS_DIR = "runs"
RESULTS_FILE = "results.csv"
CURVES_FILE = "curves.csv"
RESULT_COLUMNS = (
    "study", "variant", "value", "is_base", "seed", "fold", "status",
    "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss", "test_accuracy",
    "epochs_run", "best_epoch", "fit_time_s", "steady_time_s", "n_train", "n_val", "error",
)
CURVE_COLUMNS = ("study", "variant", "seed", "fold", "epoch", "loss", "accuracy", "val_loss",
                 "val_accuracy", "epoch_time_s")
# Everything `--resume` insists is unchanged; seeds may grow (more --repeats).
RESUME_KEYS = ("study", "field", "base_config", "variants", "protocol", "dataset")
OUTPUT_NAMES = (STUDY_FILE, RUNS_DIR, RESULTS_FILE, CURVES_FILE, "summary.csv", "summary.md",
                "verdict.json", "accuracy.png", "loss.png", "time.png", "curves.png", "export",
                "report.md", "timing.csv")


def run_path(out: Path, variant: str, seed: int) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", variant)
    return out / RUNS_DIR / f"{slug}__seed{seed}.json"


def save_run(out: Path, record: dict[str, Any]) -> None:
    atomic_write_json(run_path(out, record["variant"], record["seed"]), record)


def load_run(out: Path, variant: str, seed: int) -> dict[str, Any] | None:
    """A finished run, or None if it never ran. A damaged run file is refused (DamagedFile),
    naming what results.csv still says about it: re-running it silently would drop its
    rows from the tables and could change the verdict."""
    path = run_path(out, variant, seed)
    record, problem = read_json(path)
    if problem == "missing":
        return None
    if not problem and not (isinstance(record, dict) and record.get("variant") == variant
                            and record.get("seed") == seed
                            and isinstance(record.get("folds"), list)):
        problem = f"holds {kind_of(record)} that is not this run's record (wrong shape)"
    if problem:
        rows = _rows_for(out, variant, seed)
        held = (f"; {RESULTS_FILE} still lists it ({len(rows)} fold row(s), status "
                f"{rows[0].get('status')})" if rows else "")
        raise DamagedFile(f"{path}: {problem}{held}; restore it from a backup, or delete it "
                          "to run it again with --resume", path)
    return record if record.get("status") in ("ok", "failed") else None


def _rows_for(out: Path, variant: str, seed: int) -> list[dict[str, str]]:
    try:
        return [r for r in read_csv(out / RESULTS_FILE)
                if r.get("variant") == variant and r.get("seed") == str(seed)]
    except (OSError, ValueError, csv.Error):
        return []


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def to_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def result_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per fold of a run (a train/test run has one fold, numbered 0)."""
    common = {k: record.get(k) for k in ("study", "variant", "value", "is_base", "seed",
                                         "status", "error", "test_loss", "test_accuracy")}
    if not record.get("folds"):
        return [common | {"fold": 0}]
    return [common | {k: v for k, v in fold.items() if k != "history"}
            for fold in record["folds"]]


def curve_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for fold in record.get("folds", []):
        history, times = fold.get("history", {}), fold.get("epoch_times", [])
        for i in range(len(history.get("loss", []))):
            row = {"study": record["study"], "variant": record["variant"],
                   "seed": record["seed"], "fold": fold["fold"], "epoch": i + 1,
                   "epoch_time_s": times[i] if i < len(times) else None}
            rows.append(row | {k: values[i] for k, values in history.items() if i < len(values)})
    return rows


def write_tables(out: Path, records: list[dict[str, Any]]) -> None:
    """Rebuild results.csv and curves.csv from the finished runs (atomic, whole files)."""
    atomic_write_text(out / RESULTS_FILE,
                      to_csv(RESULT_COLUMNS, [r for rec in records for r in result_rows(rec)]))
    atomic_write_text(out / CURVES_FILE,
                      to_csv(CURVE_COLUMNS, [r for rec in records for r in curve_rows(rec)]))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_study(out: Path) -> dict[str, Any]:
    """study.json, validated: a damaged one is named (the runs/ beside it are intact)."""
    meta, problem = read_json(out / STUDY_FILE)
    if not problem and not (isinstance(meta, dict) and isinstance(meta.get("study"), str)
                            and isinstance(meta.get("variants", meta.get("studies")), list)):
        problem = f"holds {kind_of(meta)} that is not a study's settings (wrong shape)"
    if problem:
        raise DamagedFile(f"{out / STUDY_FILE}: {problem}; restore it from a backup, or pass "
                          "--overwrite to start the study again", out / STUDY_FILE)
    return meta


def _clear(out: Path) -> None:
    """Remove only what a study writes, never a user's other files."""
    for name in OUTPUT_NAMES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    for sub in out.iterdir():  # the per-study directories of `study all`
        if sub.is_dir() and (sub / STUDY_FILE).is_file():
            shutil.rmtree(sub)


@dataclass
class DirCheck:
    """What `check_dir` found, passed on as a value so that a command reads study.json once:
    the stored settings when resuming (else None), and the settings `prepare_dir` wrote."""

    stored: dict[str, Any] | None = None
    written: dict[str, Any] | None = None


def check_dir(out: Path, meta: dict[str, Any], resume: bool, overwrite: bool) -> DirCheck:
    """Never silently reuse a directory: resume a matching study, overwrite, or refuse."""
    if resume and overwrite:
        raise ProjectError("pass either --resume or --overwrite, not both")
    if (out / STUDY_FILE).is_file():
        if resume and not overwrite:
            stored = read_study(out)
            _check_same(out, stored, meta)
            return DirCheck(stored)
        if not overwrite:
            raise ProjectError(f"{out} already holds a study; pass --resume to continue it or "
                               "--overwrite to start again")
    elif out.is_file() or (out.is_dir() and any(p.name != LOCK_FILE for p in out.iterdir())
                           and not overwrite):
        raise ProjectError(f"{out} exists and is not an empty directory; choose a new --out "
                           "(or pass --overwrite to write the study beside its files)")
    return DirCheck()


def prepare_dir(out: Path, meta: dict[str, Any], resume: bool, overwrite: bool,
                checked: DirCheck | None = None) -> DirCheck:
    """`check_dir` (unless `checked` is its result for this call), then clear (on
    --overwrite) and (re)write study.json; the returned check holds what was written."""
    checked = checked or check_dir(out, meta, resume, overwrite)
    if (out / STUDY_FILE).is_file():
        if overwrite:
            _clear(out)
        elif checked.stored is None:  # written by another process since the check
            raise ProjectError(f"{out} already holds a study; pass --resume to continue it or "
                               "--overwrite to start again")
        else:  # resuming: keep when the study was first started
            meta = meta | {"created": checked.stored.get("created", meta.get("created"))}
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"cannot create {out} ({exc.strerror or exc}); choose a writable "
                           "--out") from exc
    checked.written = write_study(out, meta)
    return checked


def write_study(out: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write study.json; return what was written."""
    written = {"format": FORMAT_VERSION} | meta
    atomic_write_json(out / STUDY_FILE, written)
    return written


def _check_same(out: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    changed = [k for k in RESUME_KEYS if json.loads(json.dumps(old.get(k), default=str))
               != json.loads(json.dumps(new.get(k), default=str))]
    if changed:
        raise ProjectError(f"{out} holds a study with different {', '.join(changed)}; --resume "
                           "needs the same settings (only --repeats may grow); use another "
                           "--out or --overwrite")
