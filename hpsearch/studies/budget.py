"""What a study will cost before it runs: fits, epochs and a rough time estimate.

The estimate is a simple model calibrated on a small shared 2-core CPU (a fixed cost per fit
for graph tracing, per epoch for validation, per batch step, plus the arithmetic of the dense
layers). It is meant to tell minutes from hours; the progress bar's ETA is the measured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hpsearch.config import ModelConfig
from hpsearch.studies.plan import StudyPlan

FIT_OVERHEAD_S = 1.5  # model build + first-epoch tracing
EPOCH_OVERHEAD_S = 0.15  # validation pass and callbacks
STEP_OVERHEAD_S = 0.0015  # Python/TF dispatch per batch
FLOPS_PER_S = 2e10  # dense matmuls, forward + backward
KNOWN_SIZES = {"fashion-mnist": (60000, 10000)}


def parameter_count(cfg: ModelConfig, inputs: int = 784, classes: int = 10) -> int:
    sizes = [inputs, *cfg.hidden, classes]
    return sum((a + 1) * b for a, b in zip(sizes, sizes[1:], strict=False))


def fit_seconds(cfg: ModelConfig, n_fit: int) -> float:
    steps = -(-n_fit // cfg.batch_size)
    per_epoch = (EPOCH_OVERHEAD_S + steps * STEP_OVERHEAD_S
                 + 6 * parameter_count(cfg) * n_fit / FLOPS_PER_S)
    return FIT_OVERHEAD_S + cfg.epochs * per_epoch


@dataclass(frozen=True)
class Budget:
    """Cost of one study: fits still to run, epochs and estimated seconds."""

    study: str
    variants: int
    seeds: int
    folds: int
    fits: int
    epochs: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def budget(plan: StudyPlan, seeds: int, folds: int, n_train: int,
           validation_fraction: float) -> Budget:
    """Budget of running every variant x seed (x fold) of `plan` on `n_train` images."""
    kfold = plan.study.is_kfold
    per_seed_fits = folds if kfold else 1
    n_fit = int(n_train * (1 - 1 / folds)) if kfold else int(n_train * (1 - validation_fraction))
    fits = len(plan.variants) * seeds * per_seed_fits
    epochs = sum(v.config.epochs for v in plan.variants) * seeds * per_seed_fits
    seconds = sum(fit_seconds(v.config, n_fit) for v in plan.variants) * seeds * per_seed_fits
    if kfold:  # the refit of the winner on all training data
        fits += 1
        epochs += plan.base.epochs
        seconds += fit_seconds(plan.base, n_train)
    return Budget(plan.study.name, len(plan.variants), seeds, per_seed_fits if kfold else 0,
                  fits, epochs, seconds)
