"""The Keras classes of the tower model (`towers.py` plans it; this module builds it).

Module-level classes, so they can be found, subclassed and type-checked; this module imports
TensorFlow at its top, so `towers.build_towers` imports it only when a model is built (never
on `import hpsearch`). `towers.py` holds the pure plan (layers, seeds, losses) both sides use.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import initializers, ops

from hpsearch.config import ModelConfig
from hpsearch.training.towers import (
    dropout_seed,
    example_losses,
    from_logits,
    kernel_seeds,
    layer_plan,
)


def scalar(layer: Any, name: str, value: float, dtype: str = "float32") -> Any:
    """A non-trainable scalar weight: a rate or seed a later fit of the same shapes may
    change without retracing (`Towers.restart`)."""
    return layer.add_weight(shape=(), initializer=initializers.Constant(value), dtype=dtype,
                            trainable=False, name=name)


class TowerPenalty:
    """Keras' L1 / L2 / L1L2 kernel penalty (the same sums) with its rate in a variable."""

    def __init__(self, kind: str, rate: Any) -> None:
        self.kind, self.rate = kind, rate

    def __call__(self, x: Any) -> Any:
        rate = ops.cast(self.rate, x.dtype)
        if self.kind == "l1":
            return rate * ops.sum(ops.absolute(x))
        if self.kind == "l2":
            return rate * ops.sum(ops.square(x))
        return (ops.convert_to_tensor(0.0, dtype=x.dtype) + rate * ops.sum(ops.absolute(x))
                + rate * ops.sum(ops.square(x)))


