"""Grid search: Keras Tuner's `GridSearchOracle`, with hpsearch's shared behaviour.

Every knob must be discrete (a continuous range makes the constructor refuse, which `build`
turns into a one-line error).
"""

from __future__ import annotations

from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle


class GridOracle(CVOracle, kt.oracles.GridSearchOracle):
    """Walks the grid of the discrete knobs in order, up to `max_trials` points."""

    name = "grid"
