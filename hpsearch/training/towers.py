"""One builder for every fit: k >= 1 independent towers of one config, side by side.

k counts the fits that share a config and a data set: the folds of a CV trial, the repeats of a
study variant (one seed each), or k = 1 for a single fit. On a CPU a small MLP's step is
dominated by fixed per-step costs (dispatch, tracing, data slicing); k towers in one model pay
them once per step instead of k times. Each tower computes what a standalone fit would:

- its own initial weights, drawn as a standalone `Dense` seeded with its seed would draw them;
- its own batches, from its own column of row indices (`loop.py` shuffles each column with the
  tower's own generator);
- its own mean loss; the towers' losses are summed, so each gradient is the standalone
  gradient (the optimizers we offer are elementwise, so each tower's optimizer state is its own);
- its own regularization penalties and dropout masks (independent draws per tower).

A model to keep is a plain single-tower `keras.Sequential` (`to_sequential`): it loads in plain
Keras with `safe_mode=True` and predicts what its tower predicted.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig

KERNEL_SEED, DROPOUT_SEED, OUTPUT_LAYER = 1009, 1013, 997


@dataclass(frozen=True)
class LayerSpec:
    """One layer of the network as the config describes it; both builders read this list."""

    kind: str  # "dense" | "dropout"
    name: str
    units: int = 0
    activation: str | None = None
    activity: bool = False  # dense: carries the activity regularizer
    index: int = 0  # hidden-layer index (seed offset); OUTPUT_LAYER for the output layer


def layer_plan(cfg: ModelConfig, num_classes: int) -> list[LayerSpec]:
    """The layers of `cfg` in order: where dropout and activity penalties go is decided here
    only, so the towers and the saved `Sequential` cannot disagree."""
    plan: list[LayerSpec] = []
    last = len(cfg.hidden) - 1
    for index, units in enumerate(cfg.hidden):
        plan.append(LayerSpec("dense", f"hidden_{index}", units, cfg.activation,
                              activity=index in cfg.activity_layers, index=index))
        if cfg.dropout != "none" and (cfg.dropout_position == "every_hidden" or index == last):
            plan.append(LayerSpec("dropout", f"dropout_{index}", index=index))
    plan.append(LayerSpec("dense", "output", num_classes, cfg.output_activation,
                          index=OUTPUT_LAYER))
    return plan


def from_logits(cfg: ModelConfig) -> bool:
    """Whether the towers emit logits and the loss applies the output activation itself.

    Keras computes every cross-entropy from the logits when the output layer is a softmax or a
    sigmoid (both activations leave their logits on the output tensor, and Keras' losses use
    them): softmax + cross-entropy is then stable, and, less obviously, sigmoid + categorical
    cross-entropy is the softmax cross-entropy of the sigmoid's logits, and softmax + binary
    cross-entropy is the sigmoid one of the softmax's logits. We do what Keras does, so the
    lab's `pipeline()` combinations train as they do in the lab's notebook. MSE compares the
    activated outputs.
    """
    return cfg.output_activation in ("softmax", "sigmoid") and loss_kind(cfg) != "mse"


def loss_kind(cfg: ModelConfig) -> str:
    """categorical | binary | mse: what `example_losses` computes for `cfg.loss`."""
    if cfg.loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        return "categorical"
    if cfg.loss == "binary_crossentropy":
        return "binary"
    return "mse"


def example_losses(cfg: ModelConfig, labels: Any, out: Any) -> Any:
    """Per-example loss (..., k) from integer labels (..., k) and outputs (..., k, classes).

    Labels stay integers: categorical cross-entropy is computed by its sparse twin (the same
    value); binary cross-entropy and MSE compare the outputs with the one-hot labels and are
    averaged over the classes, as Keras' `binary_crossentropy`/`mean_squared_error` losses are.
    """
    from keras import ops

    kind, logits = loss_kind(cfg), from_logits(cfg)
    if kind == "categorical":
        return ops.sparse_categorical_crossentropy(labels, out, from_logits=logits)
    target = ops.one_hot(labels, ops.shape(out)[-1], dtype=out.dtype)
    if kind == "binary":
        return ops.mean(ops.binary_crossentropy(target, out, from_logits=logits), axis=-1)
    return ops.mean(ops.square(target - out), axis=-1)


def regularizer(kind: str, rate: float) -> Any:
    """A Keras regularizer object by name (None for "none")."""
    from keras import regularizers

    if kind == "none":
        return None
    if kind == "l1":
        return regularizers.L1(rate)
    if kind == "l2":
        return regularizers.L2(rate)
    return regularizers.L1L2(l1=rate, l2=rate)


def make_optimizer(cfg: ModelConfig) -> Any:
    """Optimizer by Keras name; `learning_rate=None` keeps the optimizer's own default."""
    from keras import optimizers

    optimizer = optimizers.get(cfg.optimizer)
    if cfg.learning_rate is None:
        return optimizer
    return type(optimizer)(learning_rate=cfg.learning_rate)


