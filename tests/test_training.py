"""The one training loop: k towers that each compute what a standalone fit computes."""

from __future__ import annotations

import copy
import math
from dataclasses import replace

import numpy as np
import pytest

from hpsearch.config import PRESETS
from hpsearch.errors import ConfigError, DataError, TrialFailed
from hpsearch.training import loop
from hpsearch.training.evaluate import (
    Protocol,
    evaluate,
    evaluate_seeds,
    fold_seed,
    split_indices,
)
from hpsearch.training.rows import shared_rows
from hpsearch.training.towers import build_towers, to_sequential

TINY = PRESETS["model1"].with_overrides({"hidden": [16], "epochs": 1, "batch_size": 64})
# One full batch per epoch and no dropout: shuffling cannot matter, so a tower must follow a
# plain Keras fit of the same network step for step (regularizers included).
FULL_BATCH = TINY.with_overrides({
    "hidden": [24, 12], "epochs": 3, "batch_size": 1024, "optimizer": "adam",
    "learning_rate": 0.01, "kernel_regularizer": "l2", "kernel_rate": 1e-3,
    "activity_regularizer": "l1", "activity_rate": 1e-4, "activity_layers": [0]})
PLAIN = FULL_BATCH.with_overrides({"kernel_regularizer": "none", "kernel_rate": 0.0,
                                   "activity_regularizer": "none", "activity_rate": 0.0})


def _rows(data):
    return data.x_train.reshape(len(data.x_train), -1)


