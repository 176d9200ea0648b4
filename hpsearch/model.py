"""`build_model(cfg)`: the only place a Keras model is made.

Keeping construction in one function means a regularizer or dropout layer can only end up where
the config says, so two variants differ in exactly the field that was changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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


def schedule_callbacks(cfg: ModelConfig) -> list[Any]:
    """The learning-rate schedule as a Keras callback (none for a constant rate).

    Cosine annealing per epoch, lr_e = lr * (1 + cos(pi * e / epochs)) / 2, ends near 0 at the
    epoch budget: on Fashion-MNIST MLPs it is worth ~1 point of accuracy over a constant rate
    at the same number of epochs (docs/TUNE.md). It needs no step count, so a fit, the
    stacked folds and a refit share it; a refit for E epochs anneals over those E epochs.
    """
    if cfg.lr_schedule == "constant":
        return []
    import math

    import keras

    class CosineEpochs(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.base = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            factor = 0.5 * (1.0 + math.cos(math.pi * min(epoch, cfg.epochs) / cfg.epochs))
            self.model.optimizer.learning_rate = self.base * factor

        def on_train_end(self, logs: Any = None) -> None:
            self.model.optimizer.learning_rate = self.base  # a saved model keeps its base rate

    return [CosineEpochs()]


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


# ------------------------------------------------------------------ k folds as k towers
def _stack_layers() -> tuple[type, type, type, type]:
    """Keras layers for `build_fold_stack`, defined lazily (no module-level TF import)."""
    import keras
    from keras import initializers, ops

    class Rows(keras.layers.Layer):
        """Looks up examples by index in a non-trainable copy of the training rows, so each
        step moves k small index columns instead of k copies of the images. The copy is
        shared by every trial on the same array (`shared_rows`)."""

        def __init__(self, rows: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._table = [shared_rows(rows)]

        def call(self, idx: Any) -> Any:  # (batch, k) -> (k, batch, features)
            import tensorflow as tf

            # tf.gather on the variable itself is a ResourceGather of the batch's rows;
            # keras.ops.take first reads the whole variable as a tensor (a 188 MB copy per
            # step on full data: 117 s instead of a few seconds per epoch).
            return tf.gather(self._table[0], tf.transpose(idx), axis=0)

    class TowerDense(keras.layers.Layer):
        """k independent Dense layers: kernel (k, in, out), one batched matmul per step.

        Tower j's kernel is drawn exactly as a standalone `Dense` seeded with `seeds[j]`
        would draw it. The activity penalty is divided by the batch size (axis 1 here),
        as Keras does for a standalone layer; summed over towers, each tower's gradient is
        its standalone gradient.
        """

        def __init__(self, units: int, seeds: list[int], activation: str | None,
                     kernel_regularizer: Any, activity: Any, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units, self.seeds = units, seeds
            self.activation = keras.activations.get(activation)
            self.kernel_regularizer, self.activity = kernel_regularizer, activity

        def build(self, input_shape: Any) -> None:
            k, fan_in = len(self.seeds), int(input_shape[-1])
            self.kernel = self.add_weight(shape=(k, fan_in, self.units), initializer="zeros",
                                          regularizer=self.kernel_regularizer, name="kernel")
            self.bias = self.add_weight(shape=(k, 1, self.units), initializer="zeros",
                                        name="bias")
            self.kernel.assign(ops.stack([initializers.GlorotUniform(seed=s)(
                (fan_in, self.units)) for s in self.seeds]))

        def call(self, x: Any) -> Any:
            out = self.activation(ops.matmul(x, self.kernel) + self.bias)
            if self.activity is not None:
                self.add_loss(self.activity(out) / ops.cast(ops.shape(out)[1], out.dtype))
            return out

    class TowersLast(keras.layers.Layer):
        """(k, batch, classes) -> (batch, k, classes): batches split and concatenate on axis 0
        in fit and predict, so the batch must lead."""

        def call(self, x: Any) -> Any:
            return ops.transpose(x, (1, 0, 2))

    class TowerScores(keras.metrics.Metric):
        """Per-tower weighted sums of cross-entropy, correct answers and weights over an epoch.

        One (k,) vector each instead of a loss tracker and an accuracy metric per tower: far
        fewer graph ops per step, and each result is the weighted mean over the epoch's real
        (weight > 0) examples, which is what a standalone fold's metrics report."""

        def __init__(self, k: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.k = k
            self.sums = [self.add_variable(shape=(k,), initializer="zeros", name=name)
                         for name in ("cross_entropy", "correct", "weight")]

        def update_state(self, batch_sums: tuple[Any, Any, Any]) -> None:
            """Adds one batch's (k,) sums of weighted cross-entropy, weighted correct answers
            and weights (padded rows have weight 0 and count for nothing)."""
            for total, value in zip(self.sums, batch_sums, strict=True):
                total.assign_add(value)

        def result(self) -> dict[str, Any]:
            cross_entropy, correct, weight = self.sums
            weight = ops.maximum(weight, 1e-12)
            loss, accuracy = cross_entropy / weight, correct / weight
            out = {}
            for j in range(self.k):
                out[f"{tower_name(j)}_loss"] = loss[j]
                out[f"{tower_name(j)}_accuracy"] = accuracy[j]
            return out

        def reset_state(self) -> None:
            for total in self.sums:
                total.assign(ops.zeros_like(total))

    class StackModel(keras.Model):
        """The towers' training and validation step, written out (Keras' documented way to
        customise `fit`): one vectorised cross-entropy and accuracy over all towers instead
        of k compiled losses and k weighted metrics, which made up most of a small net's
        graph (its tracing time and its per-step op count).

        Each tower's loss is its weighted mean cross-entropy over the batch; the total is their
        sum plus the regularization penalties, so each tower's gradient is its standalone one.
        """

        def __init__(self, *args: Any, from_logits: bool = True, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.from_logits = from_logits
            self.total_loss = keras.metrics.Mean(name="loss")
            self.scores = TowerScores(int(self.outputs[0].shape[1]), name="towers")

        @property
        def metrics(self) -> list[Any]:
            return [self.total_loss, self.scores]

        def _scores(self, data: Any, training: bool) -> Any:
            """Updates the epoch's scores; returns the sum of the towers' mean losses."""
            idx, labels, weight = keras.utils.unpack_x_y_sample_weight(data)
            out = self(idx, training=training)  # (batch, k, classes)
            labels = ops.cast(labels, "int32")
            cross_entropy = ops.sparse_categorical_crossentropy(
                labels, out, from_logits=self.from_logits)  # (batch, k)
            weight = ops.ones_like(cross_entropy) if weight is None else \
                ops.cast(weight, cross_entropy.dtype)
            correct = ops.cast(ops.equal(ops.cast(ops.argmax(out, axis=-1), "int32"), labels),
                               cross_entropy.dtype)
            loss_sum, weight_sum = (ops.sum(cross_entropy * weight, axis=0),
                                    ops.sum(weight, axis=0))
            self.scores.update_state((loss_sum, ops.sum(correct * weight, axis=0), weight_sum))
            return ops.sum(loss_sum / ops.maximum(weight_sum, 1e-12))

        def train_step(self, data: Any) -> dict[str, Any]:
            import tensorflow as tf

            with tf.GradientTape() as tape:
                loss = self._scores(data, training=True)
                if self.losses:
                    loss = loss + ops.sum(ops.stack(self.losses))
            variables = self.trainable_variables
            self.optimizer.apply(tape.gradient(loss, variables), variables)
            self.total_loss.update_state(loss)
            return self.get_metrics_result()

        def test_step(self, data: Any) -> dict[str, Any]:
            loss = self._scores(data, training=False)
            self.total_loss.update_state(loss)
            return self.get_metrics_result()

    return Rows, TowerDense, TowersLast, StackModel


_SHARED_ROWS: dict[str, Any] = {}


def shared_rows(rows: Any) -> Any:
    """The `tf.Variable` copy of `rows` that fold stacks read, made once per array.

    Copying full Fashion-MNIST into a variable takes ~0.5 s, once per trial before. One copy
    also bounds memory: TensorFlow keeps traced functions (and what they captured) alive after
    `clear_session`, so a copy per trial stayed alive per trial. When another array comes,
    the old copy is shrunk to nothing (a function still holding it keeps only the handle).
    """
    import hashlib
    import weakref

    import tensorflow as tf

    base = rows
    while isinstance(getattr(base, "base", None), np.ndarray):
        base = base.base
    # Where the rows live, their layout, and a fingerprint of every ~256th row: an array
    # changed in place between trials is re-copied when the change touches a sampled row.
    sample = np.ascontiguousarray(rows[:: max(1, len(rows) // 256)])
    key = (rows.__array_interface__["data"][0], rows.shape, rows.strides, rows.dtype.str,
           hashlib.blake2b(sample.tobytes(), digest_size=16).hexdigest())
    held = _SHARED_ROWS.get("source")
    if held is not None and held() is base and _SHARED_ROWS["key"] == key:
        return _SHARED_ROWS["table"]
    if "table" in _SHARED_ROWS:
        old = _SHARED_ROWS["table"]
        old.assign(tf.zeros((0, old.shape[1]), old.dtype))
    table = tf.Variable(rows, trainable=False, name="rows",
                        shape=tf.TensorShape([None, rows.shape[1]]))
    _SHARED_ROWS.update(source=weakref.ref(base), key=key, table=table)
    return table


def tower_name(j: int) -> str:
    return f"fold_{j}"


def build_fold_stack(cfg: ModelConfig, rows: Any, seeds: list[int], num_classes: int) -> Any:
    """k = len(seeds) copies of `build_model(cfg, seed=seeds[j])` trained side by side.

    Input: (batch, k) row indices into `rows` (the flattened training images); tower j
    reads column j only, so each tower sees only its own fold's training rows. Output
    (batch, k, classes): [:, j] is tower j's class scores (logits when the output activation
    is softmax); labels and sample weights are (batch, k) in the same way.
    Layers, initial weights, regularizers and dropout per tower match `build_model`; one loss
    per tower, so the total loss is the sum of the towers' mean losses and each tower's
    gradient is its standalone gradient.
    """
    import keras

    _quiet_tensorflow()
    rows_layer, tower_dense, towers_last, stack_model = _stack_layers()
    kernel_reg = _regularizer(cfg.kernel_regularizer, cfg.kernel_rate)
    idx = keras.Input(shape=(len(seeds),), dtype="int32")
    x = rows_layer(rows, name="rows")(idx)
    last = len(cfg.hidden) - 1
    for index, units in enumerate(cfg.hidden):
        activity = (_regularizer(cfg.activity_regularizer, cfg.activity_rate)
                    if index in cfg.activity_layers else None)
        x = tower_dense(units, [s * 1009 + index for s in seeds], cfg.activation, kernel_reg,
                        activity, name=f"hidden_{index}")(x)
        if cfg.dropout != "none" and (cfg.dropout_position == "every_hidden" or index == last):
            x = _dropout_layer(cfg, seeds[0] * 1013 + index)(x)
    # Keras computes a softmax model's cross-entropy from the logits (unbounded, stable); the
    # towers are split after the last layer, which would hide them, so pass logits explicitly.
    from_logits = cfg.output_activation == "softmax"
    x = tower_dense(num_classes, [s * 1009 + 997 for s in seeds],
                    None if from_logits else cfg.output_activation, kernel_reg, None,
                    name="output")(x)
    model = stack_model(idx, towers_last(name="towers")(x), from_logits=from_logits,
                        name="hpsearch_fold_stack")
    model.compile(optimizer=make_optimizer(cfg))  # trained by fold_stack's own pass loop
    return model


def tower_weights(model: Any, j: int) -> list[Any]:
    """Tower j's weights in `build_model`'s order and shapes (kernel, bias per layer)."""
    out = []
    for layer in model.layers:
        if layer.name.startswith(("hidden_", "output")):
            out += [layer.kernel.numpy()[j], layer.bias.numpy()[j, 0]]
    return out
