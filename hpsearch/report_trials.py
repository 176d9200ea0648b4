"""Read a tune project for reporting, tolerating a search that is running or was killed.

The tune side writes one `trials/trial_<id>.json` per trial (rewritten after every fold) and
rebuilds `results.json`/`results.csv` from them when a trial ends. While a search runs, the
trial files are the freshest truth, so we read those first and fall back to results.json, then
results.csv (e.g. a copied-out table). Every field may be missing: a report of half a search
is still a report, never a traceback.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_FILE, TRIALS_DIR = "project.json", "trials"
RESULTS_JSON, RESULTS_CSV = "results.json", "results.csv"
PROJECT_KIND = "hpsearch-tune"


@dataclass
class Trial:
    """One trial as the report sees it; `folds` are dicts as written by `trials.fold_summary`
    (plus `history` when the tune side keeps per-epoch curves)."""

    trial_id: str
    status: str = "unknown"
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    describe: str = ""
    folds: list[dict[str, Any]] = field(default_factory=list)
    started: str = ""
    finished: str = ""
    wall_time: float = 0.0
    worker: str = ""
    rank: int | None = None

    def scores(self, key: str = "val_accuracy") -> list[float]:
        return [float(f[key]) for f in self.folds if _finite(f.get(key))]

    @property
    def mean(self) -> float | None:
        values = self.scores()
        return sum(values) / len(values) if values else None

    @property
    def std(self) -> float | None:
        values, mean = self.scores(), self.mean
        if mean is None:
            return None
        return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))  # ddof=0 (sklearn)

    def fold(self, i: int) -> dict[str, Any] | None:
        return next((f for f in self.folds if f.get("fold") == i), None)

    @property
    def epochs(self) -> int:
        return int(sum(f.get("epochs_run") or 0 for f in self.folds))

    @property
    def sort_key(self) -> tuple[int, str]:
        return (int(self.trial_id) if self.trial_id.isdigit() else 10**9, self.trial_id)


@dataclass
class Search:
    """A tune project as read from disk, plus what could not be read (shown in the report)."""

    directory: Path
    meta: dict[str, Any]
    folds: int
    trials: list[Trial]
    source: str
    notes: list[str] = field(default_factory=list)

    def by_status(self, status: str) -> list[Trial]:
        return [t for t in self.trials if t.status == status]

    def ranked(self) -> list[Trial]:
        return sorted((t for t in self.trials if t.rank is not None), key=lambda t: t.rank)

    def knob(self, name: str) -> dict[str, Any]:
        """The search-space entry for a parameter (`units_3` is the `units` knob)."""
        knobs = (self.meta.get("space") or {}).get("knobs") or {}
        return knobs.get(name) or knobs.get(re.sub(r"_\d+$", "", name)) or {}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_search(directory: Path) -> bool:
    """A tune project by its files: project.json of kind hpsearch-tune, trial files or tables."""
    meta = _read_json(directory / PROJECT_FILE)
    if isinstance(meta, dict) and meta.get("kind") == PROJECT_KIND:
        return True
    if any((directory / TRIALS_DIR).glob("trial_*.json")):
        return True
    results = _read_json(directory / RESULTS_JSON)
    if isinstance(results, dict) and isinstance(results.get("trials"), list):
        return True
    try:
        with (directory / RESULTS_CSV).open(newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except OSError:
        return False
    return "trial_id" in header and "mean_val_accuracy" in header


def _trial(data: dict[str, Any]) -> Trial:
    known = {k: data[k] for k in Trial.__dataclass_fields__ if k in data and data[k] is not None}
    known["trial_id"] = str(data.get("trial_id", "?"))
    known["folds"] = [f for f in data.get("folds") or [] if isinstance(f, dict)]
    known.pop("rank", None)
    trial = Trial(**known)
    trial.describe = trial.describe or describe(trial.config)
    return trial


def describe(config: dict[str, Any]) -> str:
    """The one-line summary `ModelConfig.describe` gives; empty if the config will not load."""
    if not config:
        return ""
    from hpsearch.config import ModelConfig

    try:
        return ModelConfig.from_dict(config).describe()
    except Exception:  # an old or partial record: the table falls back to the raw params
        return ""


def _from_row(row: dict[str, Any], folds: int) -> Trial:
    """A results.json/csv row (scikit-learn `cv_results_` shape) back into a Trial."""
    fold_rows = []
    for i in range(folds):
        if not _finite(row.get(f"split{i}_val_accuracy")):
            continue
        fold_rows.append({"fold": i, "val_accuracy": row[f"split{i}_val_accuracy"],
                          "val_loss": row.get(f"split{i}_val_loss"),
                          "best_epoch": row.get(f"split{i}_best_epoch"),
                          "epochs_run": row.get("mean_epochs_run")})
    params = row.get("params") or {k[6:]: v for k, v in row.items()
                                   if k.startswith("param_") and v not in (None, "")}
    config = row.get("config") or {}
    if isinstance(config, str):
        config = _read_json_text(config)
    return Trial(str(row.get("trial_id", "?")), str(row.get("status") or "unknown"),
                 str(row.get("reason") or ""), params, config, str(row.get("describe") or ""),
                 fold_rows, str(row.get("started") or ""), str(row.get("finished") or ""),
                 float(row.get("total_time") or 0.0), str(row.get("worker") or ""))


def _read_json_text(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(text: str) -> Any:
    """CSV cells back to numbers where they are numbers."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: (v if k in ("trial_id", "config", "describe", "reason") else _number(v))
                 for k, v in row.items() if k} for row in csv.DictReader(handle)]


