"""The one builder: k towers of a config, and the plain Sequential a kept tower becomes."""

from __future__ import annotations

import numpy as np
import pytest

from hpsearch.config import PRESETS, ModelConfig
from hpsearch.training.evaluate import Protocol, evaluate
from hpsearch.training.rows import shared_rows
from hpsearch.training.towers import (
    build_towers,
    layer_plan,
    predict_rows,
    to_sequential,
    tower_weights,
)

TINY = PRESETS["model1"].with_overrides({"hidden": [16], "epochs": 1, "batch_size": 64})
ROWS = np.random.default_rng(0).random((30, 784)).astype("float32")


def _sequential(cfg: ModelConfig, seeds=(0,), j: int = 0):
    towers = build_towers(cfg, shared_rows(ROWS), list(seeds), 10)
    return towers, to_sequential(cfg, towers, j, (28, 28), 10)


def dense_units(model):
    return [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]


@pytest.mark.parametrize("name, units", [
    ("model1", [64, 32, 10]), ("model2", [128, 64, 32, 10]), ("model3", [256, 128, 10]),
    ("model_d", [128, 128, 128, 128, 10]),
])
def test_presets_build_the_lab_architectures(name, units):
    cfg = PRESETS[name]
    _, model = _sequential(cfg)
    assert dense_units(model) == units and model.output_shape == (None, 10)
    assert model.layers[-1].activation.__name__ == "softmax"
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert {layer.activation.__name__ for layer in hidden} == {cfg.activation}
    assert model.optimizer.__class__.__name__.lower() == cfg.optimizer
    expected_lr = 0.01 if cfg.learning_rate else 0.001  # model_d uses Adam's default
    assert float(model.optimizer.learning_rate) == pytest.approx(expected_lr)


def test_activity_regularizer_only_on_the_chosen_layers_and_kernel_on_every_layer():
    cfg = PRESETS["model_d"].with_overrides(
        {"activity_regularizer": "l2", "activity_rate": 0.001, "kernel_regularizer": "l1_l2",
         "kernel_rate": 1e-4})
    _, model = _sequential(cfg)
    kinds = [type(layer.activity_regularizer).__name__ if layer.activity_regularizer else None
             for layer in model.layers if layer.name.startswith("hidden_")]
    assert kinds == ["L2", "L2", None, None]
    assert dense_units(model) == [128, 128, 128, 128, 10]  # same depth as the base
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert all(type(layer.kernel_regularizer).__name__ == "L1L2" for layer in dense)


@pytest.mark.parametrize("kind, cls", [("dropout", "Dropout"), ("gaussian", "GaussianDropout")])
def test_dropout_sits_before_the_output_layer_or_after_every_hidden_layer(kind, cls):
    cfg = PRESETS["model_d"].with_overrides({"dropout": kind, "dropout_rate": 0.2})
    names = [layer.__class__.__name__ for layer in _sequential(cfg)[1].layers]
    assert names[-2:] == [cls, "Dense"] and names.count(cls) == 1
    every = cfg.with_overrides({"dropout_position": "every_hidden"})
    assert [s.kind for s in layer_plan(every, 10)].count("dropout") == 4


def test_towers_start_from_the_weights_a_seeded_keras_dense_draws():
    from keras import initializers

    towers = build_towers(TINY, shared_rows(ROWS), [3, 4], 10)
    kernel = initializers.GlorotUniform(seed=4 * 1009 + 0)((784, 16))
    np.testing.assert_array_equal(tower_weights(towers, 1)[0], np.asarray(kernel))
    again = build_towers(TINY, shared_rows(ROWS), [3], 10)
    assert all((a == b).all() for a, b in zip(tower_weights(towers, 0),
                                              tower_weights(again, 0), strict=True))
    assert not (tower_weights(towers, 0)[0] == tower_weights(towers, 1)[0]).all()