def _plain_keras_fit(cfg, data, train, val, seed):
    """A plain `keras.Sequential` with the tower's initial weights, trained by `Model.fit`."""
    from hpsearch.training.towers import make_optimizer

    fresh = build_towers(cfg, shared_rows(_rows(data)), [seed], data.num_classes)
    model = to_sequential(cfg, fresh, 0, data.input_shape, data.num_classes)
    model.compile(optimizer=make_optimizer(cfg), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model.fit(data.x_train[train], data.y_train[train], batch_size=len(train),
                     epochs=cfg.epochs, shuffle=False, verbose=0,
                     validation_data=(data.x_train[val], data.y_train[val])).history


@pytest.mark.parametrize("mode", ["1", "0"], ids=["compiled", "traced"])
@pytest.mark.parametrize("cfg", [PLAIN, FULL_BATCH], ids=["plain", "regularized"])
def test_full_batch_towers_match_plain_keras_fits_from_the_same_weights(small_data, cfg, mode,
                                                                        monkeypatch):
    monkeypatch.setattr(loop, "XLA_MODE", mode)  # both passes a fit may take
    result = evaluate(cfg, small_data, Protocol.kfold(3), seed=1)
    splits = split_indices(Protocol.kfold(3), small_data.y_train, 1)
    for fold, (train, val) in zip(result.folds, splits, strict=True):
        keras_history = _plain_keras_fit(cfg, small_data, train, val, fold_seed(1, fold.fold))
        assert fold.history["val_accuracy"] == pytest.approx(keras_history["val_accuracy"],
                                                             abs=1e-6)
        if cfg is PLAIN:
            assert fold.history["val_loss"] == pytest.approx(keras_history["val_loss"],
                                                             abs=1e-4)
            assert fold.history["loss"] == pytest.approx(keras_history["loss"], abs=1e-4)
        else:  # our losses are the data loss; Keras adds the penalties to its val_loss
            assert all(ours < theirs for ours, theirs in
                       zip(fold.history["val_loss"], keras_history["val_loss"], strict=True))


def test_a_repeat_is_the_same_alone_or_beside_other_repeats(small_data):
    """Each tower shuffles with its own generator: its minibatches do not depend on k."""
    cfg = TINY.with_overrides({"epochs": 3, "optimizer": "adam", "learning_rate": 3e-3})
    together, _ = evaluate_seeds(cfg, small_data, Protocol.train_test(0.2), [0, 1, 2])
    alone = evaluate(cfg, small_data, Protocol.train_test(0.2), seed=1)
    assert together[1].folds[0].init_digest == alone.folds[0].init_digest
    assert together[1].folds[0].history["val_accuracy"] == pytest.approx(
        alone.folds[0].history["val_accuracy"], abs=1e-6)
    assert together[1].test_accuracy == pytest.approx(alone.test_accuracy, abs=1e-6)
    assert len({r.folds[0].init_digest for r in together}) == 3  # each its own weights


def test_cv_never_reads_the_test_set(small_data):
    poisoned = copy.copy(small_data)  # Dataset(...) itself refuses NaN rows: poison a copy
    object.__setattr__(poisoned, "x_test", np.full_like(small_data.x_test, np.nan))
    object.__setattr__(poisoned, "y_test", np.full_like(small_data.y_test, 99))
    cfg = TINY.with_overrides({"epochs": 2})
    clean, dirty = (evaluate(cfg, d, Protocol.kfold(3), seed=0) for d in (small_data, poisoned))
    assert dirty.test_accuracy is None and all(math.isfinite(f.val_loss) for f in dirty.folds)
    assert [f.history for f in dirty.folds] == [f.history for f in clean.folds]
    assert sum(f.n_val for f in dirty.folds) == len(small_data.y_train)


def test_columns_use_only_each_folds_own_rows_and_pad_to_whole_batches():
    y = np.repeat(np.arange(10), 7)
    splits = split_indices(Protocol.kfold(3), y, 0)
    idx, weights = loop.columns([train for train, _ in splits], multiple=8)
    assert len(idx) % 8 == 0 and set(np.unique(weights)) == {0.0, 1.0}
    for j, (train, val) in enumerate(splits):
        assert set(idx[:, j]) <= set(train) and not set(idx[:, j]) & set(val)
        assert sorted(idx[weights[:, j] == 1, j].tolist()) == sorted(train.tolist())


def test_towers_never_train_on_their_validation_fold(small_data, monkeypatch):
    seen = []
    real = loop.columns
    monkeypatch.setattr(loop, "columns", lambda sets, *a, **k: seen.append(sets) or
                        real(sets, *a, **k))
    evaluate(TINY, small_data, Protocol.kfold(3), seed=0)
    validation, training = seen[0], seen[1]  # validation columns are built first
    for j in range(3):
        assert not set(training[j]) & set(validation[j])


def test_epoch_hooks_and_result_shape(small_data):
    epochs = []
    cfg = TINY.with_overrides({"epochs": 2})
    result = evaluate(cfg, small_data, Protocol.kfold(3), seed=0,
                      on_epoch=lambda f, e, logs: epochs.append((f, e, logs)))
    assert sorted((f, e) for f, e, _ in epochs) == [(f, e) for f in range(3) for e in (1, 2)]
    assert set(epochs[0][2]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    fold = result.folds[0]
    assert len(fold.history["loss"]) == 2 == len(fold.epoch_times) and 1 <= fold.best_epoch <= 2
    assert result.fit_time == pytest.approx(sum(f.fit_time for f in result.folds))
    payload = result.to_dict()
    assert payload["mean_val_accuracy"] == pytest.approx(
        np.mean([f.val_accuracy for f in result.folds]))
    assert result.std_val_accuracy == pytest.approx(
        np.std([f.val_accuracy for f in result.folds], ddof=1))


def test_a_gate_stops_every_tower_and_the_result_says_pruned(small_data):
    asked = []

    def gate(epoch, folds):
        asked.append((epoch, len(folds)))
        return epoch < 2

    result = evaluate(TINY.with_overrides({"epochs": 5}), small_data, Protocol.kfold(3),
                      seed=0, gate=gate)
    assert result.status == "pruned" and asked == [(1, 3), (2, 3)]
    assert all(f.epochs_run == 2 == len(f.history["val_accuracy"]) for f in result.folds)


def test_early_stopping_per_tower_restores_and_reports_the_best_val_loss_epoch(small_data):
    cfg = TINY.with_overrides({"epochs": 8, "patience": 1, "optimizer": "adam",
                               "learning_rate": 0.05})
    result, model = evaluate(cfg, small_data, Protocol.train_test(0.3), seed=0,
                             keep_model=True)
    fold = result.folds[0]
    at = int(np.argmin(fold.history["val_loss"]))
    assert fold.val_accuracy == fold.history["val_accuracy"][at]
    if fold.epochs_run < 8:  # stopped: patience epochs after its best
        assert fold.epochs_run == at + 2
    probabilities = model.predict(small_data.x_test, verbose=0)  # the restored weights
    accuracy = float(np.mean(probabilities.argmax(axis=1) == small_data.y_test))
    assert accuracy == pytest.approx(result.test_accuracy, abs=1e-9)


def test_divergence_fails_the_fit_and_only_the_diverged_repeat(small_data):
    wild = TINY.with_overrides({"learning_rate": 1e3, "optimizer": "sgd", "epochs": 3})
    with pytest.raises(TrialFailed, match="diverged in fold .*lower the learning rate"):
        evaluate(wild, small_data, Protocol.kfold(2), seed=0)
    results, _ = evaluate_seeds(wild, small_data, Protocol.train_test(), [0, 1])
    assert all(isinstance(r, TrialFailed) for r in results)


def test_cosine_schedule_anneals_per_epoch_and_restores_the_base_rate(small_data, monkeypatch):
    seen = []
    real = loop._Passes.run_train

    def spy(self, cols):
        seen.append(float(self.towers.optimizer.learning_rate.numpy()))
        return real(self, cols)

    monkeypatch.setattr(loop._Passes, "run_train", spy)
    cfg = TINY.with_overrides({"epochs": 4, "optimizer": "adam", "learning_rate": 0.01,
                               "lr_schedule": "cosine"})
    _, model = evaluate(cfg, small_data, Protocol.train_test(), seed=0, keep_model=True)
    assert seen == pytest.approx([0.01 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)])
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def test_a_long_pass_is_split_into_calls_without_losing_or_repeating_a_step(monkeypatch,
                                                                            small_data):
    """Python sees Ctrl-C only between tf.function calls: a pass must not be one long call."""
    monkeypatch.setattr(loop, "CALL_SECONDS", 0.0)  # every call FIRST_CALL_STEPS steps
    real, calls = loop._pass_function, []

    def counting(towers, training, *args, **kwargs):
        run = real(towers, training, *args, **kwargs)
        if not training:
            return run

        def counted(*tensors):
            calls.append(int(tensors[3]))
            return run(*tensors)

        counted.get_concrete_function = run.get_concrete_function  # traced before the calls
        return counted

    monkeypatch.setattr(loop, "_pass_function", counting)
    cfg = TINY.with_overrides({"batch_size": 4})
    train = [np.arange(400), np.arange(100, 500)]
    outcome = loop.fit_towers(cfg, _rows(small_data), small_data.y_train, train, None, [0, 1],
                              10)
    assert int(outcome.towers.optimizer.iterations.numpy()) == 100  # 400 rows / 4
    assert calls == [0, 32, 64, 96]


def test_a_training_pass_stops_once_every_tower_diverged(small_data):
    cfg = TINY.with_overrides({"batch_size": 1, "epochs": 3, "optimizer": "sgd",
                               "learning_rate": 1e6})
    rows = _rows(small_data) * 100
    outcome = loop.fit_towers(cfg, rows, small_data.y_train, [np.arange(300)] * 2, None,
                              [1, 2], 10)
    assert all(run.diverged and run.epochs_run == 1 for run in outcome.runs)
    assert int(outcome.towers.optimizer.iterations.numpy()) < 300


def test_trials_on_one_array_share_one_copy_of_its_rows():
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


def test_bad_protocols():
    with pytest.raises(ConfigError, match="--folds must be at least 2"):
        Protocol.kfold(1)
    with pytest.raises(DataError, match="needs at least 50 per class"):
        split_indices(Protocol.kfold(50), np.repeat(np.arange(10), 3), 0)


def test_traced_graphs_of_earlier_fits_are_freed(small_data):
    """No training graph outlives its fit (TF's custom-gradient registry kept them all)."""
    import gc

    from tensorflow.python.framework import func_graph

    from hpsearch.training.session import fresh_session

    cfg = replace(PRESETS["model2"], epochs=1, batch_size=64)

    def graphs_alive_after(fits: int) -> int:
        for seed in range(fits):
            evaluate(cfg, small_data, Protocol("kfold", folds=2), seed=seed)
        fresh_session()
        gc.collect()
        return sum(isinstance(o, func_graph.FuncGraph) for o in gc.get_objects())

    settled = graphs_alive_after(1)
    assert graphs_alive_after(3) <= settled  # 6 more fits, no more graphs


@pytest.mark.parametrize("training", [True, False])
def test_only_a_training_pass_stops_early_on_a_huge_loss(monkeypatch, training):
    """A validation pass always covers its whole set, whatever its towers' losses."""
    monkeypatch.setattr(loop, "CALL_SECONDS", 0.0)
    calls = []

    def huge_loss(*tensors):
        calls.append((int(tensors[3]), int(tensors[4])))
        return {"tower_loss": [1e9, float("nan")], "tower_accuracy": [0.1, 0.1]}

    cols = (np.zeros((100, 2), "int32"), np.zeros((100, 2), "int32"),
            np.ones((100, 2), "float32"))
    loop._run_pass(huge_loss, cols, 1, training)
    assert calls == ([(0, 32)] if training else [(0, 32), (32, 64), (64, 96), (96, 100)])


def test_xla_is_decided_from_the_planned_steps_only(monkeypatch):
    """Never from timings: one config on one data set always takes one path (same numbers)."""
    wide = TINY.with_overrides({"hidden": [512, 512], "epochs": 15, "batch_size": 128})
    assert loop.use_xla(wide, 3000, towers=2)  # 360 steps of 2 x 670k weights: compiled
    assert not loop.use_xla(wide.with_overrides({"batch_size": 256}), 3000, towers=2)
    narrow = wide.with_overrides({"hidden": [64]})
    assert not loop.use_xla(narrow, 3000, towers=2)  # dispatch alone does not repay it
    assert loop.use_xla(narrow, 30000, towers=2)  # full-data folds: 3,525 steps
    monkeypatch.setattr(loop, "XLA_MODE", "1")
    assert loop.use_xla(narrow, 10)
    monkeypatch.setattr(loop, "XLA_MODE", "0")
    assert not loop.use_xla(wide, 10 ** 6, towers=10)
    monkeypatch.setattr(loop, "XLA_MODE", "maybe")
    with pytest.raises(ConfigError, match="HPSEARCH_XLA='maybe' is not a setting"):
        loop.use_xla(wide, 10)


def test_a_short_fit_is_traced_and_a_long_one_compiled(small_data):
    rows, y = _rows(small_data), small_data.y_train
    short = loop.fit_towers(TINY, rows, y, [np.arange(600)], None, [0], 10)
    long = loop.fit_towers(TINY.with_overrides({"batch_size": 4, "epochs": 10}), rows, y,
                           [np.arange(600)], None, [0], 10)  # 10 x 150 = 1,500 steps
    assert (short.xla, long.xla) == (False, True)


def test_the_compiled_and_the_traced_pass_train_the_same_towers(small_data):
    """Up to float rounding. (Not with dropout: XLA's Philox turns a seed into other bits than
    TensorFlow's kernel does, so the two paths draw different, equally random, masks.)"""
    cfg = FULL_BATCH.with_overrides({"batch_size": 64})
    rows, y, train, val = _rows(small_data), small_data.y_train, [np.arange(400)] * 2, \
        [np.arange(400, 600)] * 2
    fits = [loop.fit_towers(cfg, rows, y, train, val, [3, 4], 10, xla=xla) for xla in (1, 0)]
    assert [fit.xla for fit in fits] == [True, False]
    for compiled, traced in zip(*(fit.runs for fit in fits), strict=True):
        for key in ("loss", "val_loss", "val_accuracy"):
            assert compiled.history[key] == pytest.approx(traced.history[key], abs=2e-4)


@pytest.mark.parametrize("xla", [True, False], ids=["compiled", "traced"])
@pytest.mark.parametrize("dropout", ["dropout", "gaussian"])
def test_a_fit_that_reuses_earlier_towers_is_the_fit_fresh_towers_give(small_data, xla, dropout):
    """Same shapes: the towers and their passes are restarted, not rebuilt, and nothing of
    the earlier fit (weights, optimizer moments, step counters, rates) leaks into the next."""
    first = TINY.with_overrides({
        "hidden": [24, 12], "epochs": 2, "optimizer": "adam", "learning_rate": 0.01,
        "kernel_regularizer": "l1_l2", "kernel_rate": 1e-3, "activity_regularizer": "l1",
        "activity_rate": 1e-4, "dropout": dropout, "dropout_rate": 0.3})
    second = first.with_overrides({"epochs": 3, "learning_rate": 0.003, "kernel_rate": 1e-2,
                                   "activity_rate": 1e-3, "dropout_rate": 0.1})
    rows, y, train, val = _rows(small_data), small_data.y_train, [np.arange(400)] * 2, \
        [np.arange(400, 600)] * 2

    def fit(cfg, seeds):
        return loop.fit_towers(cfg, rows, y, train, val, seeds, 10, xla=xla)

    loop._REUSABLE.clear()
    earlier = fit(first, [1, 2])
    reused = fit(second, [5, 6])
    assert reused.towers is earlier.towers  # restarted, not rebuilt
    loop._REUSABLE.clear()
    fresh = fit(second, [5, 6])
    assert fresh.towers is not reused.towers
    assert reused.init_digests == fresh.init_digests
    for a, b in zip(reused.runs, fresh.runs, strict=True):
        assert a.history == b.history
    assert float(reused.towers.optimizer.learning_rate.numpy()) == pytest.approx(0.003)


def test_fits_of_other_shapes_or_other_rows_build_their_own_towers(small_data):
    rows, y, train = _rows(small_data), small_data.y_train, [np.arange(300)]
    loop._REUSABLE.clear()
    a = loop.fit_towers(TINY, rows, y, train, None, [0], 10).towers
    b = loop.fit_towers(TINY.with_overrides({"hidden": [8]}), rows, y, train, None, [0], 10)
    c = loop.fit_towers(TINY, rows.copy(), y, train, None, [0], 10)  # other rows
    assert b.towers is not a and c.towers is not a


@pytest.mark.parametrize("xla", [True, False], ids=["compiled", "traced"])
def test_a_new_validation_pass_is_traced_in_the_background_once_with_the_same_fit(
        small_data, monkeypatch, xla):
    """The validation pass of new towers is traced beside the first training call (in
    another thread, once), and the fit is the one a trace in this thread gives."""
    import threading

    cfg = TINY.with_overrides({"hidden": [24, 12], "epochs": 2, "dropout": "dropout",
                               "dropout_rate": 0.3})
    rows, y, train, val = _rows(small_data), small_data.y_train, [np.arange(400)] * 2, \
        [np.arange(400, 600)] * 2
    where: list[str] = []
    traced = loop._Passes._trace_validation
    monkeypatch.setattr(loop._Passes, "_trace_validation",
                        lambda self: (where.append(threading.current_thread().name),
                                      traced(self)))
    loop._REUSABLE.clear()
    background = loop.fit_towers(cfg, rows, y, train, val, [3, 4], 10, xla=xla)
    passes = loop._REUSABLE[next(iter(loop._REUSABLE))][1]
    assert where == ["hpsearch-trace-validation"]
    assert passes.validate.experimental_get_tracing_count() == 1
    assert all(len(run.history["val_loss"]) == 2 for run in background.runs)

    monkeypatch.setattr(loop._Passes, "_trace_validation", lambda self: None)
    loop._REUSABLE.clear()
    here = loop.fit_towers(cfg, rows, y, train, val, [3, 4], 10, xla=xla)
    for a, b in zip(background.runs, here.runs, strict=True):
        assert a.history == b.history
    loop._REUSABLE.clear()
