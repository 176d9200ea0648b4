"""Stacked k-fold CV: the k folds of one config trained at once as k towers of one model.

Why: on a CPU a small MLP's step is dominated by fixed per-step and per-fit costs (Python,
tf.function dispatch, tracing, data slicing). One model with k towers pays them once per step
and once per trial instead of k times, while each tower computes exactly what a standalone
fold would: its own initial weights (bit-identical to `build_model(cfg, seed=fold_seed)`),
its own batches drawn only from its fold's training rows, its own mean loss (the towers'
losses are summed, so each gradient is the standalone gradient; the optimizers we offer are
elementwise, so their state per tower is independent too), its own dropout masks and
regularizer penalties, its own validation metrics and early stopping.

Differences from the sequential path, all of the size of seed noise: batch order and dropout
masks are other random draws; when fold sizes differ, the shorter folds are padded with
zero-weight rows (a batch may then hold a few fewer real examples); an early-stopped tower keeps
training until all towers stop, but its scores are read at its own best epoch, exactly as
`EarlyStopping(restore_best_weights=True)` would report them; a tower's `train_loss` is its
cross-entropy without the regularization penalty (the penalty is only known summed over towers).
Pruning between folds does not apply: every fold finishes together.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.errors import TrialFailed

VALIDATION_BATCH = 1024
CALL_SECONDS = 2.0  # wall time of one tf.function call of a pass (see _run_pass)
FIRST_CALL_STEPS = 32


def _columns(splits: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, k) index and weight matrices, column j = split j; short columns are padded with
    weight-0 rows (the weights are all ones when no column is short)."""
    longest = max(len(s) for s in splits)
    idx = np.empty((longest, len(splits)), dtype=np.int32)
    weights = np.ones((longest, len(splits)), dtype=np.float32)
    for j, split in enumerate(splits):
        pad = longest - len(split)
        idx[:, j] = np.concatenate([split, np.resize(split, pad)]) if pad else split
        weights[len(split):, j] = 0.0
    return idx, weights


