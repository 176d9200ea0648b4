"""The Bayesian oracle's acquisition: our one-call gradient is the gradient scipy would take."""

from __future__ import annotations

import numpy as np
import scipy.optimize
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Matern

from hpsearch.search.oracles.bayesian import value_and_gradient


def test_one_call_gradient_matches_scipys_forward_differences() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(4, 4))

    def f(points: np.ndarray) -> np.ndarray:
        return np.sin(points @ matrix).sum(axis=1)

    point, upper = rng.uniform(0, 1, 4), np.full(4, 2.0)
    value, gradient = value_and_gradient(f, point, upper)
    assert np.isclose(value, f(point[None])[0], rtol=1e-12)
    expected = scipy.optimize.approx_fprime(point, lambda p: f(p[None])[0])
    assert np.allclose(gradient, expected, atol=1e-6)


def test_the_step_turns_backwards_at_the_upper_bound() -> None:
    calls: list[np.ndarray] = []

    def f(points: np.ndarray) -> np.ndarray:
        calls.append(points)
        return (points ** 2).sum(axis=1)

    value, gradient = value_and_gradient(f, np.array([1.0, 0.5]), np.array([1.0, 1.0]))
    assert len(calls) == 1 and calls[0].shape == (3, 2)  # one call: the point and 2 steps
    assert calls[0][1:].max(axis=0)[0] <= 1.0  # never evaluated past the bound
    assert np.allclose(gradient, [2.0, 1.0], atol=1e-6) and value == 1.25


def test_lbfgsb_on_a_gp_bound_finds_the_same_minimum_with_fewer_predictions() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (20, 5))
    y = np.sin(3 * x).sum(axis=1)
    gp = GaussianProcessRegressor(Matern(nu=2.5), normalize_y=True, random_state=0).fit(x, y)
    counted = {"calls": 0}

    def bound(points: np.ndarray) -> np.ndarray:
        counted["calls"] += 1
        mu, sigma = gp.predict(np.atleast_2d(points), return_std=True)
        return mu - 2.6 * sigma

    limits = np.array([[0.0, 1.0]] * 5)
    start = rng.uniform(0, 1, 5)
    ours = scipy.optimize.minimize(lambda p: value_and_gradient(bound, p, limits[:, 1]),
                                   x0=start, jac=True, bounds=limits, method="L-BFGS-B")
    ours_calls, counted["calls"] = counted["calls"], 0
    theirs = scipy.optimize.minimize(lambda p: float(bound(p)[0]), x0=start, bounds=limits,
                                     method="L-BFGS-B")
    assert abs(ours.fun - theirs.fun) < 1e-6
    assert ours_calls * 3 < counted["calls"]  # d + 1 = 6 predictions per gradient before
