"""The one fold record: what `cv --json`, a tune trial record and a study run record say about
each fold (or repeat) they trained, with the same keys, so one reader fits all three.

Times are in seconds and say so (`fit_time_s`, `steady_time_s`: the fit without the first
epoch's tracing and compilation, scaled to all epochs); `history` holds the per-epoch curves.
"""

from __future__ import annotations

from typing import Any

FOLD_KEYS = ("fold", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "best_epoch",
             "scored_epoch", "epochs_run", "fit_time_s", "steady_time_s", "n_train", "n_val",
             "init_digest", "epoch_times", "history")


def fold_record(fold: Any) -> dict[str, Any]:
    """A `FoldResult` as a JSON-able dict with `FOLD_KEYS`.

    Example:
        >>> sorted(fold_record(result.folds[0])) == sorted(FOLD_KEYS)  # doctest: +SKIP
        True
    """
    return {"fold": fold.fold, "train_loss": fold.train_loss,
            "train_accuracy": fold.train_accuracy, "val_loss": fold.val_loss,
            "val_accuracy": fold.val_accuracy, "best_epoch": fold.best_epoch,
            "scored_epoch": fold.scored_epoch, "epochs_run": fold.epochs_run,
            "fit_time_s": fold.fit_time,
            "steady_time_s": fold.steady_time, "n_train": fold.n_train, "n_val": fold.n_val,
            "init_digest": fold.init_digest, "epoch_times": list(fold.epoch_times),
            "history": fold.history}
