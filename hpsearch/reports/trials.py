"""A tune project as the report sees it, tolerating a search that is running or was killed.

The files are read by `hpsearch.search.project` (the one reader and writer of tune projects): trial
records first (the freshest truth while a search runs), else the results table (e.g. a
copied-out results.csv). A damaged record is shown as a `damaged` trial with what the table
still says about it, never silently left out; a report of half a search is still a report.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hpsearch.search.project import (
    PROJECT_FILE,
    PROJECT_KIND,
    TRIALS_DIR,
    Project,
    meta_problem,
    stored_spec,
)
from hpsearch.search.results import RESULTS_JSON, read_results, record_from_row
from hpsearch.search.spec import TuneSpec


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
        from hpsearch.stats import sample_std

        values = self.scores()
        return sample_std(values) if values else None  # ddof 1, as every hpsearch table

    def fold(self, i: int) -> dict[str, Any] | None:
        return next((f for f in self.folds if f.get("fold") == i), None)

    @property
    def epochs(self) -> int:
        return int(sum(f.get("epochs_run") or 0 for f in self.folds))

    @property
    def sort_key(self) -> tuple[int, str]:
        return (int(self.trial_id) if self.trial_id.isdigit() else 10**9, self.trial_id)


@dataclass
class SearchReport:
    """A tune project as the report draws it: each trial with its folds and curves, ranked by
    `Project.view()` (the API's `hp.Search` reads the same view), plus what could not be read.
    """

    directory: Path
    meta: dict[str, Any]
    folds: int
    trials: list[Trial]
    source: str
    notes: list[str] = field(default_factory=list)

    @property
    def spec(self) -> TuneSpec | None:
        """The search's settings (None when project.json and its copy are unreadable)."""
        return stored_spec(self.meta)

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


def is_search(directory: Path, project: Project | None = None) -> bool:
    """A tune project by its files: project.json of kind hpsearch-tune, trial files or tables.

    Pass the command's `Project` of `directory` so that its project.json is read once."""
    meta, _ = (project or Project(directory)).stored_meta()  # a damaged one's kind still says
    if isinstance(meta, dict) and meta.get("kind") == PROJECT_KIND:
        return True
    if any((directory / TRIALS_DIR).glob("trial_*.json")):
        return True
    return bool(read_results(directory)[1])


def describe(config: dict[str, Any]) -> str:
    """The one-line summary `ModelConfig.describe` gives; empty if the config will not load."""
    if not config:
        return ""
    from hpsearch.config import ModelConfig

    try:
        return ModelConfig.from_dict(config).describe()
    except Exception:  # an old or partial record: the table falls back to the raw params
        return ""


def _trial(data: dict[str, Any]) -> Trial:
    """A trial record (as written by `trials.TrialRecord`) as the report's Trial."""
    known = {k: data[k] for k in Trial.__dataclass_fields__ if k in data and data[k] is not None}
    known["trial_id"] = str(data.get("trial_id", "?"))
    known["folds"] = [f for f in data.get("folds") or [] if isinstance(f, dict)]
    known.pop("rank", None)
    trial = Trial(**known)
    trial.describe = trial.describe or describe(trial.config)
    return trial


def read_search_report(directory: Path, project: Project | None = None) -> SearchReport:
    """Everything the report needs from a tune project, from the freshest files available.

    Pass the command's `Project` of `directory` so that its project.json is read once."""
    project = project or Project(directory)
    notes: list[str] = []
    meta, problem = project.stored_meta()
    if problem or meta_problem(meta):
        copy = project.meta_copy()
        notes.append(f"{PROJECT_FILE} is {problem or meta_problem(meta)}: " + (
            f"settings come from {RESULTS_JSON}" if copy else "settings are unknown"))
        meta = copy or {}
    view = project.view(meta)  # the one ranking (results.csv's): the report re-ranks nothing
    scan = view.scan
    folds = view.folds
    source = f"{TRIALS_DIR}/"
    trials = [_trial(asdict(r)) for r in scan.records]
    for damage in scan.damaged:
        trial = _trial(record_from_row(damage.row, folds) if damage.row
                       else {"trial_id": damage.key})
        trial.status, trial.reason = "damaged", damage.line()
        trials.append(trial)
        notes.append(f"damaged: {damage.line()} (repair: `hpsearch tune ... --resume`)")
    notes += [f"damaged: {t.line()} (rebuilt from {TRIALS_DIR}/ by `hpsearch tune ... "
              "--resume`)" for t in scan.tables]
    if not scan.records and not scan.damaged and scan.rows:  # a copied-out table alone
        source = scan.source
        trials = [_trial(record_from_row(r, folds)) for r in scan.rows]
    folds = folds or max((int(f.get("fold", 0)) + 1 for t in trials for f in t.folds),
                         default=0)
    trials.sort(key=lambda t: t.sort_key)
    ranks = view.rank_of()
    for trial in trials:
        trial.rank = ranks.get(trial.trial_id)
    return SearchReport(directory, meta, folds, trials, source, notes)
