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

        @property
        def metrics(self) -> list[Any]:
            return [self.total_loss, self.scores]

        def restart(self, cfg: ModelConfig, seeds: list[int]) -> None:
            """Start a new fit of `cfg` (same `shape_key`) from fresh weights and optimizer
            state: the weights `seeds` give, the config's rates, the optimizer's variables
            as they were after `build_towers` and the config's learning rate. The traced
            (and compiled) passes read all of these from variables, so they are reused."""
            self.cfg = cfg
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


def kernel_seeds(seeds: list[int], index: int) -> list[int]:
    """The kernel seed of each tower's layer `index` (a `LayerSpec.index`)."""
    return [s * KERNEL_SEED + index for s in seeds]


def dropout_seed(seeds: list[int], index: int) -> int:
    """The seed of the dropout layer after hidden layer `index` (one draw for all towers)."""
    return seeds[0] * DROPOUT_SEED + index


def shape_key(cfg: ModelConfig, k: int, num_classes: int,
              scaled: bool = False) -> tuple[Any, ...]:
    """What fixes a set of towers' traced passes: configs with equal keys differ only in
    values `Towers.restart` sets (seeds, rates, learning rate, epochs, schedule, patience)
    and in the per-tower input scaling `Towers.set_inputs` sets."""
    return (cfg.hidden, cfg.activation, cfg.output_activation, loss_kind(cfg), from_logits(cfg),
            cfg.optimizer, cfg.learning_rate is None, cfg.kernel_regularizer,
            cfg.activity_regularizer, cfg.activity_layers, cfg.dropout, cfg.dropout_position,
            cfg.batch_size, k, num_classes, scaled)


def build_towers(cfg: ModelConfig, table: Any, seeds: list[int], num_classes: int,
                 scaled: bool = False) -> Any:
    """k = len(seeds) towers of `cfg`, tower j initialised from `seeds[j]`, ready to train.

    Args:
        cfg: the config every tower shares.
        table: the `tf.Variable` of flattened training rows (`rows.shared_rows`).
        seeds: one seed per tower (initial weights; see `loop.py` for its shuffle).
        num_classes: number of output classes.
        scaled: give each tower its own input rescaling (`Towers.set_inputs`): a CV fold's
            feature scaling learned on its training rows only.

    Returns:
        A compiled `Towers` model whose weights are built.

    Example:
        >>> towers = build_towers(cfg, shared_rows(x), [0, 1, 2], 10)  # doctest: +SKIP
    """
    from hpsearch.training.session import quiet_tensorflow

    quiet_tensorflow()
    towers = _classes()[2](cfg, table, seeds, num_classes, scaled, name="hpsearch_towers")
    width = int(table.shape[1])
    for layer in towers.stack:  # built by shape, without an eager forward pass
        layer.build((len(seeds), 1, width))
        width = getattr(layer, "units", width)
    towers.built = True
    towers.compile(optimizer=make_optimizer(cfg))  # trained by loop.py, not by fit
    towers.optimizer.build(towers.trainable_variables)
    towers._fresh_optimizer = [variable.numpy() for variable in towers.optimizer.variables]
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
    tower's outputs mean (probabilities for softmax). A tower with its own input scaling (a CV
    fold) has it folded into its first layer, (x - m) / s @ W + b = x @ (W / s) + (b - m / s
    @ W), so the `Sequential` reads the data set's rows as the model card describes them.

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
    weights = tower_weights(towers, j)
    if towers._inputs:
        shift, factor = (v.numpy()[j, 0].astype(np.float64) for v in towers._inputs)
        kernel = weights[0].astype(np.float64) / factor[:, None]
        weights[1] = (weights[1] - shift @ kernel).astype(np.float32)
        weights[0] = kernel.astype(np.float32)
    model.set_weights(weights)
    loss = ("sparse_categorical_crossentropy" if loss_kind(cfg) == "categorical" else cfg.loss)
    model.compile(optimizer=make_optimizer(cfg), loss=loss)
    return model


def _outputs(towers: Any, x: np.ndarray, batch_size: int) -> Any:
    """(first row, (batch, k, classes) raw outputs) per batch of rows given directly (the
    test set), by one traced forward pass: what `predict_rows` and `score_rows` both read."""
    import tensorflow as tf
    from keras import ops

    flat = x.reshape(len(x), -1).astype(np.float32, copy=False)
    forward = tf.function(lambda rows: ops.transpose(towers.forward(rows), (1, 0, 2)),
                          reduce_retracing=True)
    for lo in range(0, len(flat), batch_size):
        yield lo, forward(tf.constant(flat[lo:lo + batch_size]))


def predict_rows(towers: Any, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """(n, k, classes) outputs of every tower on rows `x` given directly (the test set).

    What the towers mean: probabilities for softmax/sigmoid outputs (the output activation
    is applied when the towers emit logits), raw values for a linear output.
    """
    from keras import ops

    chunks = []
    for _, out in _outputs(towers, x, batch_size):
        if towers.logits:
            out = ops.softmax(out) if towers.cfg.output_activation == "softmax" else \
                ops.sigmoid(out)
        chunks.append(ops.convert_to_numpy(out))
    return np.concatenate(chunks) if chunks else np.zeros((0, towers.k, 0), np.float32)


def score_rows(towers: Any, x: np.ndarray, y: np.ndarray,
               batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Per-tower (loss, accuracy) on rows given directly, computed as training computes them.

    Returns:
        Two (k,) arrays: mean loss (without penalties, like Keras' reported test loss of an
        unregularized model) and argmax accuracy.
    """
    from keras import ops

    labels = np.repeat(np.asarray(y, np.int32)[:, None], towers.k, axis=1)
    loss_sum, correct = np.zeros(towers.k), np.zeros(towers.k)
    for lo, out in _outputs(towers, x, batch_size):
        lab = labels[lo:lo + batch_size]
        loss_sum += ops.convert_to_numpy(example_losses(towers.cfg, lab, out)).sum(axis=0)
        correct += (ops.convert_to_numpy(ops.argmax(out, axis=-1)) == lab).sum(axis=0)
    n = max(len(x), 1)
    return loss_sum / n, correct / n
