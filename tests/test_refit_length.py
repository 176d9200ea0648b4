"""The export refits for the length CV scored (`hpsearch.search.best.scored_length`).

A trial's CV score is each fold's last epoch, or with early stopping the epoch whose weights
were restored. The refit used to stop at the mean epoch of the folds' best validation
*accuracy*, picked on the validation folds and never scored; under a cosine schedule that is a
shorter, other config.
"""

from __future__ import annotations

import json

from hpsearch.search.best import scored_length

ROW = {"mean_best_epoch": 4.0, "mean_epochs_run": 9.0}


def test_without_early_stopping_the_refit_trains_every_epoch_the_folds_trained() -> None:
    folds = [{"epochs_run": 15, "best_epoch": 13, "history": {"val_loss": [0.3] * 15}},
             {"epochs_run": 15, "best_epoch": 14, "history": {"val_loss": [0.3] * 15}}]
    assert scored_length(0, folds, ROW) == 15


def test_with_early_stopping_it_trains_to_the_mean_restored_epoch() -> None:
    # fold 0: lowest val loss first at epoch 3 (Keras restores the first of equal lows);
    # fold 1: at epoch 6. The folds' best accuracy epochs (best_epoch) play no part.
    folds = [{"epochs_run": 6, "best_epoch": 6,
              "history": {"val_loss": [0.5, 0.4, 0.3, 0.3, 0.35, 0.36]}},
             {"epochs_run": 8, "best_epoch": 2,
              "history": {"val_loss": [0.5, 0.45, 0.4, 0.38, 0.37, 0.36, 0.4, 0.41]}}]
    assert scored_length(2, folds, ROW) == round((3 + 6) / 2)


def test_a_hyperband_child_counts_its_parents_epochs() -> None:
    # trained 4 epochs after a parent's 6: the record's curves hold only the child's epochs
    folds = [{"epochs_run": 10, "history": {"val_loss": [0.4, 0.3, 0.35, 0.36]}}]
    assert scored_length(2, folds, ROW) == 6 + 2
    assert scored_length(0, folds, ROW) == 10


def test_the_recorded_scored_epoch_is_read_before_the_curves() -> None:
    # the loop's own record of the epoch it scored wins; an older record is re-derived
    folds = [{"epochs_run": 8, "scored_epoch": 7, "history": {"val_loss": [0.3] * 8}},
             {"epochs_run": 8, "history": {"val_loss": [0.5, 0.4, 0.3, 0.4, 0.4, 0.4, 0.4,
                                                        0.4]}}]
    assert scored_length(2, folds, ROW) == round((7 + 3) / 2)


def test_records_without_curves_fall_back_to_the_table() -> None:
    assert scored_length(2, [{"epochs_run": 9}], ROW) == 4
    assert scored_length(0, [], ROW) == 9


def test_an_early_stopped_search_exports_the_restored_length(tmp_path, cli) -> None:
    directory = tmp_path / "t"
    code, _, err = cli("tune", "--tuner", "random", "--max-trials", "2", "--epochs", "6",
                       "-k", "2", "--fix", "patience=1", "--fix", "hidden=16", "--fix",
                       "batch_size=256", "--fix", "learning_rate=0.3", "--no-prune",
                       "--directory", str(directory), "--dataset", "fashion-mnist-sample", "-q")
    assert code == 0, err
    code, _, err = cli("export", "--from", str(directory), "--out", str(tmp_path / "e"), "-q")
    assert code == 0, err
    card = json.loads((tmp_path / "e" / "model_card.json").read_text())
    record = json.loads((directory / "trials" / f"trial_{card['cv']['trial_id']}.json")
                        .read_text())
    restored = []
    for fold in record["folds"]:
        losses = fold["history"]["val_loss"]
        restored.append(losses.index(min(losses)) + 1)
    # the loop records the epoch it scored, and it is the one the curves say it restored
    assert [fold["scored_epoch"] for fold in record["folds"]] == restored
    assert card["cv"]["refit_epochs"] == round(sum(restored) / len(restored))
    assert card["cv"]["refit_rule"] == "the folds' restored epoch (early stopping)"


def test_a_nan_validation_loss_is_never_the_restored_epoch() -> None:
    """The loop's rule: NaN never improves on the best loss; with no finite loss at all the
    fold kept and scored its last epoch."""
    nan = float("nan")
    folds = [{"epochs_run": 5, "history": {"val_loss": [0.5, nan, 0.4, nan, 0.45]}}]
    assert scored_length(2, folds, ROW) == 3
    folds = [{"epochs_run": 4, "history": {"val_loss": [nan] * 4}}]
    assert scored_length(2, folds, ROW) == 4


def test_a_hyperband_child_records_its_scored_epoch_from_the_trials_start(tmp_path, cli) -> None:
    directory = tmp_path / "t"
    code, _, err = cli("tune", "--tuner", "hyperband", "--max-trials", "8", "--epochs", "3",
                       "-k", "2", "--fix", "hidden=16", "--fix", "batch_size=256",
                       "--directory", str(directory), "--dataset", "fashion-mnist-sample", "-q")
    assert code == 0, err
    children = 0
    for path in (directory / "trials").glob("trial_*.json"):
        record = json.loads(path.read_text())
        if record["status"] != "ok":
            continue
        for fold in record["folds"]:  # no early stopping: the last epoch, parent's included
            assert fold["scored_epoch"] == fold["epochs_run"] == record["epochs_budget"]
            children += len(fold["history"]["val_loss"]) < fold["epochs_run"]  # a child's
    assert children, "the search promoted no child, so nothing was checked"
