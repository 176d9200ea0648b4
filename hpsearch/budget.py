"""`tune --dry-run`: the budget (trials x folds x epochs) and a time estimate, before committing.

The estimate comes from a short calibration: the warm-start config trains two epochs on a slice
of the training data through `evaluate`, and the steady (second) epoch's time per example is
scaled to a fold's size. It is an upper bound for configs like the default one: early stopping
and pruning only shorten it; much wider or smaller-batch configs are slower.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hpsearch.data import Dataset

CALIBRATION_EXAMPLES = 4000


def calibrate(space: Any, settings: Any, data: Dataset) -> dict[str, Any]:
    from hpsearch.evaluate import Protocol, evaluate

    cfg = space.to_config({}, epochs=2)
    cfg = replace(cfg, patience=0) if cfg.patience else cfg
    n = min(CALIBRATION_EXAMPLES, len(data.y_train))
    rng = np.random.default_rng(settings.seed)
    idx = rng.choice(len(data.y_train), size=n, replace=False)
    sample = replace(data, x_train=data.x_train[idx], y_train=data.y_train[idx])
    result = evaluate(cfg, sample, Protocol.holdout(0.2), settings.seed)
    fold = result.folds[0]
    per_example = fold.epoch_times[-1] / (fold.n_train + 0.25 * fold.n_val)
    n_fit = len(data.y_train) * (settings.folds - 1) / settings.folds
    n_val = len(data.y_train) / settings.folds
    epoch_s = per_example * (n_fit + 0.25 * n_val)  # evaluating is ~4x cheaper than training
    epochs = space.base.epochs
    fold_epochs = settings.max_trials * settings.folds * epochs
    total_s = fold_epochs * epoch_s
    summary = (f"{settings.max_trials} trials x {settings.folds} folds x <= {epochs} epochs = "
               f"<= {fold_epochs} fold-epochs; calibration: {epoch_s:.2f} s per epoch for "
               f"{cfg.describe()} on {int(n_fit)} examples -> at most ~{total_s / 60:.0f} min "
               f"with {settings.tuner} search (early stopping"
               f"{' and pruning' if settings.prune else ''} make it shorter; "
               "bigger nets and smaller batches longer)")
    return {"trials": settings.max_trials, "folds": settings.folds, "max_epochs": epochs,
            "fold_epochs": fold_epochs, "epoch_seconds": epoch_s, "estimate_seconds": total_s,
            "calibration_config": cfg.to_dict(), "summary": summary}
