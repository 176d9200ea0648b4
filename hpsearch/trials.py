"""The tune project directory: its identity, one record per trial, and the results table.

Every trial writes its own `trials/trial_<id>.json` (atomically, after each fold), and
`results.csv`/`results.json` are rebuilt from those records. The table is therefore a pure
function of files on disk: a killed run, a resumed run and several workers all agree on it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.errors import ProjectError
from hpsearch.fileio import atomic_write_json, atomic_write_text

PROJECT_FILE = "project.json"
PROJECT_KIND = "hpsearch-tune"
TRIALS_DIR = "trials"
KT_DIR = "kt"  # Keras Tuner's own oracle/trial state lives under DIR/kt
RESULTS_CSV, RESULTS_JSON = "results.csv", "results.json"
STATUSES = ("ok", "pruned", "failed", "running")
# Settings that must match to resume: anything that changes what a score means.
IDENTITY_KEYS = ("fingerprint", "tuner", "folds", "dataset", "seed", "prune")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class TrialRecord:
    """What one trial did so far; rewritten after every fold so a kill loses at most a fold."""

    trial_id: str
    params: dict[str, Any]
    config: dict[str, Any]
    status: str = "running"
    reason: str = ""
    folds: list[dict[str, Any]] = field(default_factory=list)
    started: str = field(default_factory=now)
    finished: str = ""
    wall_time: float = 0.0
    worker: str = ""
    epochs_budget: int = 0

    def scores(self, key: str = "val_accuracy") -> list[float]:
        return [f[key] for f in self.folds if f.get(key) is not None]

    @property
    def mean(self) -> float:
        values = self.scores()
        return float(np.mean(values)) if values else math.nan

    @property
    def final(self) -> bool:
        return self.status in ("ok", "pruned", "failed")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRecord:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def fold_summary(fold: Any) -> dict[str, Any]:
    """The per-fold numbers kept in a record, with the per-epoch history (a few hundred floats)
    so reports can draw learning curves."""
    return {"fold": fold.fold, "val_accuracy": fold.val_accuracy, "val_loss": fold.val_loss,
            "train_accuracy": fold.train_accuracy, "train_loss": fold.train_loss,
            "best_epoch": fold.best_epoch, "epochs_run": fold.epochs_run,
            "fit_time": fold.fit_time, "init_digest": fold.init_digest,
            "history": fold.history}


class Project:
    """A tune project directory: created, resumed or overwritten only when asked to."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    # ------------------------------------------------------------ identity
    @property
    def meta_path(self) -> Path:
        return self.dir / PROJECT_FILE

    @property
    def trials_dir(self) -> Path:
        return self.dir / TRIALS_DIR

    def read_meta(self) -> dict[str, Any]:
        if not self.dir.is_dir():
            raise ProjectError(f"{self.dir} does not exist; pass the --directory of a "
                               "`hpsearch tune` run")
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise ProjectError(f"{self.dir} is not an hpsearch tune project (no readable "
                               f"{PROJECT_FILE}); pass the --directory of a `hpsearch tune` "
                               "run") from None
        if not isinstance(meta, dict) or meta.get("kind") != PROJECT_KIND:
            raise ProjectError(f"{self.dir} is not an hpsearch tune project ({PROJECT_FILE} "
                               "was not written by `hpsearch tune`)")
        return meta

    def check(self, meta: dict[str, Any], resume: bool, overwrite: bool) -> dict[str, Any] | None:
        """Refuse what `open` would refuse, writing nothing. Returns the old metadata."""
        if resume and overwrite:
            raise ProjectError("pass either --resume or --overwrite, not both")
        exists = self.dir.exists() and any(self.dir.iterdir())
        if not exists:
            if resume:
                raise ProjectError(f"nothing to resume: {self.dir} does not hold a tune project;"
                                   " drop --resume to start a new search")
            if self.dir.exists() and not self.dir.is_dir():
                raise ProjectError(f"{self.dir} is a file; choose a directory for --directory")
            return None
        old = self.read_meta()  # refuses a non-empty directory that is not ours
        if overwrite:
            return old
        if not resume:
            raise ProjectError(f"{self.dir} already holds a tune project; pass --resume to "
                               "continue it or --overwrite to start again")
        changed = [k for k in IDENTITY_KEYS if old.get(k) != meta.get(k)]
        if changed:
            what = ", ".join(f"{k} {old.get(k)!r} -> {meta.get(k)!r}" for k in changed)
            raise ProjectError(f"cannot resume {self.dir}: it was started with a different "
                               f"search ({what}); use another --directory or --overwrite")
        return old

    def open(self, meta: dict[str, Any], resume: bool, overwrite: bool) -> dict[str, Any]:
        """Create, resume or overwrite; never silently reuse. Returns the metadata in force."""
        old = self.check(meta, resume, overwrite)
        if old is None:
            return self._create(meta)
        if overwrite:
            self.clear()
            return self._create(meta)
        merged = old | {"max_trials": meta["max_trials"], "resumed": now()}
        atomic_write_json(self.meta_path, merged)
        return merged

    def _create(self, meta: dict[str, Any]) -> dict[str, Any]:
        try:
            self.trials_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create {self.dir} ({exc.strerror or exc}); choose a "
                               "writable --directory") from exc
        meta = {"kind": PROJECT_KIND, "version": 1, "created": now()} | meta
        atomic_write_json(self.meta_path, meta)
        return meta

    def clear(self) -> None:
        """Remove only what a tune run writes (never other files a user put there)."""
        for name in (TRIALS_DIR, KT_DIR):
            shutil.rmtree(self.dir / name, ignore_errors=True)
        for name in (RESULTS_CSV, RESULTS_JSON, PROJECT_FILE):
            (self.dir / name).unlink(missing_ok=True)

    # ------------------------------------------------------------ trial records
    def record_path(self, trial_id: str) -> Path:
        return self.trials_dir / f"trial_{trial_id}.json"

    def write_record(self, record: TrialRecord) -> None:
        atomic_write_json(self.record_path(record.trial_id), asdict(record))

    def read_record(self, trial_id: str) -> TrialRecord | None:
        path = self.record_path(trial_id)
        try:
            return TrialRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError, TypeError):
            return None

    def records(self) -> list[TrialRecord]:
        out = []
        for path in self.trials_dir.glob("trial_*.json"):
            record = self.read_record(path.stem.removeprefix("trial_"))
            if record is not None:
                out.append(record)
        return sorted(out, key=lambda r: (int(r.trial_id) if r.trial_id.isdigit() else 0,
                                          r.trial_id))

    # ------------------------------------------------------------ results table
    def write_results(self, folds: int, meta: dict[str, Any] | None = None) -> list[dict]:
        rows = results_rows(self.records(), folds)
        payload = {"project": meta or {}, "metric": "val_accuracy", "folds": folds,
                   "trials": rows}
        atomic_write_json(self.dir / RESULTS_JSON, payload)
        atomic_write_text(self.dir / RESULTS_CSV, rows_to_csv(rows, folds))
        return rows

    def best(self, folds: int) -> dict[str, Any]:
        rows = [r for r in results_rows(self.records(), folds) if r["rank_val_accuracy"] == 1]
        if not rows or rows[0]["status"] != "ok":
            raise ProjectError(f"{self.dir} has no completed trial yet; run or resume "
                               "`hpsearch tune` first")
        return rows[0]


