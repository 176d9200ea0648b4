"""`evaluate(cfg, data, protocol, seed)`: how every config in hpsearch is scored.

One function owns the rules the lab broke: a fresh model for every fold, folds that split only
the training data, and the test set touched only by the explicit train/test protocol. All the
fits of one call (the k folds, or the repeats of `evaluate_seeds`) are towers of one model
trained by the one loop (`loop.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.errors import ConfigError, TrialFailed
from hpsearch.stats import sample_std
from hpsearch.training.loop import EpochGate, EpochHook, FitOutcome, fit_towers
from hpsearch.training.session import divergence_message

PROTOCOL_KINDS = ("kfold", "holdout", "train_test")


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
    # 1-based epoch whose scores `val_*` are: the last, or with early stopping the restored
    # one. Recorded so a refit can train exactly the length CV scored (`search/best.py`).
    scored_epoch: int = 0

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

    # std is the sample standard deviation over folds (ddof 1), as everywhere in hpsearch.
    @property
    def mean_val_accuracy(self) -> float:
        return self._stat("val_accuracy", np.mean)

    @property
    def std_val_accuracy(self) -> float:
        return self._stat("val_accuracy", sample_std)

    @property
    def mean_val_loss(self) -> float:
        return self._stat("val_loss", np.mean)

    @property
    def std_val_loss(self) -> float:
        return self._stat("val_loss", sample_std)

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
    if protocol.kind == "kfold":  # sklearn only warns when a class has fewer than k examples
        from hpsearch.data import check_folds

        check_folds(y, protocol.folds)
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


def fold_seed(seed: int, fold: int) -> int:
    """Distinct, reproducible initial weights per fold; the same across configs (paired)."""
    return seed * 7919 + fold


@dataclass
class Tower:
    """Which (seed, fold) a tower of an `evaluate_seeds` call fits."""

    seed: int
    fold: int
    split: tuple[np.ndarray, ...]


def _fold_inputs(cfg: ModelConfig, data: Dataset, protocol: Protocol,
                 towers: list[Tower]) -> tuple[np.ndarray, np.ndarray] | None:
    """Per tower, its fit's own input scaling, or None to read the rows as they are.

    A fold's preprocessing is learned on that fold's training rows only, as a scikit-learn
    `Pipeline` inside `cross_val_score` learns it; so a validation fold never moves its own
    mean and sd. This holds for every protocol that scores on rows split off the training
    set (k-fold, holdout: `cv`, `tune`'s trials, studies' CV). `train_test` is the final fit:
    it keeps the scaling learned on all training rows, which the model card stores. Pixel data
    and `scale="none"` learn nothing, and their towers get no rescaling op.

    A config with `input_scaling="standard"` standardises the rows as the data set gives them
    (pixels / 255, or the features as encoded) on each fit's own training rows, the final
    fit's on all of them: `features.input_standard`. Its exported model folds that into its
    first layer (`towers.to_sequential`), so it reads the data set's rows unchanged.
    """
    from hpsearch.data.features import fold_scaling, input_standard

    if cfg.input_scaling == "standard":
        return input_standard(data.x_train, [t.split[0] for t in towers])
    if protocol.kind == "train_test":
        return None
    return fold_scaling(data.features, data.x_train, [t.split[0] for t in towers])


def _fold_result(cfg: ModelConfig, tower: Tower, j: int, outcome: FitOutcome) -> FoldResult:
    """Tower j's `FoldResult`. Its times (fit and per epoch) are its share of the stack's:
    the stack's time divided by its towers, so times add up and compare across k."""
    run, split = outcome.runs[j], tower.split
    history, n_val = run.history, len(split[1])
    val_loss = val_accuracy = None
    best_epoch = scored_epoch = run.epochs_run
    if n_val:
        # The scores a fit reports: the last epoch's, or with early stopping the best
        # val_loss epoch's, whose weights the loop restores.
        at = run.best_epoch - 1 if cfg.patience > 0 and run.best_epoch else run.epochs_run - 1
        val_loss, val_accuracy = history["val_loss"][at], history["val_accuracy"][at]
        best_epoch, scored_epoch = int(np.argmax(history["val_accuracy"])) + 1, at + 1
    return FoldResult(
        fold=tower.fold, history={key: list(values) for key, values in history.items()},
        train_loss=history["loss"][-1], train_accuracy=history["accuracy"][-1],
        val_loss=val_loss, val_accuracy=val_accuracy, best_epoch=best_epoch,
        epochs_run=run.epochs_run, fit_time=outcome.fit_time / len(outcome.runs),
        epoch_times=[t / len(outcome.runs) for t in outcome.epoch_times[:run.epochs_run]],
        n_train=len(split[0]), n_val=n_val,
        init_digest=outcome.init_digests[j], scored_epoch=scored_epoch)