def _dropout(cfg: ModelConfig, seed: int, name: str) -> Any:
    from keras import layers

    if cfg.dropout == "gaussian":
        return layers.GaussianDropout(cfg.dropout_rate, seed=seed, name=name)
    return layers.Dropout(cfg.dropout_rate, seed=seed, name=name)


@functools.cache
def _classes() -> tuple[type, type, type]:
    """The Keras classes of the tower model, defined lazily (no module-level TF import)."""
    import keras
    import tensorflow as tf
    from keras import initializers, ops

    class TowerDense(keras.layers.Layer):
        """k independent Dense layers: kernel (k, in, out), one batched matmul per step.

        Tower j's kernel is drawn exactly as a standalone `Dense` seeded with `seeds[j]` would
        draw it. The activity penalty is each tower's Keras penalty, rate * sum|a| (L1) or
        rate * sum a^2 (L2) over its batch, divided by its batch size, as Keras divides it for
        a standalone layer; counted over the real (weight 1) rows only, so a padded batch
        costs what the standalone short batch costs. Summed over towers, each tower's
        gradient is its standalone gradient.
        """

        def __init__(self, units: int, seeds: list[int], activation: str | None,
                     kernel_regularizer: Any, activity: tuple[str, float] | None,
                     **kwargs: Any) -> None:
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

        def call(self, x: Any, weight: Any = None) -> Any:
            """(batch, in) or (k, batch, in) -> (k, batch, out); `weight` (k, batch) marks the
            real rows of a training batch (the activity penalty needs it)."""
            out = self.activation(ops.matmul(x, self.kernel) + self.bias)
            if self.activity is not None and weight is not None:
                kind, rate = self.activity
                size = ops.abs(out) if kind == "l1" else ops.square(out)
                per_tower = ops.sum(ops.sum(size, axis=-1) * weight, axis=-1)
                self.add_loss(rate * ops.sum(per_tower / ops.maximum(ops.sum(weight, axis=-1),
                                                                     1.0)))
            return out

    class TowerDropout(keras.layers.Layer):
        """Dropout (inverted, x / (1 - rate) on kept units) or Gaussian dropout (x times
        N(1, rate / (1 - rate))), as Keras' layers compute them, with masks drawn by
        TensorFlow's stateless Philox generator from (layer seed, step counter).

        Why not Keras' layers: under XLA on a CPU their random draws cost ~300 ms per step
        for a (2, 256, 512) tensor against ~2 ms for a stateless Philox draw, ten times the
        rest of the step. Each tower's masks are independent draws (they are different
        positions of one draw).
        """

        def __init__(self, kind: str, rate: float, seed: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.kind, self.rate, self.seed = kind, float(rate), int(seed) % (2 ** 31)

        def build(self, input_shape: Any) -> None:
            self.step = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                        trainable=False, name="step")

        def call(self, x: Any, training: bool = False) -> Any:
            if not training:
                return x
            self.step.assign_add(1)
            seed = tf.stack([tf.constant(self.seed, tf.int32), tf.convert_to_tensor(self.step)])
            if self.kind == "gaussian":
                noise = tf.random.stateless_normal(tf.shape(x), seed, dtype=x.dtype,
                                                   alg="philox")
                return x * (1.0 + (self.rate / (1.0 - self.rate)) ** 0.5 * noise)
            keep = tf.random.stateless_uniform(tf.shape(x), seed, dtype=x.dtype,
                                               alg="philox") >= self.rate
            return tf.where(keep, x / (1.0 - self.rate), tf.zeros_like(x))

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
        """

        def __init__(self, cfg: ModelConfig, table: Any, seeds: list[int], num_classes: int,
                     **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.cfg, self.k, self.logits = cfg, len(seeds), from_logits(cfg)
            self._table = [table]  # a list: Keras must not track the shared rows as a weight
            kernel_reg = regularizer(cfg.kernel_regularizer, cfg.kernel_rate)
            self.stack: list[Any] = []
            for spec in layer_plan(cfg, num_classes):
                if spec.kind == "dropout":
                    self.stack.append(TowerDropout(cfg.dropout, cfg.dropout_rate,
                                                   seeds[0] * DROPOUT_SEED + spec.index,
                                                   name=spec.name))
                    continue
                activity = ((cfg.activity_regularizer, cfg.activity_rate)
                            if spec.activity and cfg.activity_regularizer != "none" else None)
                activation = None if spec.name == "output" and self.logits else spec.activation
                self.stack.append(TowerDense(
                    spec.units, [s * KERNEL_SEED + spec.index for s in seeds], activation,
                    kernel_reg, activity, name=spec.name))
            self.total_loss = keras.metrics.Mean(name="loss")
            self.scores = TowerScores(self.k, name="towers")

        @property
        def metrics(self) -> list[Any]:
            return [self.total_loss, self.scores]

        def forward(self, x: Any, training: bool = False, weight: Any = None) -> Any:
            """(batch, features) or (k, batch, features) rows -> (k, batch, classes)."""
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
            losses = example_losses(self.cfg, labels, out)  # (batch, k)
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

    return TowerDense, TowerScores, Towers


def build_towers(cfg: ModelConfig, table: Any, seeds: list[int], num_classes: int) -> Any:
    """k = len(seeds) towers of `cfg`, tower j initialised from `seeds[j]`, ready to train.

    Args:
        cfg: the config every tower shares.
        table: the `tf.Variable` of flattened training rows (`rows.shared_rows`).
        seeds: one seed per tower (initial weights; see `loop.py` for its shuffle).
        num_classes: number of output classes.

    Returns:
        A compiled `Towers` model whose weights are built.

    Example:
        >>> towers = build_towers(cfg, shared_rows(x), [0, 1, 2], 10)  # doctest: +SKIP
    """
    from hpsearch.training.session import quiet_tensorflow

    quiet_tensorflow()
    towers = _classes()[2](cfg, table, seeds, num_classes, name="hpsearch_towers")
    towers.forward(np.zeros((1, int(table.shape[1])), np.float32))  # builds every layer
    towers.compile(optimizer=make_optimizer(cfg))  # trained by loop.py, not by fit
    towers.optimizer.build(towers.trainable_variables)
    return towers


def _dense_layers(towers: Any) -> list[Any]:
    return [layer for layer in towers.stack if hasattr(layer, "kernel")]


def tower_weights(towers: Any, j: int) -> list[np.ndarray]:
    """Tower j's weights in a standalone `Sequential`'s order and shapes (kernel, bias)."""
    out: list[np.ndarray] = []
    for layer in _dense_layers(towers):
        out += [layer.kernel.numpy()[j], layer.bias.numpy()[j, 0]]
    return out


def set_tower_weights(towers: Any, j: int, weights: list[np.ndarray]) -> None:
    """Overwrite tower j's weights (a Hyperband parent's checkpoint, a best-epoch restore)."""
    for n, layer in enumerate(_dense_layers(towers)):
        kernel, bias = weights[2 * n], weights[2 * n + 1]
        layer.kernel[j].assign(kernel)
        layer.bias[j, 0].assign(bias)


def to_sequential(cfg: ModelConfig, towers: Any, j: int, input_shape: tuple[int, ...],
                  num_classes: int) -> Any:
    """Tower j as a plain, compiled `keras.Sequential` (what `train --out`/`export` save).

    Only stock Keras layers, so it loads with `keras.saving.load_model(path, safe_mode=True)`
    anywhere; its output layer applies `cfg.output_activation`, so `predict` returns what the
    tower's outputs mean (probabilities for softmax).

    Args:
        cfg: the towers' config.
        towers: a trained `Towers` model.
        j: which tower.
        input_shape: one example's shape (e.g. (28, 28)).
        num_classes: number of output classes.

    Returns:
        The `Sequential`, compiled with the config's optimizer and loss.

    Example:
        >>> to_sequential(cfg, towers, 0, (28, 28), 10).save("model.keras")  # doctest: +SKIP
    """
    import keras
    from keras import layers

    kernel_reg = regularizer(cfg.kernel_regularizer, cfg.kernel_rate)
    stack: list[Any] = [keras.Input(shape=input_shape), layers.Flatten()]
    for spec in layer_plan(cfg, num_classes):
        if spec.kind == "dropout":
            stack.append(_dropout(cfg, spec.index, spec.name))
            continue
        activity = (regularizer(cfg.activity_regularizer, cfg.activity_rate)
                    if spec.activity else None)
        stack.append(layers.Dense(spec.units, activation=spec.activation, name=spec.name,
                                  kernel_regularizer=kernel_reg, activity_regularizer=activity))
    model = keras.Sequential(stack, name="hpsearch_mlp")
    model.set_weights(tower_weights(towers, j))
    loss = ("sparse_categorical_crossentropy" if loss_kind(cfg) == "categorical" else cfg.loss)
    model.compile(optimizer=make_optimizer(cfg), loss=loss)
    return model


def predict_rows(towers: Any, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """(n, k, classes) outputs of every tower on rows `x` given directly (the test set).

    What the towers mean: probabilities for softmax/sigmoid outputs (the output activation
    is applied when the towers emit logits), raw values for a linear output.
    """
    import tensorflow as tf
    from keras import ops

    cfg = towers.cfg
    flat = x.reshape(len(x), -1).astype(np.float32, copy=False)
    forward = tf.function(lambda rows: towers.forward(rows, training=False), reduce_retracing=True)
    chunks = []
    for lo in range(0, len(flat), batch_size):
        out = forward(tf.constant(flat[lo:lo + batch_size]))
        if towers.logits:
            out = ops.softmax(out) if cfg.output_activation == "softmax" else ops.sigmoid(out)
        chunks.append(np.transpose(ops.convert_to_numpy(out), (1, 0, 2)))
    return np.concatenate(chunks) if chunks else np.zeros((0, towers.k, 0), np.float32)


def score_rows(towers: Any, x: np.ndarray, y: np.ndarray,
               batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Per-tower (loss, accuracy) on rows given directly, computed as training computes them.

    Returns:
        Two (k,) arrays: mean loss (without penalties, like Keras' reported test loss of an
        unregularized model) and argmax accuracy.
    """
    import tensorflow as tf
    from keras import ops

    flat = x.reshape(len(x), -1).astype(np.float32, copy=False)
    labels = np.repeat(np.asarray(y, np.int32)[:, None], towers.k, axis=1)

    @tf.function(reduce_retracing=True)
    def score(rows: Any, lab: Any) -> tuple[Any, Any]:
        out = ops.transpose(towers.forward(rows), (1, 0, 2))
        hits = ops.equal(ops.cast(ops.argmax(out, axis=-1), "int32"), lab)
        return example_losses(towers.cfg, lab, out), hits

    loss_sum, correct = np.zeros(towers.k), np.zeros(towers.k)
    for lo in range(0, len(flat), batch_size):
        losses, hits = score(tf.constant(flat[lo:lo + batch_size]),
                             tf.constant(labels[lo:lo + batch_size]))
        loss_sum += ops.convert_to_numpy(losses).sum(axis=0)
        correct += ops.convert_to_numpy(hits).sum(axis=0)
    n = max(len(flat), 1)
    return loss_sum / n, correct / n
