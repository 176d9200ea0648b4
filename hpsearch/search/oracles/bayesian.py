"""Bayesian optimisation: Keras Tuner's GP oracle with a cheaper optimiser of its acquisition.

Same Gaussian process, same lower confidence bound `mu - beta * sigma`, same bounds as Keras
Tuner's `BayesianOptimizationOracle`. Keras Tuner starts L-BFGS-B (numerical gradients, one GP
prediction per call) from 50 random points, which took 5-50 s per trial on our ~15-knob space,
as long as a whole trial on the shipped sample. We score `RAW_CANDIDATES` random points in one
vectorised prediction and start L-BFGS-B only from the best `RESTARTS` of them (the
raw-samples-then-restarts scheme of BoTorch's `optimize_acqf`): about a second, and a minimum
at least as low as the best candidate's. L-BFGS-B gets its gradient from `value_and_gradient`
(one GP prediction per iterate, not one per dimension).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.optimize

from hpsearch.search import kt_adapter
from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle

if TYPE_CHECKING:
    from hpsearch.search.space import Space
    from hpsearch.search.spec import TuneSpec

RAW_CANDIDATES = 2000  # random points scored in one batched GP call
RESTARTS = 5  # ... of which the best few start L-BFGS-B


def value_and_gradient(f: Callable[[np.ndarray], np.ndarray], point: np.ndarray,
                       upper: np.ndarray) -> tuple[float, np.ndarray]:
    """f(point) and its forward-difference gradient from one vectorised call of `f`.

    The same differences scipy takes when L-BFGS-B has no gradient (step sqrt(eps) *
    max(1, |x|), turned backwards where it would cross the upper bound), but scipy calls `f`
    once per dimension: with a GP as `f`, each call pays sklearn's input validation, which
    made the Bayesian oracle ~20% of a search on the shipped sample.

    Args:
        f: maps an (m, d) array of points to their m values.
        point: the (d,) point.
        upper: the (d,) upper bounds.

    Returns:
        (value, gradient) as `scipy.optimize.minimize(..., jac=True)` wants them.

    Example:
        >>> value, grad = value_and_gradient(lambda p: (p ** 2).sum(axis=1),
        ...                                  np.array([1.0, 2.0]), np.array([5.0, 5.0]))
        >>> round(value, 6), np.round(grad, 4).tolist()
        (5.0, [2.0, 4.0])
    """
    point = np.asarray(point, dtype=float)
    step = np.sqrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(point))
    step = np.where(point + step > upper, -step, step)
    values = np.ravel(f(np.vstack([point, point + np.diag(step)])))
    return float(values[0]), (values[1:] - values[0]) / step


def fit_quietly(gpr: Any, x: np.ndarray, y: np.ndarray) -> bool:
    """Fit the GP; scikit-learn's ConvergenceWarnings are kept off the terminal.

    Why: on a long search the kernel's hyperparameters often end on a bound or L-BFGS stops
    early ("ABNORMAL"); sklearn then warns on stderr at every fit, even under --quiet, about a
    fit that is still usable (the acquisition only needs a reasonable surrogate). Other
    warnings pass through unchanged.

    Args:
        gpr: a scikit-learn GaussianProcessRegressor.
        x, y: the training points and their objective values.

    Returns:
        True when the fit raised no ConvergenceWarning.

    Example:
        >>> from sklearn.gaussian_process import GaussianProcessRegressor
        >>> fit_quietly(GaussianProcessRegressor(), np.zeros((2, 1)) + [[0], [1]], np.ones(2))
        True
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gpr.fit(x, y)
    converged = True
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            converged = False
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    return converged


class BayesianOracle(CVOracle, kt.oracles.BayesianOptimizationOracle):
    """`initial_points` random trials, then the GP's lower confidence bound picks each next."""

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
        x, y = kt_adapter.vectorize_trials(self)
        if not fit_quietly(self.gpr, np.nan_to_num(x, posinf=0, neginf=0),
                           np.nan_to_num(y, posinf=0, neginf=0)):
            self.gp_fit_warnings += 1

        def bound(points: np.ndarray) -> np.ndarray:
            mu, sigma = self.gpr.predict(np.atleast_2d(points), return_std=True)
            return np.ravel(mu - self.beta * sigma)

        limits = kt_adapter.hp_bounds(self)
        raw = kt_adapter.random_state(self).uniform(limits[:, 0], limits[:, 1],
                                                    size=(RAW_CANDIDATES, limits.shape[0]))
        scores = bound(raw)
        best_x, best = raw[int(np.argmin(scores))], float(np.min(scores))
        for start in raw[np.argsort(scores)[:RESTARTS]]:
            found = scipy.optimize.minimize(
                lambda p: value_and_gradient(bound, p, limits[:, 1]), x0=start,
                jac=True, bounds=limits, method="L-BFGS-B")
            if float(found.fun) < best:
                best_x, best = found.x, float(found.fun)
        return {"status": kt.engine.trial.TrialStatus.RUNNING,
                "values": kt_adapter.vector_to_values(self, best_x)}