def evaluate_seeds(cfg: ModelConfig, data: Dataset, protocol: Protocol, seeds: list[int], *,
                   on_epoch: EpochHook | None = None, gate: EpochGate | None = None,
                   keep_model: bool = False,
                   initial_weights: list[list[np.ndarray] | None] | None = None,
                   xla: bool | None = None,
                   ) -> tuple[list[Result | TrialFailed], FitOutcome]:
    """Score `cfg` under `protocol` once per seed, all fits trained at once as towers.

    Each seed's folds are its own split of the training data (`split_indices`), its towers
    start from `fold_seed(seed, fold)`; so a seed's result is the same whether it is fitted
    alone or beside other seeds, up to float rounding and dropout masks.

    Args:
        cfg: the config.
        data: training rows are split; test rows are read only by the train/test protocol.
        protocol: k-fold, holdout or train/test.
        seeds: one entry per repeat.
        on_epoch: per-epoch hook `(tower, epoch, logs)`; towers are numbered seed-major.
        gate: per-epoch gate; returning False stops every tower (the results are "pruned").
        keep_model: keep the towers in the returned outcome (for `to_sequential`).
        initial_weights: per tower, weights to start from (Hyperband's parent checkpoint).
        xla: compile the training pass; None lets the loop decide (`loop.use_xla`).

    Returns:
        Per seed, its `Result` or the `TrialFailed` of a diverged fit; and the fit outcome.

    Example:
        >>> results, _ = evaluate_seeds(cfg, data, Protocol.train_test(), [0, 1])  # doctest: +SKIP
    """
    start = time.perf_counter()
    towers = [Tower(seed, fold, split) for seed in seeds
              for fold, split in enumerate(split_indices(protocol, data.y_train, seed))]
    has_val = all(len(t.split[1]) for t in towers)
    rows = data.x_train.reshape(len(data.x_train), -1)
    outcome = fit_towers(
        cfg, rows, data.y_train, [t.split[0] for t in towers],
        [t.split[1] for t in towers] if has_val else None,
        [fold_seed(t.seed, t.fold) for t in towers], data.num_classes, on_epoch=on_epoch,
        gate=gate, keep_best=keep_model, initial_weights=initial_weights, xla=xla,
        inputs=_fold_inputs(cfg, data, protocol, towers))
    test = None
    if protocol.kind == "train_test":
        from hpsearch.training.towers import score_rows

        test = score_rows(outcome.towers, data.x_test, data.y_test)
    results: list[Result | TrialFailed] = []
    wall = time.perf_counter() - start
    for seed in seeds:
        mine = [(j, t) for j, t in enumerate(towers) if t.seed == seed]
        failed = next((j for j, _ in mine if outcome.runs[j].diverged), None)
        if failed is not None:
            run = outcome.runs[failed]
            what = f"fold {towers[failed].fold + 1}" if protocol.kind == "kfold" else "the fit"
            results.append(TrialFailed(divergence_message(what, run.last_loss, run.epochs_run)))
            continue
        result = Result(config=cfg, protocol=protocol, seed=seed,
                        status="pruned" if outcome.gated else "ok", wall_time=wall / len(seeds))
        result.folds = [_fold_result(cfg, tower, j, outcome) for j, tower in mine]
        if test is not None:
            result.test_loss, result.test_accuracy = float(test[0][mine[0][0]]), \
                float(test[1][mine[0][0]])
        results.append(result)
    if not keep_model:
        outcome.towers = None
    return results, outcome


def evaluate(cfg: ModelConfig, data: Dataset, protocol: Protocol | None = None,
             seed: int | None = None, *, on_epoch: EpochHook | None = None,
             gate: EpochGate | None = None, keep_model: bool = False,
             initial_weights: list[list[np.ndarray] | None] | None = None,
             xla: bool | None = None,
             ) -> Result | tuple[Result, Any]:
    """Fit `cfg` under `protocol` and return its `Result` (and the model if `keep_model`).

    Folds only ever split `data.x_train`; `data.x_test` is read only by `train_test`. All k
    folds train at once as k towers; `gate` may stop them after any epoch (pruning).

    Args:
        cfg: the config to score.
        data: the data set.
        protocol: defaults to 5-fold CV.
        seed: defaults to `cfg.seed`; fixes the folds, initial weights and shuffles.
        on_epoch: per-epoch hook `(fold, epoch, logs)` (progress bars).
        gate: per-epoch gate `(epoch, [logs per fold]) -> go on?`.
        keep_model: also return the (last) fit as a plain Keras `Sequential`.
        initial_weights: per fold, weights to start from (Hyperband).
        xla: compile the training pass; None lets the loop decide (`loop.use_xla`).

    Returns:
        The `Result`, or `(Result, keras.Sequential)` with `keep_model`.

    Raises:
        TrialFailed: a fold's loss diverged.

    Example:
        >>> result = evaluate(preset("model1"), load_dataset(), Protocol.kfold(3))  # doctest: +SKIP
        >>> round(result.mean_val_accuracy, 2)  # doctest: +SKIP
    """
    protocol = protocol or Protocol.kfold()
    seed = cfg.seed if seed is None else seed
    results, outcome = evaluate_seeds(cfg, data, protocol, [seed], on_epoch=on_epoch,
                                      gate=gate, keep_model=keep_model,
                                      initial_weights=initial_weights, xla=xla)
    result = results[0]
    if isinstance(result, TrialFailed):
        raise result
    if not keep_model:
        return result
    from hpsearch.training.towers import to_sequential

    model = to_sequential(cfg, outcome.towers, len(outcome.runs) - 1, data.input_shape,
                          data.num_classes)
    return result, model
