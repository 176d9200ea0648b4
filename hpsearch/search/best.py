"""What `hpsearch export --from DIR` refits: the best trial of a tune project, and its CV score.

The refit trains on all training data with no validation split, so early stopping cannot run.
It trains for the length CV scored: a trial's score is each fold's last epoch (or, with early
stopping, the epoch whose weights were restored), so that is the epoch the refit stops at.
It used to be the mean epoch of the folds' best *validation accuracy*, an epoch picked on the
validation folds that CV never scored. Under a cosine schedule that refit is a shorter, other
config. For accuracy it hardly mattered: the main job's warm start, refitted for the scored
15 epochs instead of the old rule's 14, gained +0.0006 ± 0.0006 test over three seeds, inside
a refit's seed noise (docs/SEARCH.md, "The refit length"); this is about refitting what CV
scored.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig
from hpsearch.search.project import Project, spec_of


def best_from_project(directory: str | Path, skip_damaged: bool = False
                      ) -> tuple[ModelConfig, dict[str, Any], dict]:
    """The best trial of a tune project, ready to refit.

    A damaged or missing trial record (or project.json) is refused: the best trial might be
    the one that cannot be read, and exporting the runner-up silently is a wrong answer.

    Args:
        directory: the `hpsearch tune` --directory.
        skip_damaged: export the best intact trial even though some records are damaged;
            the model card's `cv.skipped_damaged` lists them.

    Returns:
        (config to refit, the model card's `cv` field, {dataset, data_dir, data_options,
        warnings}).

    Raises:
        ProjectError: missing, not a tune project, or no completed trial.
        DamagedFile: a damaged file, named with what results.csv still says about it.

    Example:
        >>> cfg, cv, data = best_from_project("tune-project")  # doctest: +SKIP
    """
    project = Project(directory)
    spec = spec_of(project.read_meta())
    folds = spec.folds
    best, scan = project.best(folds, skip_damaged)
    cfg = ModelConfig.from_dict(best["config"], source=f"{directory} trial {best['trial_id']}")
    record = next((r for r in scan.records if r.trial_id == best["trial_id"]), None)
    patience = cfg.patience
    epochs = scored_length(patience, record.folds if record else [], best)
    cfg = cfg.with_overrides({"epochs": epochs, "patience": 0})
    cv = {"project": str(directory), "trial_id": best["trial_id"], "folds": folds,
          "metric": "val_accuracy", "mean": best["mean_val_accuracy"],
          "std": best["std_val_accuracy"],
          "splits": [best[f"split{i}_val_accuracy"] for i in range(folds)],
          "mean_best_epoch": best["mean_best_epoch"], "refit_epochs": epochs,
          "refit_rule": "the folds' restored epoch (early stopping)" if patience
          else "the length every fold trained and was scored at",
          "tuner": spec.tuner, "seed": spec.seed}
    warnings = [f"skipped damaged trial {d.key}: {d.line()}" for d in scan.damaged]
    warnings += [f"{t.line()}; the trial records are intact and were used (the table is "
                 "rebuilt by `hpsearch tune --resume`)" for t in scan.tables]
    if scan.damaged:
        cv["skipped_damaged"] = [d.key for d in scan.damaged]
    data = {"dataset": spec.dataset, "data_dir": spec.data_dir,
            "data_options": dict(spec.data_options or {}), "warnings": warnings}
    return cfg, cv, data


def scored_length(patience: int, folds: list[dict[str, Any]], row: dict[str, Any]) -> int:
    """The training length a trial's CV score was taken at, as a refit length.

    Args:
        patience: the trial's early-stopping patience (0: off).
        folds: its fold records (`scored_epoch`; older records: `epochs_run`, and `history`
            with `val_loss`).
        row: its results-table row, for records without the curves.

    Returns:
        The rounded mean of the folds' scored epochs, counted from the trial's start (a
        Hyperband child's record counts its parent's epochs). The training loop records each
        fold's (`scored_epoch`): its last epoch, or with early stopping the restored one.
        Records written before it are re-derived by the loop's rule: without early stopping
        the folds' `epochs_run`; with it each fold's first lowest finite validation loss.

    Example:
        >>> scored_length(0, [{"epochs_run": 15}, {"epochs_run": 15}], {})
        15
        >>> scored_length(3, [{"scored_epoch": 5, "epochs_run": 8}], {})
        5
        >>> scored_length(3, [{"epochs_run": 9, "history": {"val_loss": [.5, .4, .3, .3, .31,
        ...                    .32, .33]}}], {})
        5
    """
    scored = [epoch for epoch in (_scored_epoch(fold, patience) for fold in folds)
              if epoch is not None]
    if not scored:  # a record without curves: the table's row
        scored = [row["mean_best_epoch"] if patience > 0 else row["mean_epochs_run"]]
    return max(1, round(float(np.mean(scored))))


def _scored_epoch(fold: dict[str, Any], patience: int) -> int | None:
    """One fold's scored epoch: recorded, or re-derived for an older record (None: no way)."""
    if fold.get("scored_epoch"):
        return int(fold["scored_epoch"])
    if patience <= 0:
        return int(fold["epochs_run"])
    if (fold.get("history") or {}).get("val_loss"):
        return _restored_epoch(fold)
    return None


def _restored_epoch(fold: dict[str, Any]) -> int:
    """The epoch whose scores an early-stopped fold reported, by the training loop's rule:
    the first strict improvement of the validation loss wins and NaN never improves, so with
    no finite loss the loop kept (and scored) the last epoch."""
    losses = np.asarray(fold["history"]["val_loss"], dtype=float)
    start = int(fold["epochs_run"]) - len(losses)  # a Hyperband child's parent's epochs
    finite = np.isfinite(losses)
    if not finite.any():
        return int(fold["epochs_run"])
    return start + int(np.argmin(np.where(finite, losses, np.inf))) + 1


def export_command(directory: str | Path, dataset: str | None = None,
                   data_dir: str | Path | None = None,
                   data_options: dict[str, Any] | None = None) -> str:
    """The shell command that exports a project's best trial (printed by `tune` and the
    report), with the project's data set unless it is the default. A project tuned on
    in-memory data (`Dataset.from_arrays`) has no file a shell could load: its line is the
    Python call instead, which needs that data passed again.

    Example:
        >>> export_command("runs/t1", "fashion-mnist-sample")
        'hpsearch export --from runs/t1 --out runs/t1/export --dataset fashion-mnist-sample'
        >>> export_command("runs/t1", "digits")
        "hp.load_search('runs/t1').export(data=...)  # pass the Dataset 'digits' you tuned on"
    """
    from hpsearch.data.load import reloadable

    if dataset and not reloadable(dataset):
        return (f"hp.load_search({str(directory)!r}).export(data=...)  # pass the Dataset "
                f"{dataset!r} you tuned on")
    directory = Path(directory)
    parts = ["hpsearch", "export", "--from", str(directory), "--out", str(directory / "export")]
    if dataset and dataset != "fashion-mnist":
        parts += ["--dataset", dataset]
    if data_dir:
        parts += ["--data-dir", str(data_dir)]
    options = data_options or {}
    for key, flag in (("target", "--target"), ("test", "--test"), ("test_size", "--test-size")):
        if options.get(key) is not None:
            parts += [flag, str(options[key])]
    if options.get("scale", "standard") != "standard":
        parts += ["--scale", options["scale"]]
    if options.get("one_hot"):
        parts += ["--one-hot", ",".join(options["one_hot"])]
    return shlex.join(parts)
