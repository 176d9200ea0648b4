"""When to stop a trial between folds: only when it cannot plausibly beat the best so far.

Every trial sees the same folds, so the comparison is paired: the running trial's mean over the
folds it has done against the best trial's mean over *the same* folds. Fold-to-fold noise is
largely shared between the two, so a gap of `margin` (1 point of accuracy by default) after a
fold is rarely closed by the remaining folds; trials inside the margin always run to the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hpsearch.trials import TrialRecord

DEFAULT_MARGIN = 0.01


@dataclass(frozen=True)
class PruneDecision:
    prune: bool
    reason: str = ""


def should_prune(scores: list[float], completed: list[TrialRecord],
                 margin: float = DEFAULT_MARGIN) -> PruneDecision:
    """Paired bound rule; `scores` are the running trial's fold accuracies, fold 0 first."""
    done = [r for r in completed if r.status == "ok" and len(r.scores()) >= len(scores)]
    if not scores or not done:
        return PruneDecision(False)
    best = max(done, key=lambda r: r.mean)
    k = len(scores)
    running, reference = float(np.mean(scores)), float(np.mean(best.scores()[:k]))
    if running + margin < reference:
        return PruneDecision(True, f"after {k} fold(s) mean val_accuracy {running:.4f} is more "
                                   f"than {margin:g} below trial {best.trial_id}'s "
                                   f"{reference:.4f} on the same folds")
    return PruneDecision(False)
