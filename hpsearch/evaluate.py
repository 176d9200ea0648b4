"""`evaluate(cfg, data, protocol, seed)`: the only place a model is fitted.

One function owns the rules the lab broke: a fresh model for every fold, folds that split only
the training data, and the test set touched only by the explicit train/test protocol.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.errors import ConfigError, TrialFailed
from hpsearch.model import build_model, schedule_callbacks

PROTOCOL_KINDS = ("kfold", "holdout", "train_test")
# A cross-entropy far above chance level (ln 10 = 2.3) means the weights blew up: with learning
# rate 10 the loss jumps past 1e5 and the network ends dead at chance, which is a failure to
# report, not a score to rank.
DIVERGED_LOSS = 1e3


def fresh_session() -> None:
    """Free the previous fit's graph and weights before the next model is built.

    One full garbage collection, then the survivors are frozen (`gc.freeze`): with TensorFlow
    and Keras loaded the heap holds ~400,000 long-lived objects, so every full collection,
    ours or one Python starts itself while a fit is being traced, took ~0.3 s just to walk
    them again. Frozen objects are still freed by reference counting; only cycles among what
    was alive here escape the cycle collector, and what is alive between fits is the
    process's long-lived state (modules, data, the tuner).
    """
    import keras

    keras.backend.clear_session(free_memory=False)  # we collect once, below
    forget_custom_gradients()
    gc.collect()
    gc.freeze()


def forget_custom_gradients() -> None:
    """Drop the gradient functions TensorFlow registered for earlier fits' traced graphs.

    In graph mode every `tf.custom_gradient` call (Keras uses some in each training step)
    adds an entry to a process-wide registry that is never removed, and each entry keeps its
    whole traced graph alive: ~5 MB per fit, the growth Keras Tuner users report (its issues
    395 and 873). Called between fits, when no traced graph of an earlier model is in use.
    Uses a private TensorFlow attribute, so it does nothing if that ever moves.
    """
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
    except (ImportError, AttributeError):  # pragma: no cover - another TF layout
        return
    for name in [name for name in registry if str(name).startswith("CustomGradient-")]:
        del registry[name]


def _diverged(loss: float) -> bool:
    return not math.isfinite(loss) or loss > DIVERGED_LOSS


@dataclass(frozen=True)
class Protocol:
    """How a config is scored. `train_test` may hold out part of the training data for curves."""

    kind: str = "kfold"
    folds: int = 5
    validation_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.kind not in PROTOCOL_KINDS:
            raise ConfigError(f"protocol {self.kind!r} is unknown; choose one of "
                              f"{', '.join(PROTOCOL_KINDS)}")
        if self.kind == "kfold" and self.folds < 2:
            raise ConfigError(f"--folds must be at least 2 for k-fold CV, got {self.folds}; "
                              "use --folds 5 (or the holdout protocol for a single split)")
        low = 0.0 if self.kind == "train_test" else 1e-9
        if not low <= self.validation_fraction < 1:
            raise ConfigError("validation fraction must be in (0, 1), got "
                              f"{self.validation_fraction}")

    @classmethod
    def kfold(cls, folds: int = 5) -> Protocol:
        return cls("kfold", folds=folds)

    @classmethod
    def holdout(cls, validation_fraction: float = 0.2) -> Protocol:
        return cls("holdout", folds=1, validation_fraction=validation_fraction)

    @classmethod
    def train_test(cls, validation_fraction: float = 0.0) -> Protocol:
        return cls("train_test", folds=1, validation_fraction=validation_fraction)

    @property
    def num_fits(self) -> int:
        return self.folds if self.kind == "kfold" else 1


@dataclass
class FoldResult:
    """What one fit learned: curves per epoch and the final validation (or test) scores."""

    fold: int
    history: dict[str, list[float]]
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    best_epoch: int  # 1-based epoch with the best validation accuracy (last epoch if no val)
    epochs_run: int
    fit_time: float
    epoch_times: list[float]
    n_train: int
    n_val: int
    init_digest: str  # hash of the initial weights: proves every fold starts fresh

    @property
    def steady_time(self) -> float:
        """Fit time without the first epoch's graph tracing (warm-up), scaled to all epochs."""
        if len(self.epoch_times) < 2:
            return self.fit_time
        return float(np.mean(self.epoch_times[1:]) * len(self.epoch_times))


