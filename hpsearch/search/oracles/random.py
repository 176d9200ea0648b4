"""Random search: Keras Tuner's `RandomSearchOracle`, with hpsearch's shared behaviour."""

from __future__ import annotations

from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle


class RandomOracle(CVOracle, kt.oracles.RandomSearchOracle):
    """Each trial draws every active knob at random (the first: the defaults)."""

    name = "random"
