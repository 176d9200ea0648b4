"""The one training loop: epochs of k towers (`towers.py`), for every fit in hpsearch.

Why not `Model.fit`: Keras' loop pulls every batch through tf.data and wraps each group of
steps in optionals and conds (~1 ms per step on a small net, most of its epoch at batch 32),
and it cannot be compiled by XLA as a whole. Here a training pass is one `tf.while_loop` over
the epoch's index columns, called a few times per epoch (each call about `CALL_SECONDS`, so
Ctrl-C is seen between calls), with the model's own `train_step` inside, compiled by XLA when
the fit is long enough to repay the compilation (`use_xla`). On the lab's model 1 that makes an
epoch ~4x faster than the same step traced without XLA.

What the loop owns, once for every caller: per-tower shuffles (tower j's batches depend only on
its seed and its rows), the learning-rate schedule, per-tower early stopping with best-weight
restore, divergence detection, per-epoch hooks (progress, pruning) and epoch timing.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hpsearch import stop_signal
from hpsearch.config import ModelConfig
from hpsearch.training.session import DIVERGED_LOSS, diverged, fresh_session

if TYPE_CHECKING:
    from hpsearch.training.tower_model import Towers

# XLA for the training pass: "auto" (default) compiles a fit long enough to repay the
# compilation (`use_xla`); HPSEARCH_XLA=1 always, HPSEARCH_XLA=0 never.
XLA_MODE = os.environ.get("HPSEARCH_XLA", "auto").strip().lower()
# Compiling a pass with XLA costs ~1.5 s more than tracing it on this 2-core CPU; each batch
# step then saves ~1 ms of per-op dispatch plus ~3 ns per weight of each tower (XLA fuses the
# optimizer's elementwise updates, which traced run as separate passes over every weight).
# `use_xla` compiles when the planned steps repay it; the figures are in docs/TRAINING.md.
COMPILE_SECONDS = 1.5
STEP_SAVING_S = 1e-3
WEIGHT_SAVING_S = 3e-9
VALIDATION_BATCH = 1024
CALL_SECONDS = 2.0  # wall time of one tf.function call of a pass
FIRST_CALL_STEPS = 32

EpochHook = Callable[[int, int, dict[str, float]], None]  # (tower, epoch 1-based, logs)
# (epoch 1-based, each tower's logs) -> False to stop every tower now (pruning)
EpochGate = Callable[[int, list[dict[str, float]]], bool]


@dataclass
class TowerRun:
    """What one tower did: its curves, how long it ran, and why it stopped."""

    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    diverged: bool = False
    early_stopped: bool = False
    best_epoch: int = 0  # 1-based epoch of the monitored best (restored when patience > 0)

    @property
    def last_loss(self) -> float:
        return self.history["loss"][-1] if self.history.get("loss") else math.nan


@dataclass
class FitOutcome:
    """The trained towers and what each did; `gated` when a gate stopped them (pruning)."""

    towers: Towers  # valid until the next fit of the same shapes restarts them
    runs: list[TowerRun]
    epoch_times: list[float]
    fit_time: float
    init_digests: list[str]  # hash of each tower's initial weights: proves each starts fresh
    gated: bool = False
    xla: bool = True  # whether the training pass ran XLA-compiled


def learning_rate_factor(cfg: ModelConfig, epoch: int) -> float:
    """Multiplier of the base learning rate in epoch `epoch` (0-based).

    Cosine annealing per epoch, lr_e = lr * (1 + cos(pi * e / epochs)) / 2, ends near 0 at the
    epoch budget: on Fashion-MNIST MLPs it is worth ~1 point of accuracy over a constant rate
    at the same number of epochs (docs/TUNE.md). A refit for E epochs anneals over those E.
    """
    if cfg.lr_schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * min(epoch, cfg.epochs) / cfg.epochs))


def use_xla(cfg: ModelConfig, train_rows: int, towers: int = 1, inputs: int = 784,
            classes: int = 10) -> bool:
    """Whether a fit of `towers` towers of `cfg` on `train_rows` rows each compiles its pass.

    Compiled when the planned steps save more than the compilation costs:
    epochs x batches x (`STEP_SAVING_S` + `WEIGHT_SAVING_S` x towers x weights) >=
    `COMPILE_SECONDS`. Decided from the config and the data's size only, never from timings,
    so one config on one data set always takes the same path and gives the same numbers.

    Args:
        cfg: the config (its epochs, batch size and layers).
        train_rows: the longest tower's training rows.
        towers: how many towers train together.
        inputs: features per row.
        classes: output classes.

    Returns:
        Whether to compile (always with `HPSEARCH_XLA=1`, never with `HPSEARCH_XLA=0`).

    Example:
        >>> use_xla(ModelConfig(hidden=(256,), batch_size=256, epochs=15), 3000, towers=2)
        False
        >>> use_xla(ModelConfig(hidden=(256,), batch_size=256, epochs=15), 30000, towers=2)
        True
    """
    if XLA_MODE in ("0", "1"):
        return XLA_MODE == "1"
    if XLA_MODE != "auto":
        from hpsearch.errors import ConfigError

        raise ConfigError(f"HPSEARCH_XLA={XLA_MODE!r} is not a setting; use auto (the "
                          "default: compile the fits it pays for), 1 (always) or 0 (never)")
    steps = cfg.epochs * -(-train_rows // cfg.batch_size)
    per_step = STEP_SAVING_S + WEIGHT_SAVING_S * towers * cfg.weight_count(inputs, classes)
    return steps * per_step >= COMPILE_SECONDS


def columns(sets: list[np.ndarray], multiple: int = 1,
            orders: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, k) index and weight matrices, column j = `sets[j]` (in `orders[j]` if given).

    Columns are padded at the end with weight-0 rows up to the longest set, rounded up to a
    multiple of `multiple` (an XLA step has a static batch shape): a tower's real batches are
    then exactly a standalone fit's batches, its short last batch included.
    """
    longest = max(len(s) for s in sets)
    n = -(-longest // multiple) * multiple
    idx = np.zeros((n, len(sets)), dtype=np.int32)
    weights = np.zeros((n, len(sets)), dtype=np.float32)
    for j, rows in enumerate(sets):
        rows = rows if orders is None else rows[orders[j]]
        idx[:len(rows), j], weights[:len(rows), j] = rows, 1.0
        idx[len(rows):, j] = rows[0] if len(rows) else 0
    return idx, weights


def _pass_function(towers: Any, training: bool, batch_size: int, k: int, xla: bool) -> Any:
    """A `tf.function` running steps [first, last) of a pass over (rows, k) columns.

    A training pass stops early once every tower's running loss has diverged (nothing left
    to learn); a validation pass always covers its whole set.
    """
    import tensorflow as tf

    step = towers.train_step if training else towers.test_step
    cols = tf.TensorSpec((None, k), tf.int32)
    number = tf.TensorSpec((), tf.int32)
    spec = (cols, cols, tf.TensorSpec((None, k), tf.float32), number, number)

    @tf.function(input_signature=spec, autograph=False, jit_compile=xla)
    def run(idx: Any, y: Any, w: Any, first: Any, last: Any) -> Any:
        n = tf.shape(idx)[0]

        def going(s: Any) -> Any:
            if not training:
                return s < last
            loss, _, weight = towers.scores.sums
            mean = loss / tf.maximum(weight, 1e-12)
            alive = tf.logical_and(tf.math.is_finite(mean), mean <= DIVERGED_LOSS)
            return tf.logical_and(s < last, tf.reduce_any(alive))

        def one_step(s: Any) -> Any:
            lo = s * batch_size
            if xla:  # static batch shape: the columns are padded to whole batches
                size = [batch_size, k]
                batch = (tf.slice(idx, [lo, 0], size), tf.slice(y, [lo, 0], size),
                         tf.slice(w, [lo, 0], size))
            else:
                hi = tf.minimum(lo + batch_size, n)
                batch = (idx[lo:hi], y[lo:hi], w[lo:hi])
            step(batch)
            return (s + 1,)

        tf.while_loop(going, one_step, (first,))
        return towers.get_metrics_result()

    return run


def _run_pass(run: Any, cols: tuple[np.ndarray, ...], batch_size: int,
              training: bool = True) -> dict[str, Any]:
    """All steps of one pass, in calls of about `CALL_SECONDS` each: Python sees Ctrl-C only
    between calls, so an interrupt stays prompt even when a whole epoch takes minutes, while
    each call still runs many steps (a call costs far more than a step on a small net)."""
    import tensorflow as tf

    tensors = [tf.constant(column) for column in cols]
    steps = -(-len(cols[0]) // batch_size)
    logs: dict[str, Any] = {}
    first, chunk = 0, FIRST_CALL_STEPS
    while first < steps:
        start = time.perf_counter()
        last = min(first + chunk, steps)
        logs = run(*tensors, tf.constant(first, tf.int32), tf.constant(last, tf.int32))
        if training and all(diverged(float(loss)) for loss in np.asarray(logs["tower_loss"])):
            break  # every tower has blown up: nothing left to learn this epoch
        per_step = (time.perf_counter() - start) / (last - first)
        first = last
        chunk = min(steps, max(FIRST_CALL_STEPS, int(CALL_SECONDS / max(per_step, 1e-6))))
    return {key: np.asarray(value) for key, value in logs.items()}


class _Passes:
    """The compiled training and validation passes of one set of towers.

    With `xla` the training pass is compiled by XLA (the whole while loop fuses into a few
    kernels per step). Should XLA refuse an op (an optimizer or layer it cannot compile), the
    pass falls back to a plain traced function, with the same results, once.
    """

    def __init__(self, towers: Any, batch_size: int, k: int, xla: bool) -> None:
        self.towers, self.batch_size, self.k = towers, batch_size, k
        self.xla = xla
        self.train = _pass_function(towers, True, batch_size, k, xla=xla)
        self.validate = _pass_function(towers, False, VALIDATION_BATCH, k, xla=False)
        self._tracer: threading.Thread | None = None  # started once, by the first `prepare`

    def prepare(self, validation: bool) -> None:
        """Trace the training pass, and have the validation pass traced meanwhile.

        A new set of towers spends ~0.1-0.3 s tracing and instantiating its validation pass,
        Python work that would otherwise wait for the training pass. The first training call
        compiles (XLA) or optimises (grappler) its graph in C++, with the interpreter free and
        one of the two cores idle; a background thread traces the validation pass then and
        calls it once on no rows (no step runs, nothing changes). The same graphs either way,
        so the same numbers: only the wall time changes. An error there is left for the
        validation pass's own first call to raise, in this thread.
        """
        self.train.get_concrete_function()  # here, before the thread, never beside it
        if validation and self._tracer is None:
            self._tracer = threading.Thread(target=self._trace_validation, daemon=True,
                                            name="hpsearch-trace-validation")
            _tracers.append(self._tracer)
            self._tracer.start()

    def _trace_validation(self) -> None:
        import tensorflow as tf

        with contextlib.suppress(Exception):  # the real first call raises it again
            none = tf.zeros((0, self.k), tf.int32)
            zero = tf.constant(0, tf.int32)
            self.validate(none, none, tf.zeros((0, self.k), tf.float32), zero, zero)

    def run_validation(self, cols: tuple[np.ndarray, ...]) -> dict[str, Any]:
        """One validation pass, once the background trace (`prepare`) has finished."""
        if self._tracer is not None:
            self._tracer.join()  # at once after the first time
        return _run_pass(self.validate, cols, VALIDATION_BATCH, training=False)

    def run_train(self, cols: tuple[np.ndarray, ...]) -> dict[str, Any]:
        import tensorflow as tf

        try:
            return _run_pass(self.train, cols, self.batch_size)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
            if not self.xla:
                raise
            self.xla = False
            self.towers.reset_metrics()
            self.train = _pass_function(self.towers, True, self.batch_size, self.k, xla=False)
            return _run_pass(self.train, cols, self.batch_size)


_tracers: list[threading.Thread] = []  # background traces (`_Passes.prepare`) started


def _wait_for_tracers() -> None:
    """Let every background trace finish: a fit that stopped in its first training pass
    (Ctrl-C, an error) never joined its own, and the next fit must not clear the session
    (`fresh_session`) while one is still building a graph."""
    while _tracers:
        _tracers.pop().join()


REUSED_SHAPES = 4  # sets of towers (with their passes) kept for a later fit of their shapes
THAW_AFTER = 4  # dropped sets of towers that trigger one full collection (`fresh_session`)
_REUSABLE: OrderedDict[tuple[Any, ...], tuple[Any, _Passes]] = OrderedDict()
_dropped = [0]  # sets of towers dropped since the last full collection


def _thaw_due() -> bool:
    """True, once, when `THAW_AFTER` sets of towers have been dropped since the last thaw:
    they are frozen cycles that only a full collection frees (`fresh_session`)."""
    if _dropped[0] < THAW_AFTER:
        return False
    _dropped[0] = 0
    return True


def _towers_and_passes(cfg: ModelConfig, table: Any, seeds: list[int], num_classes: int,
                       xla: bool, scaled: bool = False) -> tuple[Any, _Passes]:
    """Towers ready for a fresh fit of `cfg`, with their traced passes.

    A fit whose shapes (`towers.shape_key`) match one of the last `REUSED_SHAPES` fits on the
    same rows restarts that fit's towers instead of building new ones: new initial weights,
    rates, seeds and optimizer state, and no tracing or XLA compilation (~1-2.5 s a fit).
    A Bayesian search comes back to its best shapes with other rates, and a study's
    variants often differ only in a rate, so this is common; and TensorFlow never frees a
    compiled XLA program, so each reuse also keeps the process from growing. The towers of
    a finished fit are valid until the next fit of their shapes. Dropped towers survive
    `fresh_session`'s frozen heap until `THAW_AFTER` of them have been dropped.
    """
    from hpsearch.training.towers import build_towers, shape_key

    for key in [key for key, (towers, _) in _REUSABLE.items() if towers._table[0] is not table]:
        del _REUSABLE[key]  # fitted on other rows
        _dropped[0] += 1
    key = (shape_key(cfg, len(seeds), num_classes, scaled), xla)
    if key in _REUSABLE:
        _REUSABLE.move_to_end(key)
        towers, passes = _REUSABLE[key]
        towers.restart(cfg, seeds)
        return towers, passes
    towers = build_towers(cfg, table, seeds, num_classes, scaled)
    passes = _Passes(towers, cfg.batch_size, len(seeds), xla)
    _REUSABLE[key] = (towers, passes)
    while len(_REUSABLE) > REUSED_SHAPES:
        _REUSABLE.popitem(last=False)
        _dropped[0] += 1
    return towers, passes


def _tower_logs(logs: dict[str, Any], j: int, prefix: str = "") -> dict[str, float]:
    return {f"{prefix}loss": float(logs["tower_loss"][j]),
            f"{prefix}accuracy": float(logs["tower_accuracy"][j])}


def fit_towers(cfg: ModelConfig, rows: np.ndarray, labels: np.ndarray,
               train_sets: list[np.ndarray], val_sets: list[np.ndarray] | None,
               seeds: list[int], num_classes: int, *, on_epoch: EpochHook | None = None,
               gate: EpochGate | None = None, keep_best: bool = False,
               initial_weights: list[list[np.ndarray] | None] | None = None,
               xla: bool | None = None,
               inputs: tuple[np.ndarray, np.ndarray] | None = None) -> FitOutcome:
    """Train k = len(seeds) towers of `cfg`; tower j on rows `train_sets[j]`.

    Args:
        cfg: the config all towers share (epochs, batch size, schedule, patience...).
        rows: the flattened training rows (n, features); towers read them by index only.
        labels: integer labels of `rows`.
        train_sets: per tower, the indices into `rows` it trains on.
        val_sets: per tower, the indices it is validated on after each epoch (None: none).
        seeds: per tower, the seed of its initial weights and of its shuffle.
        num_classes: number of classes.
        on_epoch: called after each epoch for each tower still running.
        gate: called after each epoch; returning False stops all towers (pruning).
        keep_best: with `cfg.patience > 0`, restore each tower's best-epoch weights at the end
            (only worth it when a model is kept: it copies the weights at every improvement).
        initial_weights: per tower, weights to start from instead of fresh ones (Hyperband).
        xla: compile the training pass with XLA; None decides by `use_xla` (the dry-run
            passes what the real trial will decide, since it times a shorter fit).
        inputs: per tower, (shift, factor) arrays (k, features): tower j reads
            (row - shift[j]) / factor[j] for training and validation rows alike (its CV
            fold's own scaling, `features.fold_scaling`); None reads the rows as they are.

    Returns:
        A `FitOutcome` with the towers and one `TowerRun` per tower.

    Example:
        >>> out = fit_towers(cfg, x, y, [tr0, tr1], [va0, va1], [0, 1], 10)  # doctest: +SKIP
        >>> out.runs[0].history["val_accuracy"][-1]  # doctest: +SKIP
    """
    from hpsearch.training.rows import shared_rows
    from hpsearch.training.towers import set_tower_weights, tower_weights

    k = len(seeds)
    _wait_for_tracers()
    fresh_session(thaw=_thaw_due())
    if xla is None:
        xla = use_xla(cfg, max(len(s) for s in train_sets), k, rows.shape[1], num_classes)
    towers, passes = _towers_and_passes(cfg, shared_rows(rows), seeds, num_classes, xla,
                                        scaled=inputs is not None)
    if inputs is not None:
        towers.set_inputs(*inputs)
    for j, weights in enumerate(initial_weights or []):
        if weights is not None:
            set_tower_weights(towers, j, weights)
    digests = [weights_digest(tower_weights(towers, j)) for j in range(k)]
    val_cols = None
    if val_sets is not None:
        val_idx, val_w = columns(val_sets)
        val_cols = (val_idx, labels[val_idx].astype(np.int32), val_w)
    shufflers = [np.random.default_rng(seed) for seed in seeds]
    runs = [TowerRun() for _ in range(k)]
    monitor = "val_loss" if val_sets is not None else "loss"
    best = [math.inf] * k
    wait = [0] * k
    snapshots: list[list[np.ndarray] | None] = [None] * k
    active = set(range(k))
    optimizer = towers.optimizer
    base_rate = float(optimizer.learning_rate.numpy())
    epoch_times: list[float] = []
    gated = False
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        stop_signal.raise_if_pending()  # a SIGTERM something swallowed stops here
        began = time.perf_counter()
        if epoch == 0:  # the first epoch's time includes tracing, as it always has
            passes.prepare(validation=val_cols is not None)
        optimizer.learning_rate.assign(base_rate * learning_rate_factor(cfg, epoch))
        orders = [shuffler.permutation(len(s)) for shuffler, s in zip(shufflers, train_sets,
                                                                      strict=True)]
        idx, weights = columns(train_sets, cfg.batch_size, orders)
        towers.reset_metrics()
        logs = passes.run_train((idx, labels[idx].astype(np.int32), weights))
        val_logs = None
        if val_cols is not None:
            towers.reset_metrics()
            val_logs = passes.run_validation(val_cols)
        epoch_times.append(time.perf_counter() - began)
        tower_logs = []
        for j in range(k):
            one = _tower_logs(logs, j) | (_tower_logs(val_logs, j, "val_")
                                          if val_logs is not None else {})
            tower_logs.append(one)
            if j not in active:
                continue
            run = runs[j]
            for key, value in one.items():
                run.history.setdefault(key, []).append(value)
            run.epochs_run = epoch + 1
            if diverged(one["loss"]):
                run.diverged = True
                active.discard(j)
                continue
            if on_epoch is not None:
                on_epoch(j, epoch + 1, one)
            # Keras EarlyStopping's rule: strict improvement of the monitored loss, then
            # patience; the best epoch's weights are the ones reported and kept.
            wait[j] += 1
            if one[monitor] < best[j]:
                best[j], wait[j], run.best_epoch = one[monitor], 0, epoch + 1
                if keep_best and cfg.patience > 0:
                    snapshots[j] = tower_weights(towers, j)
            if cfg.patience > 0 and wait[j] >= cfg.patience and epoch > 0:
                run.early_stopped = True
                active.discard(j)
        if not active:
            break
        if gate is not None and not gate(epoch + 1, tower_logs):
            gated = True
            break
    optimizer.learning_rate.assign(base_rate)  # a saved model keeps its base rate
    for j, weights in enumerate(snapshots):
        if weights is not None:
            set_tower_weights(towers, j, weights)
    return FitOutcome(towers, runs, epoch_times, time.perf_counter() - start, digests, gated,
                      passes.xla)


def weights_digest(weights: list[np.ndarray]) -> str:
    """A short hash of a list of weight arrays (two towers with equal digests start equal)."""
    import hashlib

    digest = hashlib.sha256()
    for weight in weights:
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]