@dataclass
class Result:
    """Scores of one config under one protocol and seed, shaped for tables and JSON."""

    config: ModelConfig
    protocol: Protocol
    seed: int
    folds: list[FoldResult] = field(default_factory=list)
    test_loss: float | None = None
    test_accuracy: float | None = None
    status: str = "ok"  # ok | pruned
    wall_time: float = 0.0

    def _stat(self, name: str, reducer: Callable[[np.ndarray], Any]) -> float:
        values = [getattr(f, name) for f in self.folds if getattr(f, name) is not None]
        return float(reducer(np.array(values))) if values else math.nan

    @property
    def mean_val_accuracy(self) -> float:
        return self._stat("val_accuracy", np.mean)

    @property
    def std_val_accuracy(self) -> float:
        return self._stat("val_accuracy", np.std)

    @property
    def mean_val_loss(self) -> float:
        return self._stat("val_loss", np.mean)

    @property
    def std_val_loss(self) -> float:
        return self._stat("val_loss", np.std)

    @property
    def mean_best_epoch(self) -> float:
        return self._stat("best_epoch", np.mean)

    @property
    def fit_time(self) -> float:
        return float(sum(f.fit_time for f in self.folds))

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "protocol": asdict(self.protocol),
            "seed": self.seed,
            "status": self.status,
            "mean_val_accuracy": self.mean_val_accuracy,
            "std_val_accuracy": self.std_val_accuracy,
            "mean_val_loss": self.mean_val_loss,
            "std_val_loss": self.std_val_loss,
            "mean_best_epoch": self.mean_best_epoch,
            "test_loss": self.test_loss,
            "test_accuracy": self.test_accuracy,
            "fit_time": self.fit_time,
            "wall_time": self.wall_time,
            "folds": [asdict(f) | {"steady_time": f.steady_time} for f in self.folds],
        }


def split_indices(protocol: Protocol, y: np.ndarray, seed: int) -> list[tuple[np.ndarray, ...]]:
    """(train, validation) index pairs into the *training* set; sklearn does the splitting."""
    from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit

    everything = np.arange(len(y))
    try:
        if protocol.kind == "kfold":
            splitter = StratifiedKFold(n_splits=protocol.folds, shuffle=True, random_state=seed)
            return list(splitter.split(everything, y))
        if protocol.validation_fraction == 0:
            return [(everything, everything[:0])]
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=protocol.validation_fraction,
                                          random_state=seed)
        return list(splitter.split(everything, y))
    except ValueError as exc:  # e.g. more folds than examples in the smallest class
        raise ConfigError(f"cannot split the training data as asked: {exc}") from exc


def weights_digest(model: Any) -> str:
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


EpochHook = Callable[[int, int, dict[str, float]], None]  # (fold, epoch 1-based, logs)
FoldHook = Callable[[FoldResult], bool]  # return False to stop (prune) the evaluation


@functools.cache
def timed_monitor() -> type:
    """Base Keras callback of both fit paths: times epochs, stops quietly once the loss
    diverges, and hands each epoch's logs to `after_epoch` (defined lazily: no TF import at
    module load)."""
    import keras

    class TimedMonitor(keras.callbacks.Callback):
        def __init__(self, epoch_times: list[float]) -> None:
            super().__init__()
            self.epoch_times = epoch_times

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if logs and "loss" in logs and _diverged(float(logs["loss"])):
                self.model.stop_training = True

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.epoch_times.append(time.perf_counter() - self.start)
            self.after_epoch(epoch, logs or {})

        def after_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
            """What a subclass does at the end of each epoch."""

    return TimedMonitor


def _callbacks(cfg: ModelConfig, fold: int, has_val: bool, on_epoch: EpochHook | None,
               epoch_times: list[float], extra: list[Any]) -> list[Any]:
    import keras

    class _Monitor(timed_monitor()):
        """Reports each epoch's logs to `on_epoch`."""

        def after_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
            if on_epoch is not None:
                on_epoch(fold, epoch + 1, {k: float(v) for k, v in logs.items()})

    callbacks = [_Monitor(epoch_times), *schedule_callbacks(cfg), *extra]
    if cfg.patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss" if has_val else "loss", patience=cfg.patience,
            restore_best_weights=True))
    return callbacks


