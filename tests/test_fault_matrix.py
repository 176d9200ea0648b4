"""A representative few cells of `scripts/fault_matrix.py` (which runs all of them): each
interruption once, both modes, the grid (whose resume Keras Tuner cannot do by itself) twice.
A cell interrupts a real tiny search mid-trial, resumes it with `--resume` and checks: the one
resume line and exit code, no traceback, no process left behind, every trial recorded once
(a grid: each point once), no finished trial trained again."""

from __future__ import annotations

import pytest
from script_support import script

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matrix():
    return script("fault_matrix")


@pytest.mark.parametrize("tuner, interruption, mode", [
    ("grid", "kill-9", "workers"),
    ("grid", "sigterm", "one process"),
    ("bayesian", "ctrl-c", "workers"),
])
def test_interrupted_search_resumes_exactly(matrix, tmp_path, tuner, interruption, mode):
    cell = matrix.run_cell(tuner, interruption, mode, tmp_path / "cell")
    assert cell.ok, "; ".join(cell.problems)
    assert cell.kept >= 1 and cell.trials == matrix.trials(tuner)


def test_every_tuner_is_in_the_matrix(matrix):
    from hpsearch.search.tuner import TUNERS

    assert set(matrix.tuners()) == set(TUNERS) and len(matrix.INTERRUPTIONS) == 3
