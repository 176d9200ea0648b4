"""Stacked k-fold CV (evaluate(stacked=True)): k towers that each behave like a standalone fold."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from hpsearch.config import PRESETS
from hpsearch.errors import TrialFailed
from hpsearch.evaluate import Protocol, evaluate, fold_seed, split_indices, weights_digest
from hpsearch.fold_stack import _columns
from hpsearch.model import build_fold_stack, build_model, tower_weights

TINY = PRESETS["model1"].with_overrides({"hidden": [16], "epochs": 1, "batch_size": 64})
# One full batch per epoch and no dropout: shuffling cannot matter, so a tower must follow its
# standalone fold step for step (regularizers included), up to float summation order.
FULL_BATCH = TINY.with_overrides({
    "hidden": [24, 12], "epochs": 3, "batch_size": 1024, "optimizer": "adam",
    "learning_rate": 0.01, "kernel_regularizer": "l2", "kernel_rate": 1e-3,
    "activity_regularizer": "l1", "activity_rate": 1e-4, "activity_layers": [0]})


def test_towers_start_from_the_weights_a_fresh_single_model_gets(small_data):
    result = evaluate(TINY, small_data, Protocol.kfold(3), seed=5, stacked=True)
    digests = [f.init_digest for f in result.folds]
    assert len(set(digests)) == 3
    for fold in result.folds:
        fresh = build_model(TINY, small_data.input_shape, 10, seed=fold_seed(5, fold.fold))
        assert weights_digest(fresh) == fold.init_digest


@pytest.mark.parametrize("regularized", [False, True])
def test_full_batch_towers_match_sequential_folds(small_data, regularized):
    cfg = FULL_BATCH if regularized else FULL_BATCH.with_overrides(
        {"kernel_regularizer": "none", "kernel_rate": 0.0, "activity_regularizer": "none",
         "activity_rate": 0.0})
    sequential = evaluate(cfg, small_data, Protocol.kfold(3), seed=1)
    stacked = evaluate(cfg, small_data, Protocol.kfold(3), seed=1, stacked=True)
    for one, many in zip(sequential.folds, stacked.folds, strict=True):
        assert one.init_digest == many.init_digest
        assert many.history["val_accuracy"] == pytest.approx(one.history["val_accuracy"],
                                                             abs=1e-6)
        assert many.val_accuracy == pytest.approx(one.val_accuracy, abs=1e-6)
        assert (many.n_train, many.n_val, many.epochs_run) == (one.n_train, one.n_val, 3)
        if regularized:  # stacked losses are the cross-entropy without the penalty
            pairs = zip(many.history["val_loss"], one.history["val_loss"], strict=True)
            assert all(m < o for m, o in pairs)
        else:
            assert many.history["val_loss"] == pytest.approx(one.history["val_loss"], abs=1e-4)
            assert many.history["loss"] == pytest.approx(one.history["loss"], abs=1e-4)


def test_unequal_fold_sizes_are_padded_with_zero_weight(small_data):
    odd = replace(small_data, x_train=small_data.x_train[:-1], y_train=small_data.y_train[:-1])
    cfg = FULL_BATCH.with_overrides({"activity_regularizer": "none", "activity_rate": 0.0,
                                     "kernel_regularizer": "none", "kernel_rate": 0.0})
    sequential = evaluate(cfg, odd, Protocol.kfold(3), seed=2)
    stacked = evaluate(cfg, odd, Protocol.kfold(3), seed=2, stacked=True)
    assert len({f.n_val for f in stacked.folds}) == 2  # sizes really differ
    for one, many in zip(sequential.folds, stacked.folds, strict=True):
        assert many.val_accuracy == pytest.approx(one.val_accuracy, abs=1e-6)
        assert many.val_loss == pytest.approx(one.val_loss, abs=1e-4)


def test_columns_use_only_each_folds_own_rows():
    y = np.repeat(np.arange(10), 7)
    splits = split_indices(Protocol.kfold(3), y, 0)
    idx, weights = _columns([train for train, _ in splits])
    assert weights is not None and set(np.unique(weights)) == {0.0, 1.0}
    for j, (train, val) in enumerate(splits):
        assert set(idx[:, j]) <= set(train) and not set(idx[:, j]) & set(val)
        assert sorted(idx[weights[:, j] == 1, j].tolist()) == sorted(train.tolist())


def test_towers_never_see_their_validation_fold(small_data, monkeypatch):
    import hpsearch.fold_stack as fold_stack

    seen = []
    real = fold_stack._columns

    def spy(splits):
        out = real(splits)
        seen.append(out)
        return out

    monkeypatch.setattr(fold_stack, "_columns", spy)
    evaluate(TINY, small_data, Protocol.kfold(3), seed=0, stacked=True)
    (train_idx, _), (val_idx, _) = seen
    for j in range(3):
        assert not set(train_idx[:, j]) & set(val_idx[:, j])


def test_a_tower_reads_only_its_own_column():
    rows = np.random.default_rng(0).random((30, 8)).astype("float32")
    model = build_fold_stack(TINY, rows, [1, 2, 3], 10)
    idx = np.array([[0, 1, 2], [3, 4, 5]], dtype="int32")
    changed = idx.copy()
    changed[:, 0] = [7, 9]
    before, after = model.predict(idx, verbose=0), model.predict(changed, verbose=0)
    assert before.shape == (2, 3, 10)  # (batch, tower, class)
    assert not np.allclose(before[:, 0], after[:, 0])
    for tower in (1, 2):
        np.testing.assert_array_equal(before[:, tower], after[:, tower])
    single = build_model(TINY, (8,), 10, seed=2)
    single.set_weights(tower_weights(model, 1))
    logits = before[:, 1]  # softmax towers output logits (the loss is from_logits)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(single.predict(rows[[1, 4]], verbose=0), probabilities,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["dropout", "gaussian"])
def test_dropout_masks_are_drawn_per_tower(kind):
    import keras

    cfg = TINY.with_overrides({"dropout": kind, "dropout_rate": 0.5})
    model = build_fold_stack(cfg, np.zeros((4, 8), "float32"), [1, 2, 3], 10)
    layer = next(layer for layer in model.layers
                 if isinstance(layer, keras.layers.Dropout | keras.layers.GaussianDropout))
    out = np.asarray(layer(np.ones((3, 64, 16), "float32"), training=True))
    assert not np.array_equal(out[0], out[1]) and not np.array_equal(out[1], out[2])


def test_stacked_close_to_sequential_with_minibatches_and_dropout(small_data):
    cfg = TINY.with_overrides({"epochs": 4, "optimizer": "adam", "learning_rate": 3e-3,
                               "dropout": "dropout", "dropout_rate": 0.2})
    sequential = evaluate(cfg, small_data, Protocol.kfold(3), seed=0)
    stacked = evaluate(cfg, small_data, Protocol.kfold(3), seed=0, stacked=True)
    assert abs(stacked.mean_val_accuracy - sequential.mean_val_accuracy) < 0.06
    assert stacked.mean_val_accuracy > 0.5


def test_early_stopping_per_tower_reports_the_best_val_loss_epoch(small_data):
    cfg = TINY.with_overrides({"epochs": 8, "patience": 1, "optimizer": "adam",
                               "learning_rate": 0.05})
    result = evaluate(cfg, small_data, Protocol.kfold(2), seed=0, stacked=True)
    for fold in result.folds:
        history = fold.history
        assert fold.epochs_run == len(history["loss"]) == len(fold.epoch_times) <= 8
        at = int(np.argmin(history["val_loss"]))
        assert fold.val_accuracy == history["val_accuracy"][at]
        if fold.epochs_run < 8:  # stopped: patience epochs after its best
            assert fold.epochs_run == at + 2


def test_stacked_cv_never_reads_the_test_set_and_reports_progress(small_data):
    poisoned = replace(small_data, x_test=np.full_like(small_data.x_test, np.nan))
    epochs, folds = [], []
    result = evaluate(TINY.with_overrides({"epochs": 2}), poisoned, Protocol.kfold(3), seed=0,
                      stacked=True, on_epoch=lambda f, e, logs: epochs.append((f, e, logs)),
                      on_fold=lambda fold: folds.append(fold.fold) or True)
    assert all(math.isfinite(f.val_loss) for f in result.folds)
    assert folds == [0, 1, 2] and sorted((f, e) for f, e, _ in epochs) == \
        [(f, e) for f in range(3) for e in (1, 2)]
    assert set(epochs[0][2]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result.fit_time == pytest.approx(sum(f.fit_time for f in result.folds))


def test_stacked_divergence_raises_trial_failed(small_data):
    wild = TINY.with_overrides({"learning_rate": 1e3, "optimizer": "sgd", "epochs": 3})
    with pytest.raises(TrialFailed, match="diverged in fold .*lower the learning rate"):
        evaluate(wild, small_data, Protocol.kfold(2), seed=0, stacked=True)


def _pass_inputs(rows: int, k: int = 3, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, 40, (rows, k)).astype("int32")
    return idx, rng.integers(0, 10, (rows, k)).astype("int32"), np.ones((rows, k), "float32")


def test_a_training_pass_takes_every_row_once_per_epoch_including_a_short_last_batch():
    from hpsearch.fold_stack import _train

    cfg = TINY.with_overrides({"batch_size": 8, "epochs": 2})
    data = np.random.default_rng(1).random((40, 8)).astype("float32")
    model = build_fold_stack(cfg, data, [1, 2, 3], 10)
    history = _train(model, cfg, _pass_inputs(37), _pass_inputs(11, seed=2), [])
    assert int(model.optimizer.iterations.numpy()) == 2 * 5  # ceil(37 / 8) steps per epoch
    assert {len(values) for values in history.values()} == {2}
    assert {"loss", "fold_2_accuracy", "val_loss", "val_fold_0_loss"} <= set(history)


def test_a_training_pass_stops_at_the_first_diverged_batch():
    from hpsearch.fold_stack import _train

    cfg = TINY.with_overrides({"batch_size": 1, "epochs": 3, "optimizer": "sgd",
                               "learning_rate": 1e6})
    data = np.random.default_rng(1).random((40, 8)).astype("float32") * 100
    model = build_fold_stack(cfg, data, [1, 2, 3], 10)
    history = _train(model, cfg, _pass_inputs(200), _pass_inputs(11, seed=2), [])
    assert len(history["loss"]) == 1  # no further epoch after a diverged one
    assert int(model.optimizer.iterations.numpy()) < 200
    assert not history["loss"][0] <= 1e3  # NaN or above the divergence bound


def test_a_long_pass_is_split_into_calls_without_losing_or_repeating_a_step(monkeypatch):
    """Python sees Ctrl-C only between tf.function calls: a pass must not be one long call."""
    import hpsearch.fold_stack as fold_stack

    monkeypatch.setattr(fold_stack, "CALL_SECONDS", 0.0)  # every call FIRST_CALL_STEPS steps
    real, calls = fold_stack._pass_function, []

    def counting(*args, **kwargs):
        run = real(*args, **kwargs)
        return lambda *tensors: calls.append(int(tensors[3])) or run(*tensors)

    monkeypatch.setattr(fold_stack, "_pass_function", counting)
    cfg = TINY.with_overrides({"batch_size": 1, "epochs": 1})
    data = np.random.default_rng(1).random((40, 8)).astype("float32")
    model = build_fold_stack(cfg, data, [1, 2, 3], 10)
    fold_stack._train(model, cfg, _pass_inputs(100), _pass_inputs(5, seed=2), [])
    assert int(model.optimizer.iterations.numpy()) == 100
    assert calls[:4] == [0, 32, 64, 96]  # the training pass's first steps; then validation


def test_trials_on_one_array_share_one_copy_of_its_rows():
    from hpsearch.model import shared_rows

    rows = np.random.default_rng(3).random((600, 8)).astype("float32")
    first = shared_rows(rows)
    assert shared_rows(rows) is first  # no second copy for the next trial
    assert shared_rows(rows[:-1]) is not first  # another shape is another array
    changed = rows.copy()
    copy_of_changed = shared_rows(changed)
    changed[0] += 1.0  # changed in place, on a sampled row
    fresh = shared_rows(changed)
    assert fresh is not copy_of_changed
    np.testing.assert_array_equal(fresh.numpy(), changed)


@pytest.mark.parametrize("training", [True, False])
def test_only_a_training_pass_stops_early_on_a_huge_loss(monkeypatch, training):
    """A validation pass always covers the whole validation fold, whatever its loss."""
    import hpsearch.fold_stack as fold_stack

    monkeypatch.setattr(fold_stack, "CALL_SECONDS", 0.0)
    calls = []

    def huge_loss(*tensors):
        calls.append((int(tensors[3]), int(tensors[4])))
        return {"loss": 1e9}

    fold_stack._run_pass(huge_loss, _pass_inputs(100), 1, training)
    assert calls == ([(0, 32)] if training else [(0, 32), (32, 64), (64, 96), (96, 100)])
