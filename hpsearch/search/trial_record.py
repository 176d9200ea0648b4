"""`TrialRecord`: what one trial of a tune did, as `trials/trial_<id>.json` holds it.

Its own module so that `project` (which reads and writes records) and `results` (which
tabulates them) both import it, and neither imports the other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from hpsearch.records import fold_record


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
        return [f[key] for f in self.folds if isinstance(f.get(key), int | float)]

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
    """The per-fold numbers kept in a record: the one fold record (`hpsearch.records`), with
    the per-epoch history so reports can draw learning curves, plus `fit_time`, the name
    earlier projects used (their records still read the same)."""
    return fold_record(fold) | {"fit_time": fold.fit_time}
