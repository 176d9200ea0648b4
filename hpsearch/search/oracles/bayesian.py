"""Bayesian optimisation: a Gaussian process over our encoding picks each trial after the first few.

Keras Tuner's `BayesianOptimizationOracle` supplies the random phase (its first
`num_initial_points` trials), its state and its bookkeeping; the model and the pick are
`surrogate.py`'s: choices one-hot, one length scale per column, a learned noise term, pruned
trials at an estimate of their final score, and expected improvement over random and nearby
candidates, every other pick among the best trial's one-knob neighbours only (a local step).
docs/SEARCH.md measures why Keras Tuner's own GP (ordinal choices, one length scale, partial
scores as final) did not find anything better than the warm start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle
from hpsearch.search.oracles.surrogate import Encoding, Surrogate, training_set

if TYPE_CHECKING:
    from hpsearch.search.space import Space
    from hpsearch.search.spec import TuneSpec

class BayesianOracle(CVOracle, kt.oracles.BayesianOptimizationOracle):
    """`initial_points` random trials, then the GP's expected improvement picks each next,
    alternately over the whole space and around the best trial."""

    name = "bayesian"
    gp_fit_warnings = 0  # GP fits that ended with a ConvergenceWarning (kept off stderr)

    @classmethod
    def arguments(cls, space: Space, spec: TuneSpec) -> dict[str, object]:
        return {"max_trials": spec.max_trials,
                "num_initial_points": min(spec.initial_points, spec.max_trials)}

    def populate_space(self, trial_id: str) -> dict[str, object]:
        completed = [t for t in self.trials.values() if t.status == "COMPLETED"]
        dimensions = len(self.hyperparameters.space)
        if len(completed) < (self.num_initial_points or max(3 * dimensions, 3)):
            return super().populate_space(trial_id)  # random phase: Keras Tuner's own
        records = self.records()
        observations = training_set([
            (dict(t.hyperparameters.values), t.status, t.score, records.get(t.trial_id))
            for _, t in sorted(self.trials.items(), key=lambda item: (len(item[0]), item[0]))
            if t.trial_id != trial_id])
        surrogate = Surrogate(Encoding(self.hyperparameters.space), self.seed or 0)
        rng = np.random.RandomState(((self.seed or 0) * 100_003 + len(self.trials)) % 2**32)
        # every other pick is local, around the best trial (`Surrogate.pick`); by the trial
        # count, so a resumed search makes the same picks
        values = surrogate.pick(observations, rng, local=len(self.trials) % 2 == 0)
        self.gp_fit_warnings += surrogate.fit_warnings
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}
