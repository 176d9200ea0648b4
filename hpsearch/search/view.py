"""`ProjectView`: a tune project's trials ranked, ordered, counted and its best picked, once.

`Project.view()` builds it from one scan of the directory. The results table, the API's
`Search`, the report and `hpsearch tune`'s summary all read it; none ranks trials itself.

The one ranking rule: completed trials by mean validation accuracy (highest first), then
pruned ones by theirs (a pruned trial's mean is over fewer epochs, so it never outranks a
completed one); failed and running trials get no rank. A damaged record keeps the row the
results table still holds for it, ranked by that row like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hpsearch.search.results import max_split, rank_rows, results_rows, trial_order
from hpsearch.search.spec import TuneSpec

if TYPE_CHECKING:
    from hpsearch.search.project import Scan

STATUSES_SHOWN = ("ok", "pruned", "failed", "running")


@dataclass(frozen=True)
class ProjectView:
    """A tune project as read once.

    Attributes:
        meta: project.json (or the copy results.json keeps; {} when neither reads).
        spec: its settings (None when unknown).
        folds: folds per trial (from the settings, else from the table's split columns).
        rows: one `cv_results_`-style row per trial, in trial order, each with its
            `rank_val_accuracy` (None: unranked).
        scan: what was read and what was damaged.
    """

    meta: dict[str, Any]
    spec: TuneSpec | None
    folds: int
    rows: list[dict[str, Any]]
    scan: Scan

    @classmethod
    def build(cls, meta: dict[str, Any], spec: TuneSpec | None, scan: Scan) -> ProjectView:
        """Rank the scan's trials: intact records, damaged ones by their table row, or (a
        copied-out table with no records) the table's rows."""
        folds = spec.folds if spec else max(
            [max_split(d.row) for d in scan.damaged if d.row]
            + [max_split(r) for r in scan.rows[:1]]
            + [len(r.folds) for r in scan.records], default=0)
        if scan.records or scan.damaged:
            kept = [d.row for d in scan.damaged if d.row]
            rows = rank_rows(results_rows(scan.records, folds) + kept)
        else:
            rows = rank_rows([dict(r) for r in scan.rows])
        return cls(meta, spec, folds, rows, scan)

    def ranked(self) -> list[dict[str, Any]]:
        """The ranked rows, best first."""
        return sorted((r for r in self.rows if r.get("rank_val_accuracy")),
                      key=lambda r: r["rank_val_accuracy"])

    @property
    def best(self) -> dict[str, Any] | None:
        """The best completed trial's row (None before any trial completed)."""
        ranked = self.ranked()
        return ranked[0] if ranked and ranked[0]["status"] == "ok" else None

    def counts(self) -> dict[str, int]:
        """Trials per status (ok, pruned, failed, running), as the table has them."""
        return {s: sum(r["status"] == s for r in self.rows) for s in STATUSES_SHOWN}

    def rank_of(self) -> dict[str, int | None]:
        """Trial id -> rank (None: unranked)."""
        return {str(r["trial_id"]): r.get("rank_val_accuracy") for r in self.rows}

    def in_trial_order(self) -> list[dict[str, Any]]:
        """The rows by trial id (`2` before `10`)."""
        return sorted(self.rows, key=lambda r: trial_order(str(r["trial_id"])))
