"""Hyperband: Keras Tuner's `HyperbandOracle` (successive halving over epochs) on k-fold CV.

Keras Tuner keeps one checkpoint per trial, which is wrong when a trial is k models; the tuner
keeps one per fold instead (`continues_parent`), so a promoted trial continues fold k from its
parent's fold k and every rung is scored by full k-fold CV. The median rule stays off
(`median_pruning`): trials resume from a parent's epoch, so their curves do not line up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle

if TYPE_CHECKING:
    from hpsearch.search.space import Space
    from hpsearch.search.spec import TuneSpec


class HyperbandOracle(CVOracle, kt.oracles.HyperbandOracle):
    """Brackets of trials on a growing epoch budget; the best third (factor 3) go on."""

    name = "hyperband"
    median_pruning = False
    continues_parent = True

    def __init__(self, *, max_trials: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.max_trials = max_trials  # Keras Tuner's Hyperband has no trial budget of its own

    @classmethod
    def arguments(cls, space: Space, spec: TuneSpec) -> dict[str, object]:
        return {"max_trials": spec.max_trials, "max_epochs": space.base.epochs,
                "factor": spec.hyperband_factor}
