"""`tune --dry-run`: the budget (trials x folds x epochs) and a time estimate, before committing.

The estimate comes from a short calibration through the loop a trial really runs: the
warm-start config trains two epochs of k-fold CV (k towers) on a slice of the training data;
the steady (second) epoch's time per training row is scaled to a fold's size, and the first
epoch's extra time (tracing and XLA compilation) is counted once per trial. It is an upper bound
for configs like the default one: pruning only shortens it; much wider or smaller-batch configs
are slower.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hpsearch.data import Dataset

CALIBRATION_EXAMPLES = 4000


def calibrate(space: Any, settings: Any, data: Dataset) -> dict[str, Any]:
    """Time the loop a trial really runs (its k folds as k towers) and scale it to the search.

    Args:
        space: the search space (its warm-start config is timed).
        settings: the `TuneSettings` (trials, folds, seed).
        data: the training data.

    Returns:
        The budget and the estimate, with a one-line `summary`.
    """
    from hpsearch.training.evaluate import Protocol, evaluate

    cfg = space.to_config({}, epochs=2)
    cfg = replace(cfg, patience=0) if cfg.patience else cfg
    n = min(CALIBRATION_EXAMPLES, len(data.y_train))
    rng = np.random.default_rng(settings.seed)
    idx = rng.choice(len(data.y_train), size=n, replace=False)
    sample = replace(data, x_train=data.x_train[idx], y_train=data.y_train[idx])
    result = evaluate(cfg, sample, Protocol.kfold(settings.folds), settings.seed)
    fold = result.folds[0]
    # One epoch trains every tower on its fold and validates it: time per training row.
    per_row = fold.epoch_times[-1] / fold.n_train
    start_up = max(0.0, fold.epoch_times[0] - fold.epoch_times[-1])  # tracing + XLA compile
    n_fit = len(data.y_train) * (settings.folds - 1) / settings.folds
    epoch_s = per_row * n_fit
    epochs = space.base.epochs
    fold_epochs = settings.max_trials * settings.folds * epochs
    total_s = settings.max_trials * (start_up + epochs * epoch_s)
    summary = (f"{settings.max_trials} trials x {settings.folds} folds x <= {epochs} epochs = "
               f"<= {fold_epochs} fold-epochs; calibration: {epoch_s:.2f} s per epoch of all folds "
               f"and {start_up:.1f} s start-up per trial for "
               f"{cfg.describe()} on {int(n_fit)} examples -> at most ~{total_s / 60:.0f} min "
               f"with {settings.tuner} search ("
               f"{'pruning makes it shorter; ' if settings.prune else ''}"
               "bigger nets and smaller batches longer)")
    return {"trials": settings.max_trials, "folds": settings.folds, "max_epochs": epochs,
            "fold_epochs": fold_epochs, "epoch_seconds": epoch_s, "startup_seconds": start_up,
            "estimate_seconds": total_s,
            "calibration_config": cfg.to_dict(), "summary": summary}