def _nan_to_none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return float(np.mean(values)), float(np.std(values))  # ddof=0, as scikit-learn


def results_rows(records: list[TrialRecord], folds: int) -> list[dict[str, Any]]:
    """One row per trial, scikit-learn `cv_results_` style. Ranked: ok first, then pruned."""
    rows = []
    for rec in records:
        row: dict[str, Any] = {"trial_id": rec.trial_id, "status": rec.status,
                               "reason": rec.reason, "rank_val_accuracy": None}
        for key in ("val_accuracy", "val_loss"):
            mean, std = _mean_std(rec.scores(key))
            row[f"mean_{key}"], row[f"std_{key}"] = mean, std
            for i in range(folds):
                done = [f for f in rec.folds if f["fold"] == i]
                row[f"split{i}_{key}"] = done[0][key] if done else None
        for i in range(folds):
            done = [f for f in rec.folds if f["fold"] == i]
            row[f"split{i}_best_epoch"] = done[0]["best_epoch"] if done else None
        row["mean_best_epoch"] = _mean_std(rec.scores("best_epoch"))[0]
        row["mean_epochs_run"] = _mean_std(rec.scores("epochs_run"))[0]
        row["mean_fit_time"], row["std_fit_time"] = _mean_std(rec.scores("fit_time"))
        row["total_time"] = rec.wall_time
        row["n_folds_done"] = len(rec.folds)
        row["epochs_budget"] = rec.epochs_budget
        row["worker"] = rec.worker
        row["started"], row["finished"] = rec.started, rec.finished
        row["describe"] = _describe(rec.config)
        row["params"] = rec.params
        row["config"] = rec.config
        rows.append(row)
    ranked = sorted((r for r in rows if r["status"] in ("ok", "pruned")
                     and r["mean_val_accuracy"] is not None),
                    key=lambda r: (r["status"] != "ok", -r["mean_val_accuracy"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank_val_accuracy"] = rank
    return rows


def _describe(config: dict[str, Any]) -> str:
    from hpsearch.config import ModelConfig

    try:
        return ModelConfig.from_dict(config).describe()
    except Exception:  # an old record with a config we can no longer build: still list it
        return json.dumps(config)


def csv_columns(folds: int, rows: list[dict[str, Any]]) -> list[str]:
    splits = lambda key: [f"split{i}_{key}" for i in range(folds)]  # noqa: E731
    params = sorted({k for r in rows for k in r["params"]})
    return ["trial_id", "status", "reason", "rank_val_accuracy", "mean_val_accuracy",
            "std_val_accuracy", *splits("val_accuracy"), "mean_val_loss", "std_val_loss",
            *splits("val_loss"), *splits("best_epoch"), "mean_best_epoch", "mean_epochs_run",
            "mean_fit_time", "std_fit_time", "total_time", "n_folds_done", "epochs_budget",
            "worker", "started", "finished", "describe", *[f"param_{p}" for p in params],
            "config"]


def rows_to_csv(rows: list[dict[str, Any]], folds: int) -> str:
    columns = csv_columns(folds, rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {k: ("" if v is None else v) for k, v in row.items()}
        flat.update({f"param_{k}": v for k, v in row["params"].items()})
        flat["config"] = json.dumps(row["config"], sort_keys=True)
        writer.writerow(flat)
    return buffer.getvalue()
