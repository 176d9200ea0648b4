"""Label smoothing: the towers train on Keras' smoothed targets, a reused set of towers takes
a new amount, and bad values are refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

from hpsearch.config import PRESETS, ModelConfig
from hpsearch.errors import ConfigError, SpaceError
from hpsearch.search.space import build_space
from hpsearch.training import loop
from hpsearch.training.evaluate import Protocol, evaluate
from hpsearch.training.rows import shared_rows
from hpsearch.training.towers import build_towers, example_losses, to_sequential

FULL_BATCH = PRESETS["model1"].with_overrides({
    "hidden": [16], "epochs": 3, "batch_size": 1024, "optimizer": "adam",
    "learning_rate": 1e-2, "label_smoothing": 0.1})


@pytest.mark.parametrize("output, loss, keras_loss", [
    ("softmax", "categorical_crossentropy", "CategoricalCrossentropy"),
    ("sigmoid", "binary_crossentropy", "BinaryCrossentropy")])
def test_smoothed_towers_train_as_keras_smoothed_losses(small_data, output, loss, keras_loss):
    """Full batch from the same weights: each epoch's loss is Keras' own loss with
    `label_smoothing` on one-hot labels, step for step."""
    import keras

    from hpsearch.training.towers import make_optimizer

    cfg = FULL_BATCH.with_overrides({"output_activation": output, "loss": loss})
    result = evaluate(cfg, small_data, Protocol.train_test(), seed=0)
    fresh = build_towers(cfg, shared_rows(small_data.x_train.reshape(600, -1)), [0], 10)
    plain = to_sequential(cfg, fresh, 0, small_data.input_shape, 10)
    plain.compile(optimizer=make_optimizer(cfg),
                  loss=getattr(keras.losses, keras_loss)(label_smoothing=0.1))
    history = plain.fit(small_data.x_train, keras.utils.to_categorical(small_data.y_train, 10),
                        batch_size=600, epochs=3, shuffle=False, verbose=0).history
    assert result.folds[0].history["loss"] == pytest.approx(history["loss"], rel=1e-4)
    unsmoothed = evaluate(cfg.replace(label_smoothing=0.0), small_data,
                          Protocol.train_test(), seed=0)
    assert unsmoothed.folds[0].history["loss"][0] != pytest.approx(history["loss"][0],
                                                                   rel=1e-3)


def test_mean_squared_error_compares_the_outputs_with_smoothed_targets():
    cfg = ModelConfig(output_activation="softmax", loss="mean_squared_error",
                      label_smoothing=0.2)
    out = np.array([[[0.7, 0.2, 0.1]]], np.float32)  # (batch, k, classes)
    target = np.array([0.2 / 3, 0.8 + 0.2 / 3, 0.2 / 3])
    expected = np.mean((target - out[0, 0]) ** 2)
    assert float(np.asarray(example_losses(cfg, np.array([[1]]), out))[0, 0]) == \
        pytest.approx(expected, rel=1e-6)


def test_reused_towers_take_the_new_amount_and_off_keeps_the_plain_loss(small_data):
    """A fit of the same shapes restarts the last fit's towers: the amount lives in a
    variable, so the reused towers must compute what fresh ones compute."""
    cfg = FULL_BATCH.with_overrides({"hidden": [12], "epochs": 2})

    def fit(smoothing, fresh):
        if fresh:
            loop._REUSABLE.clear()
        return evaluate(cfg.replace(label_smoothing=smoothing), small_data,
                        Protocol.kfold(2), seed=3).folds[0].history["loss"]

    before = fit(0.05, fresh=True)
    reused = fit(0.2, fresh=False)
    assert reused[-1] != pytest.approx(before[-1], abs=1e-3)  # not the old amount
    assert reused == pytest.approx(fit(0.2, fresh=True), abs=1e-7)
    after_smoothing = fit(0.0, fresh=False)
    assert after_smoothing == pytest.approx(fit(0.0, fresh=True), abs=1e-7)


@pytest.mark.parametrize("value", [-0.1, 1.0, 2])
def test_an_amount_outside_zero_to_one_is_refused(value):
    with pytest.raises(ConfigError, match="label_smoothing must be in"):
        ModelConfig(label_smoothing=value)


def test_the_default_space_pins_a_tenth_and_a_space_file_searches_it(tmp_path):
    space = build_space()
    assert space.knobs["label_smoothing"].values == (0.1,)  # docs/SEARCH.md, lever e
    assert space.to_config({}).label_smoothing == 0.1  # every trial, the warm start too
    assert ModelConfig().label_smoothing == 0.0  # a config outside the search: Keras' default
    searched = tmp_path / "searched.toml"
    searched.write_text("[label_smoothing]\nmin = 0.0\nmax = 0.2\n")
    space = build_space(searched)
    assert space.to_config({}).label_smoothing == 0.1  # the warm start keeps the default
    assert space.to_config({"label_smoothing": 0.0}).label_smoothing == 0.0
    bad = tmp_path / "space.toml"
    bad.write_text("[label_smoothing]\nmin = 0.0\nmax = 1.5\n")
    with pytest.raises(SpaceError, match=r"label_smoothing must be in \[0, 1\)"):
        build_space(bad)
