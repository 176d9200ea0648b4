"""What `hpsearch export --from DIR` refits: the best trial of a tune project, and its CV score.

The refit trains on all training data with no validation split, so early stopping cannot run:
it trains for the rounded mean of the best epochs the trial's folds found instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpsearch.config import ModelConfig
from hpsearch.trials import Project


def best_from_project(directory: str | Path) -> tuple[ModelConfig, dict[str, Any], dict]:
    """(config to refit, the model card's `cv` field, {dataset, data_dir}); ProjectError if
    `directory` is missing, not a tune project or has no completed trial."""
    project = Project(directory)
    meta = project.read_meta()
    folds = int(meta.get("folds", 0))
    best = project.best(folds)
    epochs = max(1, round(best["mean_best_epoch"]))
    cfg = ModelConfig.from_dict(best["config"], source=f"{directory} trial {best['trial_id']}")
    cfg = cfg.with_overrides({"epochs": epochs, "patience": 0})
    cv = {"project": str(directory), "trial_id": best["trial_id"], "folds": folds,
          "metric": "val_accuracy", "mean": best["mean_val_accuracy"],
          "std": best["std_val_accuracy"],
          "splits": [best[f"split{i}_val_accuracy"] for i in range(folds)],
          "mean_best_epoch": best["mean_best_epoch"], "refit_epochs": epochs,
          "tuner": meta.get("tuner"), "seed": meta.get("seed")}
    data = {"dataset": meta.get("dataset", "fashion-mnist"), "data_dir": meta.get("data_dir")}
    return cfg, cv, data
