"""The search algorithms: one module per oracle family, one registry line each.

Each algorithm is a small, module-level subclass of `CVOracle` (base.py) and one of Keras
Tuner's oracles. The tuner (`search/tuner.py`) never asks which algorithm it runs; it reads
the class's two flags instead.

**The hook: adding an algorithm.** Write `hpsearch/search/oracles/<name>.py` with one class::

    from hpsearch.search.kt_adapter import kt  # Keras Tuner, TensorFlow's settings first
    from hpsearch.search.oracles.base import CVOracle

    class MyOracle(CVOracle, kt.Oracle):
        name = "mine"                      # the --tuner value
        median_pruning = True              # False: the per-epoch median rule stays off
        continues_parent = False           # True: a trial continues its parent's weights
                                           #   (values "tuner/trial_id", "tuner/epochs",
                                           #   "tuner/initial_epoch", as Hyperband sets them)

        @classmethod
        def arguments(cls, space, spec):   # THE hook: this algorithm's constructor kwargs
            return {"max_trials": spec.max_trials}

        def populate_space(self, trial_id):  # Keras Tuner's own hook: the next values
            ...

and add one line to `ORACLES` below. `arguments` gets the search `Space` and the tune
settings and returns the keyword arguments of the class's constructor beyond the common
ones (objective, hyperparameters, seed, max_consecutive_failed_trials), which `CVOracle.build`
passes. Keras Tuner's own `populate_space` (the values of the next trial) and `reload` stay
the place to change what the algorithm does. Nothing here imports Keras Tuner: `--help` and
`import hpsearch` stay fast, and a module is imported only when its algorithm runs.

Example:
    >>> from hpsearch.search.oracles import ORACLES
    >>> sorted(ORACLES)
    ['bayesian', 'grid', 'hyperband', 'random', 'tpe']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hpsearch.errors import ConfigError

if TYPE_CHECKING:
    from hpsearch.search.oracles.base import CVOracle
    from hpsearch.search.space import Space
    from hpsearch.search.spec import TuneSpec

# --tuner value -> "module:Class" under hpsearch.search.oracles (one line per algorithm)
ORACLES: dict[str, str] = {
    "random": "random:RandomOracle",
    "bayesian": "bayesian:BayesianOracle",
    "tpe": "tpe:TPEOracle",
    "hyperband": "hyperband:HyperbandOracle",
    "grid": "grid:GridOracle",
}


def oracle_class(name: str) -> type[CVOracle]:
    """The oracle class registered as `name` (imports its module, and Keras Tuner, now).

    Args:
        name: a key of `ORACLES` (the --tuner value).

    Returns:
        The class; `oracle_class(name).build(space, spec)` makes a ready oracle.

    Raises:
        ConfigError: `name` is not registered.
    """
    if name not in ORACLES:
        raise ConfigError(f"--tuner {name!r} is unknown; choose one of {', '.join(ORACLES)}")
    module, _, cls = ORACLES[name].partition(":")
    found: type[CVOracle] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
    return found


def make_oracle(space: Space, spec: TuneSpec) -> CVOracle:
    """The oracle of `spec.tuner` for `space`, ready to pass to the tuner.

    Args:
        space: the search space.
        spec: the tune settings (`tuner`, `max_trials`, `seed`, ...).

    Returns:
        A fresh oracle (state is loaded later, when the tuner sets its directory).

    Example:
        >>> from hpsearch.search.space import build_space
        >>> from hpsearch.search.spec import TuneSpec
        >>> make_oracle(build_space(), TuneSpec(tuner="random")).max_trials
        30
    """
    return oracle_class(spec.tuner).build(space, spec)
