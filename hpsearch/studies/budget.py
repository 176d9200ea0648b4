"""What a study will cost before it runs: fits, epochs and a rough time estimate.

The estimate is a simple model of the one training loop on a small 2-core CPU: a variant's
repeats (and folds) train together as towers, so each variant pays one fixed cost (tracing, and
XLA compilation when the fit is long enough to be compiled: `loop.use_xla`) and one per-batch-
step cost for all its towers, plus the arithmetic of every tower's dense layers. It is meant
to tell minutes from hours; the progress bar's ETA is the measured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hpsearch.config import ModelConfig
from hpsearch.studies.plan import StudyPlan
from hpsearch.studies.timing import TIMED_EPOCHS, TIMING_REPEATS, timing_config

FIT_OVERHEAD_S = 2.5  # building the towers, tracing, XLA compilation
TRACED_FIT_OVERHEAD_S = 1.0  # the same without XLA compilation (a short fit)
EPOCH_OVERHEAD_S = 0.1  # shuffling the columns, the validation pass's dispatch
STEP_OVERHEAD_S = 0.0001  # per batch step of the compiled pass, shared by all towers
TRACED_STEP_OVERHEAD_S = 0.0015  # per batch step of a traced (not compiled) pass
FLOPS_PER_S = 6e10  # dense matmuls, forward + backward (measured: model 1, 3 ~ 5-7e10)
KNOWN_SIZES = {"fashion-mnist": (60000, 10000)}


def fit_seconds(cfg: ModelConfig, n_fit: int, towers: int = 1) -> float:
    """Seconds for one fit of `towers` towers of `cfg`, each on `n_fit` rows."""
    from hpsearch.training.loop import use_xla

    steps = -(-n_fit // cfg.batch_size)
    compiled = use_xla(cfg, n_fit, towers)
    per_epoch = (EPOCH_OVERHEAD_S
                 + steps * (STEP_OVERHEAD_S if compiled else TRACED_STEP_OVERHEAD_S)
                 + 6 * cfg.weight_count() * n_fit * towers / FLOPS_PER_S)
    return (FIT_OVERHEAD_S if compiled else TRACED_FIT_OVERHEAD_S) + cfg.epochs * per_epoch


@dataclass(frozen=True)
class Budget:
    """Cost of one study: fits still to run, epochs and estimated seconds."""

    study: str
    variants: int
    seeds: int
    folds: int
    fits: int
    epochs: int
    seconds: float  # everything, timing included
    timing_seconds: float = 0.0  # the interleaved timing repeats (`studies/timing.py`)
    timing_fits: int = 0  # of `fits`: one tower of `TIMED_EPOCHS` epochs each

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def budget(plan: StudyPlan, seeds: int, folds: int, n_train: int,
           validation_fraction: float, timing_repeats: int = TIMING_REPEATS) -> Budget:
    """Budget of running every variant x seed (x fold) of `plan` on `n_train` images, plus
    `timing_repeats` timed fits of `TIMED_EPOCHS` epochs per variant (one tower each)."""
    kfold = plan.study.is_kfold
    per_seed_fits = folds if kfold else 1
    n_fit = int(n_train * (1 - 1 / folds)) if kfold else int(n_train * (1 - validation_fraction))
    fits = len(plan.variants) * seeds * per_seed_fits
    epochs = sum(v.config.epochs for v in plan.variants) * seeds * per_seed_fits
    seconds = sum(fit_seconds(v.config, n_fit, towers=seeds * per_seed_fits)
                  for v in plan.variants)  # a variant's seeds x folds train together
    timing = timing_repeats * sum(fit_seconds(timing_config(v.config), n_fit)
                                  for v in plan.variants)
    fits += timing_repeats * len(plan.variants)
    epochs += timing_repeats * len(plan.variants) * TIMED_EPOCHS
    seconds += timing
    if kfold:  # the refit of the winner on all training data
        fits += 1
        epochs += plan.base.epochs
        seconds += fit_seconds(plan.base, n_train)
    return Budget(plan.study.name, len(plan.variants), seeds, per_seed_fits if kfold else 0,
                  fits, epochs, seconds, timing, timing_repeats * len(plan.variants))
