"""`input_scaling="standard"`: each fit standardises its inputs on its own training rows (a CV
fold's only, the final fit's on all of them), the sd floored; the exported file folds it into
its first layer and reads the data set's rows unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import hpsearch as hp
from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.data.features import INPUT_SD_FLOOR, input_standard
from hpsearch.errors import ConfigError
from hpsearch.training.evaluate import Protocol, evaluate_seeds, split_indices
from hpsearch.training.towers import predict_rows, to_sequential

CFG = ModelConfig(hidden=(8,), epochs=1, batch_size=32, input_scaling="standard")


def pixels(n: int = 90, seed: int = 0) -> Dataset:
    """Pixel-like data (no learned feature scaling); pixel 0 is nearly constant."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 3, 3)) / 255.0
    x[:, 0, 0] = 0.0
    x[0, 0, 0] = 0.02  # one image lights the corner, faintly: sd ~0.002, floored
    return Dataset("px", x.astype(np.float32), np.arange(n) % 3,
                   (rng.integers(0, 256, (12, 3, 3)) / 255.0).astype(np.float32),
                   np.arange(12) % 3)


@pytest.mark.parametrize("protocol", [Protocol.kfold(3), Protocol.holdout(0.25),
                                      Protocol.train_test(0.0)],
                         ids=["kfold", "holdout", "final fit"])
def test_each_fit_standardises_on_its_own_training_rows(protocol):
    data = pixels()
    _, outcome = evaluate_seeds(CFG, data, protocol, [0], keep_model=True)
    seen = np.asarray(outcome.towers.inputs(data.x_train.reshape(len(data.x_train), -1)))
    for j, (train, _) in enumerate(split_indices(protocol, data.y_train, 0)):
        rows = data.x_train.reshape(len(data.x_train), -1)[train].astype(np.float64)
        spread = np.maximum(rows.std(axis=0), INPUT_SD_FLOOR)
        np.testing.assert_allclose(seen[j], (data.x_train.reshape(len(data.x_train), -1)
                                             - rows.mean(axis=0)) / spread, atol=1e-5)
        # every input but the floored corner has mean 0 and sd 1 on the training rows
        np.testing.assert_allclose(seen[j][train].mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(seen[j][train][:, 1:].std(axis=0), 1, atol=1e-4)


def test_the_floor_keeps_a_rare_input_from_blowing_up():
    rows = np.zeros((1000, 2), np.float32)
    rows[:, 1] = np.arange(1000) % 2
    rows[0, 0] = 1.0  # lit in one image of 1000: sd 0.032
    shift, factor = input_standard(rows, [np.arange(1000), np.arange(1, 1000)])
    assert factor[0].tolist() == pytest.approx([INPUT_SD_FLOOR, 0.5])
    assert ((1.0 - shift[0, 0]) / factor[0, 0]) == pytest.approx(19.98)  # 31.6 sds unfloored
    # the second fit never saw the lit image: a constant input keeps the floor, not 0
    assert shift[1, 0] == 0 and factor[1, 0] == pytest.approx(INPUT_SD_FLOOR)


def test_a_kept_model_folds_the_scaling_into_its_first_layer():
    data = pixels()
    _, outcome = evaluate_seeds(CFG, data, Protocol.kfold(3), [0], keep_model=True)
    for j in range(3):
        model = to_sequential(CFG, outcome.towers, j, data.input_shape, data.num_classes)
        assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense", "Dense"]
        np.testing.assert_allclose(model.predict(data.x_test, verbose=0),
                                   predict_rows(outcome.towers, data.x_test)[:, j], atol=1e-5)


def test_standardised_inputs_learn_what_raw_inputs_barely_move():
    """Two informative inputs squeezed to a 1e-3 spread around 5: a small network hardly
    moves on them as given, and learns them once each input is standardised."""
    rng = np.random.default_rng(1)
    z = rng.normal(size=(1200, 2))
    y = (z[:, 0] + z[:, 1] > 0).astype(int)
    x = (5 + 1e-3 * z).astype(np.float32)
    data = hp.Dataset.from_arrays(x[:1000], y[:1000], x[1000:], y[1000:], scale="none")
    base = ModelConfig(hidden=(8,), optimizer="adam", learning_rate=0.01, epochs=10,
                       batch_size=32)
    cv = hp.cross_validate({"none": base, "standard": base.replace(input_scaling="standard")},
                           data, folds=2, seed=0, quiet=True)
    scores = {name: np.mean(values) for name, values in cv.scores().items()}
    assert scores["standard"] > 0.85 and scores["none"] < 0.7, scores


def test_the_knob_is_named_in_configs_and_refused_when_unknown():
    assert ModelConfig().input_scaling == "none"  # outside the search: the rows as given
    assert "standard inputs" in CFG.describe()
    assert ModelConfig.from_dict({"hidden": [4]}).input_scaling == "none"  # older configs
    with pytest.raises(ConfigError, match="input_scaling 'zscore' is not supported; choose "
                                          "one of none, standard"):
        ModelConfig(input_scaling="zscore")


def test_the_default_space_pins_standard_and_a_space_file_searches_it(tmp_path):
    from hpsearch.search.space import build_space

    space = build_space()
    assert space.to_config({}).input_scaling == "standard"  # every trial, the warm start too
    assert "input_scaling" not in space.searched()
    file = tmp_path / "space.toml"
    file.write_text('[input_scaling]\nvalues = ["none", "standard"]\ndefault = "none"\n')
    searched = build_space(file)
    assert "input_scaling" in searched.searched()
    assert searched.to_config({}).input_scaling == "none"
    assert searched.to_config({"input_scaling": "standard"}).input_scaling == "standard"


def test_a_folds_statistics_are_kept_while_its_rows_live():
    """Every trial of a tune fits the same folds: their statistics are computed once (~0.4 s a
    fold on full Fashion-MNIST), told apart by the fold's rows, and go with the data."""
    import gc

    from hpsearch.data import features

    rows = np.random.default_rng(0).random((100, 3)).astype(np.float32)
    first = input_standard(rows, [np.arange(50), np.arange(50, 100)])
    assert len(features._SPREADS[id(rows)]) == 2
    again = input_standard(rows, [np.arange(50, 100)])
    np.testing.assert_array_equal(again[0][0], first[0][1])  # the same fold: its own numbers
    np.testing.assert_allclose(again[0][0], rows[50:].mean(axis=0), rtol=1e-6)
    assert len(features._SPREADS[id(rows)]) == 2  # read, not computed again
    key = id(rows)
    del rows
    gc.collect()
    assert key not in features._SPREADS
