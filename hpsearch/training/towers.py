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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hpsearch.config import ModelConfig

if TYPE_CHECKING:
    from hpsearch.training.tower_model import Towers

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


def example_losses(cfg: ModelConfig, labels: Any, out: Any, smoothing: Any = None) -> Any:
    """Per-example loss (..., k) from integer labels (..., k) and outputs (..., k, classes).

    Labels stay integers: categorical cross-entropy is computed by its sparse twin (the same
    value); binary cross-entropy and MSE compare the outputs with the one-hot labels and are
    averaged over the classes, as Keras' `binary_crossentropy`/`mean_squared_error` losses are.
    With `cfg.label_smoothing` > 0 every loss compares the outputs with smoothed targets,
    y(1 - e) + e/classes (binary cross-entropy: e/2, Keras' own rule); `smoothing` (a
    variable of the towers, so a later fit of the same shapes reuses the trace) gives e,
    else the config's value. A config without smoothing keeps the sparse path exactly.
    """
    from keras import ops

    kind, logits = loss_kind(cfg), from_logits(cfg)
    if kind == "categorical" and not cfg.label_smoothing:
        return ops.sparse_categorical_crossentropy(labels, out, from_logits=logits)
    target = ops.one_hot(labels, ops.shape(out)[-1], dtype=out.dtype)
    if cfg.label_smoothing:
        target = smooth_targets(cfg, target, None if smoothing is None
                                else ops.cast(smoothing, out.dtype))
    if kind == "categorical":
        return ops.categorical_crossentropy(target, out, from_logits=logits)
    if kind == "binary":
        return ops.mean(ops.binary_crossentropy(target, out, from_logits=logits), axis=-1)
    return ops.mean(ops.square(target - out), axis=-1)


def smooth_targets(cfg: ModelConfig, onehot: Any, e: Any = None) -> Any:
    """One-hot targets (..., classes), numpy or tensor, smoothed as Keras smooths them:
    y(1 - e) + e/classes, or y(1 - e) + e/2 for binary cross-entropy (each output is its
    own two-class problem). `e` defaults to the config's `label_smoothing`.

    Example:
        >>> smooth_targets(ModelConfig(label_smoothing=0.1), np.eye(2))[0].round(3).tolist()
        [0.95, 0.05]
    """
    e = cfg.label_smoothing if e is None else e
    spread = 0.5 if loss_kind(cfg) == "binary" else 1.0 / int(onehot.shape[-1])
    return onehot * (1.0 - e) + e * spread


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




def kernel_seeds(seeds: list[int], index: int) -> list[int]:
    """The kernel seed of each tower's layer `index` (a `LayerSpec.index`)."""
    return [s * KERNEL_SEED + index for s in seeds]


def dropout_seed(seeds: list[int], index: int) -> int:
    """The seed of the dropout layer after hidden layer `index` (one draw for all towers)."""
    return seeds[0] * DROPOUT_SEED + index


def shape_key(cfg: ModelConfig, k: int, num_classes: int,
              scaled: bool = False) -> tuple[Any, ...]:
    """What fixes a set of towers' traced passes: configs with equal keys differ only in
    values `Towers.restart` sets (seeds, rates, label smoothing when on, learning rate,
    epochs, schedule, patience)
    and in the per-tower input scaling `Towers.set_inputs` sets."""
    return (cfg.hidden, cfg.activation, cfg.output_activation, loss_kind(cfg), from_logits(cfg),
            cfg.optimizer, cfg.learning_rate is None, cfg.kernel_regularizer,
            cfg.activity_regularizer, cfg.activity_layers, cfg.dropout, cfg.dropout_position,
            cfg.batch_size, k, num_classes, scaled, cfg.label_smoothing > 0)


def build_towers(cfg: ModelConfig, table: Any, seeds: list[int], num_classes: int,
                 scaled: bool = False) -> Towers:
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
    from hpsearch.training.tower_model import Towers

    towers = Towers(cfg, table, seeds, num_classes, scaled, name="hpsearch_towers")
    width = int(table.shape[1])
    for layer in towers.stack:  # built by shape, without an eager forward pass
        layer.build((len(seeds), 1, width))
        width = getattr(layer, "units", width)
    towers.built = True
    towers.compile(optimizer=make_optimizer(cfg))  # trained by loop.py, not by fit
    towers.optimizer.build(towers.trainable_variables)
    towers._fresh_optimizer = [variable.numpy() for variable in towers.optimizer.variables]
    return towers


def _dense_layers(towers: Towers) -> list[Any]:
    return [layer for layer in towers.stack if hasattr(layer, "kernel")]


def tower_weights(towers: Towers, j: int) -> list[np.ndarray]:
    """Tower j's weights in a standalone `Sequential`'s order and shapes (kernel, bias)."""
    out: list[np.ndarray] = []
    for layer in _dense_layers(towers):
        out += [layer.kernel.numpy()[j], layer.bias.numpy()[j, 0]]
    return out


def set_tower_weights(towers: Towers, j: int, weights: list[np.ndarray]) -> None:
    """Overwrite tower j's weights (a Hyperband parent's checkpoint, a best-epoch restore)."""
    for n, layer in enumerate(_dense_layers(towers)):
        kernel, bias = weights[2 * n], weights[2 * n + 1]
        layer.kernel[j].assign(kernel)
        layer.bias[j, 0].assign(bias)


def to_sequential(cfg: ModelConfig, towers: Towers, j: int, input_shape: tuple[int, ...],
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
    # Keras' sparse cross-entropy has no label smoothing: the saved loss is the plain one
    # (it only matters to a user who trains the file on); the card keeps the config's value.
    loss = ("sparse_categorical_crossentropy" if loss_kind(cfg) == "categorical" else cfg.loss)
    model.compile(optimizer=make_optimizer(cfg), loss=loss)
    return model


def _outputs(towers: Towers, x: np.ndarray, batch_size: int) -> Any:
    """(first row, (batch, k, classes) raw outputs) per batch of rows given directly (the
    test set), by one traced forward pass: what `predict_rows` and `score_rows` both read."""
    import tensorflow as tf
    from keras import ops

    flat = x.reshape(len(x), -1).astype(np.float32, copy=False)
    forward = tf.function(lambda rows: ops.transpose(towers.forward(rows), (1, 0, 2)),
                          reduce_retracing=True)
    for lo in range(0, len(flat), batch_size):
        yield lo, forward(tf.constant(flat[lo:lo + batch_size]))


def predict_rows(towers: Towers, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
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


def score_rows(towers: Towers, x: np.ndarray, y: np.ndarray,
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