def _digest(weights: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for weight in weights:
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def _monitor(names: list[str], patience: int, on_epoch: Any, epoch_times: list[float],
             stopped: dict[int, int]) -> Any:
    """Per-tower progress and early stopping on top of the shared epoch timer/divergence stop."""
    from hpsearch.evaluate import timed_monitor

    class StackMonitor(timed_monitor()):
        def __init__(self) -> None:
            super().__init__(epoch_times)
            self.best = [np.inf] * len(names)
            self.wait = [0] * len(names)

        def after_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
            for j, name in enumerate(names):
                if j in stopped:
                    continue
                tower = {key: float(logs[f"{prefix}{name}_{key.split('_')[-1]}"])
                         for key, prefix in (("loss", ""), ("accuracy", ""),
                                             ("val_loss", "val_"), ("val_accuracy", "val_"))}
                if on_epoch is not None:
                    on_epoch(j, epoch + 1, tower)
                if patience <= 0:
                    continue
                # Keras EarlyStopping's rule: strict improvement of val_loss, then patience.
                self.wait[j] += 1
                if tower["val_loss"] < self.best[j]:
                    self.best[j], self.wait[j] = tower["val_loss"], 0
                if self.wait[j] >= patience and epoch > 0:
                    stopped[j] = epoch + 1
            if len(stopped) == len(names):
                self.model.stop_training = True

    return StackMonitor()


def _pass_function(model: Any, step: Any, batch_size: int, k: int,
                   stop_on_divergence: bool) -> Any:
    """A `tf.function` that runs steps [first, last) of a pass over (rows, k) index, label
    and weight columns, batch after batch, through `step` (the model's `train_step` or
    `test_step`), and returns the epoch's metrics so far.

    Why not `fit`: Keras' loop pulls every batch through tf.data and wraps each group of
    steps in optionals and conds (~1 ms per step on a small net, a third of its epoch) and
    traces the step twice per fit (its while loop learns its output type lazily). Here the
    step is traced once and one call runs many steps (`_run_pass`). A training pass stops at the
    first batch whose running loss diverges (the sequential path's per-batch check).
    """
    import tensorflow as tf

    from hpsearch.evaluate import DIVERGED_LOSS

    columns = tf.TensorSpec((None, k), tf.int32)
    step_number = tf.TensorSpec((), tf.int32)
    spec = (columns, columns, tf.TensorSpec((None, k), tf.float32), step_number, step_number)

    @tf.function(input_signature=spec, autograph=False)
    def run(idx: Any, y: Any, w: Any, first: Any, last: Any) -> Any:
        n = tf.shape(idx)[0]
        end = tf.minimum(last, (n + batch_size - 1) // batch_size)

        def go_on(s: Any, loss: Any) -> Any:
            going = s < end
            if stop_on_divergence:
                going = tf.logical_and(going, tf.logical_and(
                    tf.math.is_finite(loss), loss <= DIVERGED_LOSS))
            return going

        def one_step(s: Any, loss: Any) -> Any:
            lo = s * batch_size
            hi = tf.minimum(lo + batch_size, n)
            logs = step((idx[lo:hi], y[lo:hi], w[lo:hi]))
            return s + 1, tf.cast(logs["loss"], tf.float32)

        tf.while_loop(go_on, one_step, (first, tf.constant(0.0)))
        return model.get_metrics_result()

    return run


def _run_pass(run: Any, columns: tuple[np.ndarray, ...], batch_size: int,
              training: bool) -> dict[str, float]:
    """All steps of one pass, in calls of about `CALL_SECONDS` each: Python sees Ctrl-C only
    between calls, so an interrupt stays prompt even when a whole epoch takes minutes, while
    each call still runs many steps (a call costs far more than a step on a small net)."""
    import tensorflow as tf

    from hpsearch.evaluate import _diverged

    tensors = [tf.constant(column) for column in columns]
    steps = -(-len(columns[0]) // batch_size)
    logs: dict[str, Any] = {}
    first, chunk = 0, FIRST_CALL_STEPS
    while first < steps:
        start = time.perf_counter()
        logs = run(*tensors, tf.constant(first, tf.int32),
                   tf.constant(min(first + chunk, steps), tf.int32))
        if training and _diverged(float(logs["loss"])):
            break
        first += chunk
        per_step = (time.perf_counter() - start) / chunk
        chunk = min(steps, max(FIRST_CALL_STEPS, int(CALL_SECONDS / max(per_step, 1e-6))))
    return {key: float(value) for key, value in logs.items()}


def _train(model: Any, cfg: ModelConfig, train: tuple[np.ndarray, ...],
           validation: tuple[np.ndarray, ...], callbacks: list[Any]) -> dict[str, list[float]]:
    """Epochs of shuffled training passes, each followed by a validation pass; returns the
    history in `fit`'s form ({"loss": [...], "val_fold_0_accuracy": [...], ...}) and drives
    the Keras callbacks' epoch hooks as `fit` does."""
    import keras

    from hpsearch.evaluate import _diverged

    k = train[0].shape[1]
    model.optimizer.build(model.trainable_variables)
    train_pass = _pass_function(model, model.train_step, cfg.batch_size, k, True)
    test_pass = _pass_function(model, model.test_step, VALIDATION_BATCH, k, False)
    hooks = keras.callbacks.CallbackList(callbacks, model=model)
    history: dict[str, list[float]] = {}
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(cfg.epochs):
        hooks.on_epoch_begin(epoch)
        order = np.random.permutation(len(train[0]))  # seeded by keras.utils.set_random_seed
        model.reset_metrics()
        logs = _run_pass(train_pass, tuple(a[order] for a in train), cfg.batch_size, True)
        model.reset_metrics()
        scores = _run_pass(test_pass, validation, VALIDATION_BATCH, False)
        logs |= {f"val_{key}": value for key, value in scores.items()}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training or _diverged(logs["loss"]):
            break
    hooks.on_train_end()
    return history


def fit_fold_stack(cfg: ModelConfig, data: Dataset, splits: list[tuple[np.ndarray, ...]],
                   seeds: list[int], on_epoch: Any = None) -> list[Any]:
    """Train all folds of `splits` at once; returns one `FoldResult` per fold, in order."""
    import keras

    from hpsearch.evaluate import DIVERGED_LOSS, FoldResult, _diverged, fresh_session
    from hpsearch.model import build_fold_stack, schedule_callbacks, tower_name, tower_weights

    fresh_session()
    keras.utils.set_random_seed(seeds[0])
    names = [tower_name(j) for j in range(len(splits))]
    rows = data.x_train.reshape(len(data.x_train), -1)
    model = build_fold_stack(cfg, rows, seeds, data.num_classes)
    digests = [_digest(tower_weights(model, j)) for j in range(len(splits))]
    train_idx, train_w = _columns([tr for tr, _ in splits])
    val_idx, val_w = _columns([va for _, va in splits])
    # Column j of the labels and weights belongs to tower j, like column j of the indices.
    train = (train_idx, data.y_train[train_idx].astype(np.int32), train_w)
    validation = (val_idx, data.y_train[val_idx].astype(np.int32), val_w)
    epoch_times: list[float] = []
    stopped: dict[int, int] = {}
    start = time.perf_counter()
    history = _train(model, cfg, train, validation,
                     [_monitor(names, cfg.patience, on_epoch, epoch_times, stopped),
                      *schedule_callbacks(cfg)])
    fit_time = time.perf_counter() - start
    del model
    results = []
    for j, name in enumerate(names):
        run = stopped.get(j, len(history.get("loss", [])))
        tower = {key: [float(v) for v in history.get(f"{prefix}{name}_{key.split('_')[-1]}",
                                                     [])[:run]]
                 for key, prefix in (("loss", ""), ("accuracy", ""), ("val_loss", "val_"),
                                     ("val_accuracy", "val_"))}
        total = history.get("loss", [])[:run]
        if run == 0 or any(_diverged(v) for v in tower["loss"] + [float(t) for t in total]):
            last = tower["loss"][-1] if tower["loss"] else float("nan")
            raise TrialFailed(f"training diverged in fold {j + 1} (loss {last:.4g} at epoch "
                              f"{run}, NaN, infinite or above {DIVERGED_LOSS:g}); lower the "
                              "learning rate")
        # With early stopping the standalone fold restores its best-val_loss weights and
        # reports them; without, it reports the last epoch.
        at = int(np.argmin(tower["val_loss"])) if cfg.patience > 0 else run - 1
        results.append(FoldResult(
            fold=j, history=tower, train_loss=tower["loss"][-1],
            train_accuracy=tower["accuracy"][-1], val_loss=tower["val_loss"][at],
            val_accuracy=tower["val_accuracy"][at],
            best_epoch=int(np.argmax(tower["val_accuracy"])) + 1, epochs_run=run,
            fit_time=fit_time / len(names), epoch_times=epoch_times[:run],
            n_train=len(splits[j][0]), n_val=len(splits[j][1]), init_digest=digests[j]))
    return results