def _rank(trials: list[Trial]) -> None:
    """Same order as `trials.results_rows`: completed by mean score, then pruned ones."""
    scored = [t for t in trials if t.status in ("ok", "pruned") and t.mean is not None]
    scored.sort(key=lambda t: (t.status != "ok", -(t.mean or 0.0)))
    for rank, trial in enumerate(scored, start=1):
        trial.rank = rank


def load_search(directory: Path) -> Search:
    """Everything the report needs from a tune project, from the freshest files available."""
    notes: list[str] = []
    meta = _read_json(directory / PROJECT_FILE)
    if not isinstance(meta, dict):
        notes.append(f"{PROJECT_FILE} is missing or unreadable: settings are unknown")
        meta = {}
    results = _read_json(directory / RESULTS_JSON)
    results = results if isinstance(results, dict) else {}
    meta = (results.get("project") or {}) | meta if isinstance(results.get("project"), dict) \
        else meta
    trials: list[Trial] = []
    paths = sorted((directory / TRIALS_DIR).glob("trial_*.json"))
    source = f"{TRIALS_DIR}/"
    for path in paths:
        data = _read_json(path)
        if isinstance(data, dict):
            trials.append(_trial(data))
        else:
            notes.append(f"{path.name} could not be read (being written?) and is left out")
    folds = int(meta.get("folds") or results.get("folds") or 0)
    if not paths and results.get("trials"):
        source = RESULTS_JSON
        folds = folds or _max_split(results["trials"][0])
        trials = [_from_row(r, folds) for r in results["trials"] if isinstance(r, dict)]
    elif not paths and (directory / RESULTS_CSV).is_file():
        source = RESULTS_CSV
        rows = _csv_rows(directory / RESULTS_CSV)
        folds = folds or (_max_split(rows[0]) if rows else 0)
        trials = [_from_row(r, folds) for r in rows]
    folds = folds or max((int(f.get("fold", 0)) + 1 for t in trials for f in t.folds),
                         default=0)
    trials.sort(key=lambda t: t.sort_key)
    _rank(trials)
    return Search(directory, meta, folds, trials, source, notes)


def _max_split(row: dict[str, Any]) -> int:
    found = [int(m[1]) for k in row if (m := re.match(r"split(\d+)_val_accuracy$", k))]
    return max(found) + 1 if found else 0