def test_a_tower_reads_only_its_own_column_and_its_sequential_predicts_the_same():
    towers = build_towers(TINY, shared_rows(ROWS), [1, 2, 3], 10)
    idx = np.array([[0, 1, 2], [3, 4, 5]], dtype="int32")
    changed = idx.copy()
    changed[:, 0] = [7, 9]
    before, after = np.asarray(towers(idx)), np.asarray(towers(changed))
    assert before.shape == (2, 3, 10)  # (batch, tower, class)
    assert not np.allclose(before[:, 0], after[:, 0])
    for tower in (1, 2):
        np.testing.assert_array_equal(before[:, tower], after[:, tower])
    single = to_sequential(TINY, towers, 1, (784,), 10)
    logits = before[:, 1]  # softmax towers output logits (the loss is from_logits)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(single.predict(ROWS[[1, 4]], verbose=0), probabilities,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict_rows(towers, ROWS[[1, 4]])[:, 1], probabilities,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["dropout", "gaussian"])
def test_dropout_masks_are_drawn_per_tower(kind):
    cfg = TINY.with_overrides({"dropout": kind, "dropout_rate": 0.5})
    towers = build_towers(cfg, shared_rows(ROWS), [1, 2, 3], 10)
    layer = next(layer for layer in towers.stack if not hasattr(layer, "kernel"))
    out = np.asarray(layer(np.ones((3, 64, 16), "float32"), training=True))
    assert not np.array_equal(out[0], out[1]) and not np.array_equal(out[1], out[2])


def test_a_refit_saved_and_reloaded_in_plain_keras_predicts_the_same(small_data, tmp_path):
    import keras

    cfg = TINY.with_overrides({"epochs": 2, "dropout": "gaussian", "dropout_rate": 0.3,
                               "activity_regularizer": "l1", "activity_rate": 1e-5,
                               "activity_layers": [0]})
    result, model = evaluate(cfg, small_data, Protocol.train_test(), seed=0, keep_model=True)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded).__name__ == "Sequential"
    np.testing.assert_allclose(loaded.predict(small_data.x_test, verbose=0),
                               model.predict(small_data.x_test, verbose=0), rtol=1e-6)
    accuracy = np.mean(loaded.predict(small_data.x_test, verbose=0).argmax(1)
                       == small_data.y_test)
    assert accuracy == pytest.approx(result.test_accuracy, abs=1e-9)


@pytest.mark.parametrize("output, loss", [("sigmoid", "binary_crossentropy"),
                                          ("softmax", "mean_squared_error"),
                                          ("linear", "mean_squared_error"),
                                          ("sigmoid", "categorical_crossentropy"),
                                          ("softmax", "binary_crossentropy")])
def test_every_lab_loss_and_output_trains_as_keras_and_reports_argmax_accuracy(small_data,
                                                                              output, loss):
    """Full batch from the same weights: the towers follow Keras' own loss on one-hot labels
    step for step, and the accuracy is the 10-class one (Keras' categorical_accuracy)."""
    import keras

    from hpsearch.training.towers import make_optimizer

    cfg = TINY.with_overrides({"epochs": 3, "output_activation": output, "loss": loss,
                               "optimizer": "adam", "learning_rate": 1e-2, "batch_size": 1024})
    result, model = evaluate(cfg, small_data, Protocol.train_test(), seed=0, keep_model=True)
    fresh = build_towers(cfg, shared_rows(small_data.x_train.reshape(600, -1)), [0], 10)
    plain = to_sequential(cfg, fresh, 0, small_data.input_shape, 10)
    plain.compile(optimizer=make_optimizer(cfg), loss=loss, metrics=["categorical_accuracy"])
    history = plain.fit(small_data.x_train, keras.utils.to_categorical(small_data.y_train, 10),
                        batch_size=600, epochs=3, shuffle=False, verbose=0).history
    ours = result.folds[0].history
    assert ours["loss"] == pytest.approx(history["loss"], rel=1e-4)
    assert ours["accuracy"] == pytest.approx(history["categorical_accuracy"], abs=1e-6)
    predictions = model.predict(small_data.x_test, verbose=0)
    accuracy = np.mean(predictions.argmax(axis=1) == small_data.y_test)
    assert result.test_accuracy == pytest.approx(accuracy, abs=1e-9)  # 10-class, not binary
