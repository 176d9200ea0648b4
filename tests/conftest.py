"""Shared fixtures: small real data from the shipped sample, so tests never need ../shared."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def sample_data():
    from hpsearch.data import load_dataset

    return load_dataset("fashion-mnist-sample")


@pytest.fixture(scope="session")
def small_data(sample_data):
    """600 train / 200 test real images (stratified slices of the sample): fast to fit."""
    from hpsearch.data import Dataset

    def pick(y: np.ndarray, per_class: int) -> np.ndarray:
        return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])

    train, test = pick(sample_data.y_train, 60), pick(sample_data.y_test, 20)
    return Dataset("small", sample_data.x_train[train], sample_data.y_train[train],
                   sample_data.x_test[test], sample_data.y_test[test])


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from hpsearch.cli import run

    def invoke(*args: str) -> tuple[int, str, str]:
        code = run(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skipped browser test fails the run.

    Why: .ci/run installs Chromium so that the browser tests really run; were the install to
    break, the tests would skip and CI would stay green while claiming they passed.
    """
    from web_support import BROWSER_MISSING

    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        if BROWSER_MISSING in reason:
            report.outcome = "failed"
            report.longrepr = f"CI=true but a browser test was skipped: {reason}"
