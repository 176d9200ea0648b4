"""evaluate: folds split only the training data, every fold starts from a fresh model."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from hpsearch.config import PRESETS
from hpsearch.errors import ConfigError, TrialFailed
from hpsearch.evaluate import Protocol, evaluate, fold_seed, split_indices, weights_digest
from hpsearch.model import build_model

TINY = PRESETS["model1"].with_overrides({"hidden": [16], "epochs": 1, "batch_size": 64})


def test_kfold_splits_are_disjoint_stratified_and_cover_training_data():
    y = np.repeat(np.arange(10), 30)
    splits = split_indices(Protocol.kfold(5), y, seed=1)
    assert len(splits) == 5
    validation = np.concatenate([val for _, val in splits])
    assert sorted(validation.tolist()) == list(range(len(y)))  # each example validated once
    for train, val in splits:
        assert not set(train) & set(val)
        assert len(train) + len(val) == len(y)
        assert np.bincount(y[val]).tolist() == [6] * 10
    assert [v.tolist() for _, v in split_indices(Protocol.kfold(5), y, 1)] == \
        [v.tolist() for _, v in splits]  # seeded: same folds for every config (paired)


def test_cv_never_reads_the_test_set(small_data):
    poisoned = replace(small_data, x_test=np.full_like(small_data.x_test, np.nan))
    result = evaluate(TINY, poisoned, Protocol.kfold(3), seed=0)
    assert len(result.folds) == 3 and result.test_accuracy is None
    assert all(math.isfinite(f.val_loss) for f in result.folds)
    assert sum(f.n_val for f in result.folds) == len(small_data.y_train)


def test_every_fold_starts_from_a_fresh_model(small_data):
    result = evaluate(TINY, small_data, Protocol.kfold(3), seed=5)
    digests = [f.init_digest for f in result.folds]
    assert len(set(digests)) == 3
    for fold in result.folds:  # exactly the weights a brand-new model gets for that fold
        fresh = build_model(TINY, small_data.input_shape, 10, seed=fold_seed(5, fold.fold))
        assert weights_digest(fresh) == fold.init_digest
    assert 0 <= result.std_val_accuracy < 0.2 and 0.1 < result.mean_val_accuracy <= 1


def test_result_shape_and_history(small_data):
    cfg = TINY.with_overrides({"epochs": 2})
    result = evaluate(cfg, small_data, Protocol.kfold(2), seed=0)
    fold = result.folds[0]
    assert set(fold.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(fold.history["loss"]) == 2 and len(fold.epoch_times) == 2
    assert 1 <= fold.best_epoch <= 2 and fold.fit_time > 0
    payload = result.to_dict()
    assert payload["folds"][1]["val_accuracy"] == result.folds[1].val_accuracy
    assert payload["mean_val_accuracy"] == pytest.approx(
        np.mean([f.val_accuracy for f in result.folds]))


def test_train_test_protocol_reads_test_set_once(small_data):
    result = evaluate(TINY, small_data, Protocol.train_test(0.0), seed=0)
    assert result.folds[0].n_train == len(small_data.y_train) and result.folds[0].n_val == 0
    assert 0 < result.test_accuracy <= 1 and result.test_loss > 0


def test_on_fold_false_prunes(small_data):
    seen = []
    result = evaluate(TINY, small_data, Protocol.kfold(3), seed=0,
                      on_fold=lambda f: seen.append(f.fold) or False)
    assert result.status == "pruned" and len(result.folds) == 1 and seen == [0]


def test_diverging_loss_raises_trial_failed(small_data):
    wild = TINY.with_overrides({"learning_rate": 1e3, "optimizer": "sgd", "epochs": 3})
    with pytest.raises(TrialFailed, match="diverged in fold 1 .*lower the learning rate"):
        evaluate(wild, small_data, Protocol.kfold(2), seed=0)


def test_bad_protocols():
    with pytest.raises(ConfigError, match="--folds must be at least 2"):
        Protocol.kfold(1)
    with pytest.raises(ConfigError, match="cannot split"):
        split_indices(Protocol.kfold(50), np.repeat(np.arange(10), 3), 0)


def test_traced_graphs_of_earlier_fits_are_freed(small_data):
    """No training graph outlives its fit (TF's custom-gradient registry kept them all)."""
    import gc

    from tensorflow.python.framework import func_graph

    from hpsearch.evaluate import fresh_session

    cfg = replace(PRESETS["model2"], epochs=1, batch_size=64)

    def graphs_alive_after(fits: int) -> int:
        for seed in range(fits):
            evaluate(cfg, small_data, Protocol("kfold", folds=2), seed=seed)
        fresh_session()
        gc.collect()
        return sum(isinstance(o, func_graph.FuncGraph) for o in gc.get_objects())

    settled = graphs_alive_after(1)
    assert graphs_alive_after(3) <= settled  # 6 more fits, no more graphs
