"""What `hpsearch export --from DIR` refits: the best trial of a tune project, and its CV score.

The refit trains on all training data with no validation split, so early stopping cannot run:
it trains for the rounded mean of the best epochs the trial's folds found instead.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

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
    epochs = max(1, round(best["mean_best_epoch"]))
    cfg = ModelConfig.from_dict(best["config"], source=f"{directory} trial {best['trial_id']}")
    cfg = cfg.with_overrides({"epochs": epochs, "patience": 0})
    cv = {"project": str(directory), "trial_id": best["trial_id"], "folds": folds,
          "metric": "val_accuracy", "mean": best["mean_val_accuracy"],
          "std": best["std_val_accuracy"],
          "splits": [best[f"split{i}_val_accuracy"] for i in range(folds)],
          "mean_best_epoch": best["mean_best_epoch"], "refit_epochs": epochs,
          "tuner": spec.tuner, "seed": spec.seed}
    warnings = [f"skipped damaged trial {d.key}: {d.line()}" for d in scan.damaged]
    warnings += [f"{t.line()}; the trial records are intact and were used (the table is "
                 "rebuilt by `hpsearch tune --resume`)" for t in scan.tables]
    if scan.damaged:
        cv["skipped_damaged"] = [d.key for d in scan.damaged]
    data = {"dataset": spec.dataset, "data_dir": spec.data_dir,
            "data_options": dict(spec.data_options or {}), "warnings": warnings}
    return cfg, cv, data


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
