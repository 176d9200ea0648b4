"""The Bayesian oracle's GP fits keep scikit-learn's ConvergenceWarning off the terminal."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel

from hpsearch.search.oracles.surrogate import fit_quietly


def test_a_fit_that_hits_its_kernel_bounds_warns_nothing_and_says_so():
    # hyperparameters pinned far from the data's scale: sklearn warns ConvergenceWarning twice
    gpr = GaussianProcessRegressor(ConstantKernel(1.0, (1e-2, 1e-1)) * RBF(1.0, (1e-2, 1e-1)))
    x = np.linspace(0, 1, 20)[:, None]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        converged = fit_quietly(gpr, x, 1000 * np.sin(x[:, 0]))
    assert converged is False and caught == []
    assert np.isfinite(gpr.predict(x)).all()  # the fit is still there to use


def test_a_clean_fit_reports_converged():
    gpr = GaussianProcessRegressor()
    x = np.linspace(0, 1, 8)[:, None]
    assert fit_quietly(gpr, x, np.sin(3 * x[:, 0])) is True
