"""`build_model(cfg)`: the only place a Keras model is made.

Keeping construction in one function means a regularizer or dropout layer can only end up where
the config says, so two variants differ in exactly the field that was changed.
"""

from __future__ import annotations

from typing import Any

from hpsearch.config import ModelConfig

# Several steps per tf.function call: far less Python overhead per batch on small MLPs, and the
# same updates in the same order, so what is learned does not change.
STEPS_PER_EXECUTION = 16


def _quiet_tensorflow() -> None:
    """TF's Python logger warns about retracing when many small models are built in a row,
    which is exactly what k-fold CV does; the warning is noise for our users."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")


def _regularizer(kind: str, rate: float) -> Any:
    from keras import regularizers

    if kind == "none":
        return None
    if kind == "l1":
        return regularizers.L1(rate)
    if kind == "l2":
        return regularizers.L2(rate)
    return regularizers.L1L2(l1=rate, l2=rate)


def _dropout_layer(cfg: ModelConfig, seed: int) -> Any:
    from keras import layers

    if cfg.dropout == "gaussian":
        return layers.GaussianDropout(cfg.dropout_rate, seed=seed)
    return layers.Dropout(cfg.dropout_rate, seed=seed)


def make_optimizer(cfg: ModelConfig) -> Any:
    """Optimizer by Keras name; `learning_rate=None` keeps the optimizer's own default."""
    from keras import optimizers

    optimizer = optimizers.get(cfg.optimizer)
    if cfg.learning_rate is None:
        return optimizer
    return type(optimizer)(learning_rate=cfg.learning_rate)


def loss_name(cfg: ModelConfig) -> str:
    """Labels are kept as integers, so categorical CE is computed by its sparse twin: the same
    loss value as categorical CE on one-hot labels, without materialising the one-hot matrix."""
    return "sparse_categorical_crossentropy"


def build_model(cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int,
                seed: int | None = None, compile_model: bool = True) -> Any:
    """A fresh, compiled `keras.Sequential` for `cfg`.

    `seed` fixes the initial weights and dropout masks (defaults to `cfg.seed`), so a fold or a
    repeat is reproducible and paired comparisons start from comparable weights.
    """
    import keras
    from keras import initializers, layers

    _quiet_tensorflow()
    seed = cfg.seed if seed is None else seed
    kernel_reg = _regularizer(cfg.kernel_regularizer, cfg.kernel_rate)
    model_layers: list[Any] = [keras.Input(shape=input_shape), layers.Flatten()]
    last = len(cfg.hidden) - 1
    for index, units in enumerate(cfg.hidden):
        activity = (_regularizer(cfg.activity_regularizer, cfg.activity_rate)
                    if index in cfg.activity_layers else None)
        model_layers.append(layers.Dense(
            units, activation=cfg.activation, name=f"hidden_{index}",
            kernel_initializer=initializers.GlorotUniform(seed=seed * 1009 + index),
            kernel_regularizer=kernel_reg, activity_regularizer=activity))
        if cfg.dropout != "none" and (cfg.dropout_position == "every_hidden" or index == last):
            model_layers.append(_dropout_layer(cfg, seed * 1013 + index))
    model_layers.append(layers.Dense(
        num_classes, activation=cfg.output_activation, name="output",
        kernel_initializer=initializers.GlorotUniform(seed=seed * 1009 + 997),
        kernel_regularizer=kernel_reg))
    model = keras.Sequential(model_layers, name="hpsearch_mlp")
    if compile_model:
        model.compile(optimizer=make_optimizer(cfg), loss=loss_name(cfg), metrics=["accuracy"],
                      steps_per_execution=STEPS_PER_EXECUTION)
    return model
