"""build_model: each preset gets the right layers, shapes and regularizers."""

from __future__ import annotations

import pytest

from hpsearch.config import PRESETS
from hpsearch.model import build_model


def dense_units(model):
    return [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]


@pytest.mark.parametrize("name, units", [
    ("model1", [64, 32, 10]), ("model2", [128, 64, 32, 10]), ("model3", [256, 128, 10]),
    ("model_d", [128, 128, 128, 128, 10]),
])
def test_presets_build_the_lab_architectures(name, units):
    cfg = PRESETS[name]
    model = build_model(cfg, (28, 28), 10)
    assert dense_units(model) == units
    assert model.output_shape == (None, 10)
    assert model.layers[-1].activation.__name__ == "softmax"
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert {layer.activation.__name__ for layer in hidden} == {cfg.activation}
    assert model.optimizer.__class__.__name__.lower() == cfg.optimizer
    expected_lr = 0.01 if cfg.learning_rate else 0.001  # model_d uses Adam's default
    assert float(model.optimizer.learning_rate) == pytest.approx(expected_lr)


def test_activity_regularizer_only_on_the_chosen_layers():
    cfg = PRESETS["model_d"].with_overrides(
        {"activity_regularizer": "l2", "activity_rate": 0.001})
    model = build_model(cfg, (28, 28), 10)
    kinds = [type(layer.activity_regularizer).__name__ if layer.activity_regularizer else None
             for layer in model.layers if layer.name.startswith("hidden_")]
    assert kinds == ["L2", "L2", None, None]
    assert dense_units(model) == [128, 128, 128, 128, 10]  # same depth as the base
    assert all(layer.kernel_regularizer is None for layer in model.layers
               if hasattr(layer, "kernel_regularizer"))


def test_kernel_regularizer_on_every_dense_layer():
    cfg = PRESETS["model1"].with_overrides({"kernel_regularizer": "l1_l2", "kernel_rate": 1e-4})
    model = build_model(cfg, (28, 28), 10)
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert all(type(layer.kernel_regularizer).__name__ == "L1L2" for layer in dense)


@pytest.mark.parametrize("kind, cls", [("dropout", "Dropout"), ("gaussian", "GaussianDropout")])
def test_dropout_sits_before_the_output_layer(kind, cls):
    cfg = PRESETS["model_d"].with_overrides({"dropout": kind, "dropout_rate": 0.2})
    names = [layer.__class__.__name__ for layer in build_model(cfg, (28, 28), 10).layers]
    assert names[-2:] == [cls, "Dense"] and names.count(cls) == 1
    every = cfg.with_overrides({"dropout_position": "every_hidden"})
    names = [layer.__class__.__name__ for layer in build_model(every, (28, 28), 10).layers]
    assert names.count(cls) == 4


def test_same_seed_same_weights_other_seed_other_weights():
    cfg = PRESETS["model1"]
    a, b = build_model(cfg, (28, 28), 10, seed=3), build_model(cfg, (28, 28), 10, seed=3)
    c = build_model(cfg, (28, 28), 10, seed=4)
    assert all((x == y).all() for x, y in zip(a.get_weights(), b.get_weights(), strict=True))
    assert not (a.get_weights()[0] == c.get_weights()[0]).all()


def test_cosine_schedule_anneals_per_epoch_and_restores_the_base_rate():
    """lr_e = lr * (1 + cos(pi e / E)) / 2 at the start of epoch e; the model keeps lr after."""
    import math

    import keras
    import numpy as np

    from hpsearch.config import ModelConfig
    from hpsearch.model import schedule_callbacks

    cfg = ModelConfig(hidden=(8,), optimizer="adam", learning_rate=0.01, epochs=4,
                      lr_schedule="cosine")
    model = build_model(cfg, (6,), 3)
    seen: list[float] = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    x = np.random.default_rng(0).random((32, 6)).astype("float32")
    y = np.arange(32) % 3
    model.fit(x, y, epochs=4, batch_size=8, verbose=0,
              callbacks=[*schedule_callbacks(cfg), Record()])
    expected = [0.01 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    assert seen == pytest.approx(expected, rel=1e-6)
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == \
        pytest.approx(0.01)
    assert schedule_callbacks(cfg.with_overrides({"lr_schedule": "constant"})) == []