class TowerDense(keras.layers.Layer):
    """k independent Dense layers: kernel (k, in, out), one batched matmul per step.

    Tower j's kernel is drawn exactly as a standalone `Dense` seeded with `seeds[j]` would
    draw it. The kernel penalty is Keras' (`TowerPenalty`) over the stacked kernel, the sum
    of the towers' penalties. The activity penalty is each tower's Keras penalty, rate *
    sum|a| (L1) or rate * sum a^2 (L2) over its batch, divided by its batch size, as Keras
    divides it for a standalone layer; counted over the real (weight 1) rows only, so a
    padded batch costs what the standalone short batch costs. Summed over towers, each
    tower's gradient is its standalone gradient. Rates live in variables (`restart`).
    """

    def __init__(self, units: int, seeds: list[int], activation: str | None,
                 kernel_penalty: tuple[str, float], activity: tuple[str, float] | None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units, self.seeds = units, seeds
        self.activation = keras.activations.get(activation)
        self.kernel_penalty, self.activity = kernel_penalty, activity
        self.kernel_rate: Any = None  # variables, made by `build` where a penalty is
        self.activity_rate: Any = None

    def build(self, input_shape: Any) -> None:
        k, fan_in = len(self.seeds), int(input_shape[-1])
        kind, rate = self.kernel_penalty
        penalty = None
        if kind != "none":
            self.kernel_rate = scalar(self, "kernel_rate", rate)
            penalty = TowerPenalty(kind, self.kernel_rate)
        if self.activity is not None:
            self.activity_rate = scalar(self, "activity_rate", self.activity[1])
        self.kernel = self.add_weight(shape=(k, fan_in, self.units), initializer="zeros",
                                      regularizer=penalty, name="kernel")
        self.bias = self.add_weight(shape=(k, 1, self.units), initializer="zeros",
                                    name="bias")
        self.restart(self.seeds, rate, self.activity[1] if self.activity else 0.0)

    def restart(self, seeds: list[int], kernel_rate: float, activity_rate: float) -> None:
        """Fresh initial weights from `seeds` (as `build` draws them) and new rates."""
        fan_in = int(self.kernel.shape[1])
        self.seeds = seeds
        self.kernel.assign(ops.stack([initializers.GlorotUniform(seed=s)(
            (fan_in, self.units)) for s in seeds]))
        self.bias.assign(ops.zeros_like(self.bias))
        if self.kernel_rate is not None:
            self.kernel_rate.assign(kernel_rate)
        if self.activity_rate is not None:
            self.activity_rate.assign(activity_rate)

    def call(self, x: Any, weight: Any = None) -> Any:
        """(batch, in) or (k, batch, in) -> (k, batch, out); `weight` (k, batch) marks the
        real rows of a training batch (the activity penalty needs it)."""
        out = self.activation(ops.matmul(x, self.kernel) + self.bias)
        if self.activity is not None and weight is not None:
            size = ops.abs(out) if self.activity[0] == "l1" else ops.square(out)
            per_tower = ops.sum(ops.sum(size, axis=-1) * weight, axis=-1)
            self.add_loss(self.activity_rate * ops.sum(
                per_tower / ops.maximum(ops.sum(weight, axis=-1), 1.0)))
        return out


class TowerDropout(keras.layers.Layer):
    """Dropout (inverted, x / (1 - rate) on kept units) or Gaussian dropout (x times
    N(1, rate / (1 - rate))), as Keras' layers compute them, with masks drawn by
    TensorFlow's stateless Philox generator from (layer seed, step counter).

    Why not Keras' layers: under XLA on a CPU their random draws cost ~300 ms per step
    for a (2, 256, 512) tensor against ~2 ms for a stateless Philox draw, ten times the
    rest of the step. Each tower's masks are independent draws (they are different
    positions of one draw). The rate's constants and the seed live in variables
    (`restart`), holding the float32 values the constants had.
    """

    def __init__(self, kind: str, rate: float, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind, self.initial = kind, (float(rate), int(seed))

    def build(self, input_shape: Any) -> None:
        self.step = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                    trainable=False, name="step")
        self.seed = scalar(self, "seed", 0, "int32")
        self.threshold = scalar(self, "threshold", 0.0)  # rate: drop below it
        self.divisor = scalar(self, "divisor", 1.0)  # 1 - rate
        self.spread = scalar(self, "spread", 0.0)  # sqrt(rate / (1 - rate))
        self.restart(*self.initial)

    def restart(self, rate: float, seed: int) -> None:
        """A new rate and seed, and the step counter back at 0."""
        self.step.assign(0)
        self.seed.assign(int(seed) % (2 ** 31))
        self.threshold.assign(rate)
        self.divisor.assign(1.0 - rate)
        self.spread.assign((rate / (1.0 - rate)) ** 0.5)

    def call(self, x: Any, training: bool = False) -> Any:
        if not training:
            return x
        self.step.assign_add(1)
        seed = tf.stack([tf.convert_to_tensor(self.seed), tf.convert_to_tensor(self.step)])
        if self.kind == "gaussian":
            noise = tf.random.stateless_normal(tf.shape(x), seed, dtype=x.dtype,
                                               alg="philox")
            return x * (1.0 + self.spread * noise)
        keep = tf.random.stateless_uniform(tf.shape(x), seed, dtype=x.dtype,
                                           alg="philox") >= self.threshold
        return tf.where(keep, x / self.divisor, tf.zeros_like(x))


class TowerScores(keras.metrics.Metric):
    """Per-tower weighted sums of loss, correct answers and weights over an epoch.

    One (k,) vector each instead of a loss tracker and an accuracy metric per tower: far
    fewer graph ops per step. Each result is the weighted mean over the epoch's real
    (weight > 0) examples, which is what a standalone fit's metrics report. Accuracy is
    always the argmax (k-class) accuracy, whatever the loss.
    """

    def __init__(self, k: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = k
        self.sums = [self.add_variable(shape=(k,), initializer="zeros", name=name)
                     for name in ("loss", "correct", "weight")]

    def update_state(self, batch_sums: tuple[Any, Any, Any]) -> None:
        for total, value in zip(self.sums, batch_sums, strict=True):
            total.assign_add(value)

    def result(self) -> dict[str, Any]:
        loss, correct, weight = self.sums
        weight = ops.maximum(weight, 1e-12)
        return {"tower_loss": loss / weight, "tower_accuracy": correct / weight}

    def reset_state(self) -> None:
        for total in self.sums:
            total.assign(ops.zeros_like(total))


class Towers(keras.Model):
    """k towers of one config reading rows by index from one shared table.

    Input (batch, k) row indices into the training rows; tower j reads column j only, so
    each tower sees only its own rows. Output (batch, k, classes). The step is written out
    (Keras' documented way to customise training): one vectorised loss and accuracy over
    the towers; the total loss is the sum of the towers' mean losses plus the penalties.

    With `scaled`, tower j first rescales every row it reads, (x - shift_j) / factor_j:
    its fold's own feature scaling (`features.fold_scaling`), set by `set_inputs`.
    Without it (pixel data, the final refit) the graph has no such op.
    """

    def __init__(self, cfg: ModelConfig, table: Any, seeds: list[int], num_classes: int,
                 scaled: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cfg, self.k, self.logits = cfg, len(seeds), from_logits(cfg)
        self._table = [table]  # a list: Keras must not track the shared rows as a weight
        width = int(table.shape[1])
        # (shift, factor) variables, (k, 1, inputs); a list, like the table, untracked
        self._inputs = [tf.Variable(tf.fill((self.k, 1, width), value), trainable=False)
                        for value in (0.0, 1.0)] if scaled else []
        self.stack: list[Any] = []
        for spec in layer_plan(cfg, num_classes):
            if spec.kind == "dropout":
                layer = TowerDropout(cfg.dropout, cfg.dropout_rate,
                                     dropout_seed(seeds, spec.index), name=spec.name)
            else:
                activity = ((cfg.activity_regularizer, cfg.activity_rate)
                            if spec.activity and cfg.activity_regularizer != "none"
                            else None)
                activation = None if spec.name == "output" and self.logits \
                    else spec.activation
                layer = TowerDense(spec.units, kernel_seeds(seeds, spec.index), activation,
                                   (cfg.kernel_regularizer, cfg.kernel_rate), activity,
                                   name=spec.name)
            layer.index = spec.index  # its seed offset, for `restart`
            self.stack.append(layer)
        self.total_loss = keras.metrics.Mean(name="loss")
        self.scores = TowerScores(self.k, name="towers")
        # e of the smoothed targets, in a variable like every rate (`restart`)
        self.smoothing = scalar(self, "label_smoothing", cfg.label_smoothing)

    @property
    def metrics(self) -> list[Any]:
        return [self.total_loss, self.scores]

    def restart(self, cfg: ModelConfig, seeds: list[int]) -> None:
        """Start a new fit of `cfg` (same `shape_key`) from fresh weights and optimizer
        state: the weights `seeds` give, the config's rates, the optimizer's variables
        as they were after `build_towers` and the config's learning rate. The traced
        (and compiled) passes read all of these from variables, so they are reused."""
        self.cfg = cfg
        self.smoothing.assign(cfg.label_smoothing)
        for layer in self.stack:
            if isinstance(layer, TowerDense):
                layer.restart(kernel_seeds(seeds, layer.index), cfg.kernel_rate,
                              cfg.activity_rate)
            else:
                layer.restart(cfg.dropout_rate, dropout_seed(seeds, layer.index))
        for variable, value in zip(self.optimizer.variables, self._fresh_optimizer,
                                   strict=True):
            variable.assign(value)
        if cfg.learning_rate is not None:
            self.optimizer.learning_rate.assign(cfg.learning_rate)
        self.reset_metrics()

    def set_inputs(self, shift: np.ndarray, factor: np.ndarray) -> None:
        """Tower j rescales its rows by (shift[j], factor[j]), each (k, inputs)."""
        for variable, value in zip(self._inputs, (shift, factor), strict=True):
            variable.assign(np.asarray(value, np.float32)[:, None, :])

    def inputs(self, x: Any) -> Any:
        """(batch, features) or (k, batch, features) rows -> what each tower's first
        layer reads: the rows themselves, or with `scaled` its fold's rescaling."""
        if not self._inputs:
            return x
        shift, factor = self._inputs
        return (x - shift) / factor

    def forward(self, x: Any, training: bool = False, weight: Any = None) -> Any:
        """(batch, features) or (k, batch, features) rows -> (k, batch, classes)."""
        x = self.inputs(x)
        for layer in self.stack:
            x = layer(x, weight=weight) if isinstance(layer, TowerDense) else \
                layer(x, training=training)
        return x

    def call(self, idx: Any, training: bool = False, weight: Any = None) -> Any:
        """(batch, k) row indices -> (batch, k, classes); `weight` is (batch, k)."""
        # tf.gather on the variable itself is a ResourceGather of the batch's rows;
        # keras.ops.take would first read the whole table (a 188 MB copy per step).
        rows = tf.gather(self._table[0], tf.transpose(idx), axis=0)
        mask = None if weight is None else ops.transpose(weight)
        return ops.transpose(self.forward(rows, training=training, weight=mask), (1, 0, 2))

    def _scores(self, data: Any, training: bool) -> Any:
        """Updates the epoch's scores; returns the sum of the towers' mean losses."""
        idx, labels, weight = data
        weight = ops.cast(weight, "float32")
        out = self(idx, training=training, weight=weight if training else None)
        labels = ops.cast(labels, "int32")
        losses = example_losses(self.cfg, labels, out, self.smoothing)  # (batch, k)
        correct = ops.cast(ops.equal(ops.cast(ops.argmax(out, axis=-1), "int32"), labels),
                           losses.dtype)
        loss_sum, weight_sum = ops.sum(losses * weight, axis=0), ops.sum(weight, axis=0)
        self.scores.update_state((loss_sum, ops.sum(correct * weight, axis=0), weight_sum))
        return ops.sum(loss_sum / ops.maximum(weight_sum, 1e-12))

    def train_step(self, data: Any) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            loss = self._scores(data, training=True)
            if self.losses:
                loss = loss + ops.sum(ops.stack(self.losses))
        variables = self.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.total_loss.update_state(loss)
        return self.get_metrics_result()

    def test_step(self, data: Any) -> dict[str, Any]:
        self.total_loss.update_state(self._scores(data, training=False))
        return self.get_metrics_result()