def _fit_one(cfg: ModelConfig, data: Dataset, train_idx: np.ndarray, val_idx: np.ndarray,
             fold: int, seed: int, on_epoch: EpochHook | None,
             extra_callbacks: list[Any]) -> tuple[FoldResult, Any]:
    import keras

    fresh_session()
    keras.utils.set_random_seed(seed)  # fixes shuffling order in fit as well
    model = build_model(cfg, data.input_shape, data.num_classes, seed=seed)
    init_digest = weights_digest(model)
    x_fit, y_fit = data.x_train[train_idx], data.y_train[train_idx]
    has_val = len(val_idx) > 0
    validation = (data.x_train[val_idx], data.y_train[val_idx]) if has_val else None
    epoch_times: list[float] = []
    start = time.perf_counter()
    history = model.fit(
        x_fit, y_fit, batch_size=cfg.batch_size, epochs=cfg.epochs, shuffle=True,
        validation_data=validation, verbose=0,
        callbacks=_callbacks(cfg, fold, has_val, on_epoch, epoch_times, extra_callbacks),
    ).history
    fit_time = time.perf_counter() - start
    history = {k: [float(v) for v in values] for k, values in history.items()}
    epochs_run = len(history.get("loss", []))
    if epochs_run == 0 or any(_diverged(loss) for loss in history["loss"]):
        raise TrialFailed(f"training diverged in fold {fold + 1} (loss "
                          f"{history['loss'][-1] if epochs_run else float('nan'):.4g} at epoch "
                          f"{epochs_run}, NaN, infinite or above {DIVERGED_LOSS:g}); lower the "
                          "learning rate")
    val_loss = val_accuracy = None
    best_epoch = epochs_run
    if has_val:
        # fit already scored the validation fold after every epoch with the same weights a
        # final `evaluate` would see (the last epoch's, or the best val_loss epoch's when early
        # stopping restores it): read it from the history instead of a second pass + trace.
        at = int(np.argmin(history["val_loss"])) if cfg.patience > 0 else epochs_run - 1
        val_loss, val_accuracy = history["val_loss"][at], history["val_accuracy"][at]
        best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    result = FoldResult(
        fold=fold, history=history,
        train_loss=history["loss"][-1], train_accuracy=history["accuracy"][-1],
        val_loss=val_loss, val_accuracy=val_accuracy, best_epoch=best_epoch,
        epochs_run=epochs_run, fit_time=fit_time, epoch_times=epoch_times,
        n_train=len(train_idx), n_val=len(val_idx), init_digest=init_digest,
    )
    return result, model


def fold_seed(seed: int, fold: int) -> int:
    """Distinct, reproducible initial weights per fold; the same across configs (paired)."""
    return seed * 7919 + fold


def evaluate(cfg: ModelConfig, data: Dataset, protocol: Protocol | None = None,
             seed: int | None = None, *, on_epoch: EpochHook | None = None,
             on_fold: FoldHook | None = None,
             callbacks_for_fold: Callable[[int], list[Any]] | None = None,
             keep_model: bool = False, stacked: bool = False) -> Result | tuple[Result, Any]:
    """Fit `cfg` under `protocol` and return its `Result` (and the last model if `keep_model`).

    Folds only ever split `data.x_train`; `data.x_test` is read only by `train_test`.
    `on_fold` may return False after any fold to stop early: the result is marked `pruned`.
    `stacked=True` trains all k folds at once as k towers of one model (`fold_stack.py`, several
    times faster on CPU); it applies to k-fold CV without `keep_model` or per-fold callbacks,
    and `on_fold` is then called for every fold after all have finished (nothing to prune).
    """
    protocol = protocol or Protocol.kfold()
    seed = cfg.seed if seed is None else seed
    result = Result(config=cfg, protocol=protocol, seed=seed)
    start = time.perf_counter()
    splits = split_indices(protocol, data.y_train, seed)
    if stacked and protocol.kind == "kfold" and not keep_model and callbacks_for_fold is None:
        from hpsearch.fold_stack import fit_fold_stack

        seeds = [fold_seed(seed, fold) for fold in range(len(splits))]
        result.folds = fit_fold_stack(cfg, data, splits, seeds, on_epoch)
        for fold_result in result.folds:
            if on_fold is not None:
                on_fold(fold_result)
        result.wall_time = time.perf_counter() - start
        return result
    model = None
    for fold, (train_idx, val_idx) in enumerate(splits):
        extra = callbacks_for_fold(fold) if callbacks_for_fold else []
        fold_result, model = _fit_one(cfg, data, train_idx, val_idx, fold,
                                      fold_seed(seed, fold), on_epoch, extra)
        result.folds.append(fold_result)
        if protocol.kind == "train_test":
            result.test_loss, result.test_accuracy = (float(v) for v in model.evaluate(
                data.x_test, data.y_test, batch_size=1024, verbose=0))
        last_fold = fold == protocol.num_fits - 1
        if on_fold is not None and not on_fold(fold_result) and not last_fold:
            result.status = "pruned"
            break
        if not (keep_model and last_fold):
            model = None
    result.wall_time = time.perf_counter() - start
    return (result, model) if keep_model else result
