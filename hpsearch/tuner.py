"""Keras Tuner tuners whose `run_trial` scores a config by k-fold CV through `evaluate`.

We extend Keras Tuner rather than fork it: its oracles (random, Bayesian, Hyperband, grid) pick
the values and keep their own state; we override one hook on the tuner (`run_trial`) and a few
small ones on the oracle (atomic saves, a warm-start first trial, re-queueing a dead worker's
trial). No model ever lives on the tuner, so memory stays flat over trials.

Hyperband with CV: Keras Tuner keeps one checkpoint per trial, which is wrong when a trial is k
models. We keep one checkpoint *per fold* (`trial_<id>/fold<k>.weights.h5`): a promoted trial
continues fold k from its parent's fold k, so every fold still trains and validates on the same
split, and every rung is scored by full k-fold CV.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.data import Dataset
from hpsearch.errors import ConfigError, HpsearchError, TrialFailed
from hpsearch.fileio import atomic_write_json
from hpsearch.pruning import DEFAULT_MARGIN, should_prune
from hpsearch.space import Space
from hpsearch.trials import KT_DIR, Project, TrialRecord, fold_summary, now

TUNERS = ("random", "bayesian", "hyperband", "grid")
OBJECTIVE = "val_accuracy"


@dataclass(frozen=True)
class TuneSettings:
    """Everything that decides what a search does (the space aside)."""

    tuner: str = "bayesian"
    max_trials: int = 30
    folds: int = 3
    seed: int = 0
    prune: bool = True
    prune_margin: float = DEFAULT_MARGIN
    max_failures: int = 5
    hyperband_factor: int = 3
    initial_points: int = 8  # Bayesian: random trials before the Gaussian process takes over
    # Train a trial's k folds at once as k towers of one model (evaluate(stacked=True)); used
    # when nothing has to happen between folds: no pruning, no Hyperband fold checkpoints, no
    # per-fold callbacks (TensorBoard).
    stack_folds: bool = True
    # First trial = every knob's default (a known-good config); off only where a search must
    # sample exactly what plain Keras Tuner samples (scripts/bench_tune.py).
    warm_start: bool = True


@dataclass
class Hooks:
    """What the caller (the CLI) wants to hear about; all optional."""

    trial_begin: Callable[[str, Any], None] | None = None
    epoch: Callable[[int, int, dict[str, float]], None] | None = None
    fold_end: Callable[[TrialRecord], None] | None = None
    trial_end: Callable[[TrialRecord], None] | None = None
    # extra Keras callbacks per fold, e.g. TensorBoard: (trial_id, fold, params) -> callbacks
    fold_callbacks: Callable[[str, int, dict[str, Any]], list[Any]] | None = None


def _oracle_mixin() -> type:
    import keras_tuner as kt
    from keras_tuner.src.engine.oracle import synchronized

    class CVOracleMixin:
        """Atomic state files, a warm-start first trial, and re-queueing a lost trial."""

        warm_start = True

        def _random_values(self) -> dict[str, Any] | None:
            # The first trial uses every knob's default (a known-good config), like Optuna's
            # enqueue_trial: random and Bayesian searches then start from a sensible floor.
            if self.warm_start and not self.trials:
                hps = self.hyperparameters.copy()
                hps.ensure_active_values()
                return {k: v for k, v in hps.values.items() if hps.is_active(k)}
            return super()._random_values()

        def save(self) -> None:
            atomic_write_json(self._get_oracle_fname(), self.get_state())

        def reload(self) -> None:
            # Keras Tuner writes a new trial's trial.json before oracle.json: a kill between the
            # two leaves a RUNNING trial that no tuner owns and that is not in the retry queue.
            # It would count towards max_trials and never run, so the search would end one
            # trial short. Every trial still RUNNING at start-up is orphaned: run it again.
            super().reload()
            for trial_id, trial in self.trials.items():
                if trial.status == "RUNNING" and trial_id not in self._retry_queue:
                    self._retry_queue.append(trial_id)

        def _save_trial(self, trial: Any) -> None:
            path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
            atomic_write_json(path, trial.get_state())

        @synchronized
        def requeue_tuner(self, tuner_id: str) -> str | None:
            """A worker died: put its trial back in the queue and stop waiting for it."""
            trial = self.ongoing_trials.pop(tuner_id, None)
            self.tuner_ids.discard(tuner_id)
            if trial is not None:
                self._retry_queue.append(trial.trial_id)
            self.save()
            return trial.trial_id if trial is not None else None

    del kt
    return CVOracleMixin


def oracle_seed(seed: int) -> int:
    """Keras Tuner treats seed 0 as "no seed" (random); shift so every --seed is reproducible."""
    return seed + 1


def make_oracle(space: Space, settings: TuneSettings) -> Any:
    """One of Keras Tuner's own oracles, with our small overrides mixed in."""
    import keras_tuner as kt

    mixin = _oracle_mixin()
    objective = kt.Objective(OBJECTIVE, direction="max")
    common = {"objective": objective, "hyperparameters": space.declare(),
              "seed": oracle_seed(settings.seed),
              "max_consecutive_failed_trials": settings.max_failures}
    if settings.tuner == "random":
        base, extra = kt.oracles.RandomSearchOracle, {"max_trials": settings.max_trials}
    elif settings.tuner == "bayesian":
        base = kt.oracles.BayesianOptimizationOracle
        extra = {"max_trials": settings.max_trials,
                 "num_initial_points": min(settings.initial_points, settings.max_trials)}
    elif settings.tuner == "grid":
        base, extra = kt.oracles.GridSearchOracle, {"max_trials": settings.max_trials}
    elif settings.tuner == "hyperband":
        base = kt.oracles.HyperbandOracle
        extra = {"max_epochs": space.base.epochs, "factor": settings.hyperband_factor}
    else:
        raise ConfigError(f"--tuner {settings.tuner!r} is unknown; choose one of "
                          f"{', '.join(TUNERS)}")
    oracle_cls = type(f"CV{base.__name__}", (mixin, base), {})
    try:
        oracle = oracle_cls(**common, **extra)
    except ValueError as exc:  # e.g. grid search over a continuous range
        raise ConfigError(f"--tuner {settings.tuner}: {exc}") from exc
    if settings.tuner == "hyperband":
        oracle.max_trials = settings.max_trials  # Hyperband has no budget of its own in KT
    oracle.warm_start = settings.warm_start
    return oracle


def _fold_checkpoint(load: Path | None, save: Path, offset: int) -> Any:
    """Callback: start from the parent's weights for this fold, save ours at the end."""
    import keras

    class FoldCheckpoint(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            if load is not None and load.is_file():
                self.model.load_weights(load)

        def on_train_end(self, logs: Any = None) -> None:
            save.parent.mkdir(parents=True, exist_ok=True)
            self.model.save_weights(save)

    del offset
    return FoldCheckpoint()


def make_tuner_class() -> type:
    import keras_tuner as kt
    from keras_tuner.src.distribute import utils as dist_utils

    class CVTuner(kt.Tuner):
        """A Keras Tuner `Tuner` whose trials are scored by k-fold CV via `evaluate`."""

        def __init__(self, oracle: Any, space: Space, settings: TuneSettings, project: Project,
                     hooks: Hooks | None = None, **kwargs: Any) -> None:
            self.space, self.settings, self.project = space, settings, project
            self.hooks = hooks or Hooks()
            with contextlib.redirect_stdout(io.StringIO()):  # KT prints "Reloading ..."
                super().__init__(oracle=oracle, hypermodel=None, directory=str(project.dir),
                                 project_name=KT_DIR, overwrite=False, **kwargs)

        # -------------------------------------------------------- the one real override
        def run_trial(self, trial: Any, data: Dataset, **_: Any) -> dict[str, float]:
            from keras_tuner.errors import FailedTrialError

            from hpsearch.evaluate import Protocol, evaluate

            values = dict(trial.hyperparameters.values)
            params = {k: v for k, v in values.items() if not k.startswith("tuner/")}
            old = self.project.read_record(trial.trial_id)
            if old is not None and old.final and old.params == params:
                # Finished before a kill, but the oracle never heard: report, don't re-run.
                if old.status == "failed":
                    raise FailedTrialError(old.reason)
                return {OBJECTIVE: old.mean}
            budget = int(values.get("tuner/epochs", self.space.base.epochs))
            initial = int(values.get("tuner/initial_epoch", 0))
            record = TrialRecord(trial.trial_id, params, {}, worker=self.tuner_id,
                                 epochs_budget=budget)
            try:
                cfg = self.space.to_config(params, epochs=max(1, budget - initial))
            except ConfigError as exc:
                self._finish(record, "failed", str(exc))
                raise FailedTrialError(str(exc)) from exc
            record.config = cfg.to_dict() | {"epochs": budget}
            self.project.write_record(record)
            if self.hooks.trial_begin:
                self.hooks.trial_begin(trial.trial_id, cfg)
            start = time.perf_counter()

            def on_fold(fold: Any) -> bool:
                summary = fold_summary(fold)
                summary["best_epoch"] += initial
                summary["epochs_run"] += initial
                record.folds.append(summary)
                record.wall_time = time.perf_counter() - start
                decision = self._prune_decision(record)
                if decision.prune:
                    record.status, record.reason = "pruned", decision.reason
                self.project.write_record(record)
                if self.hooks.fold_end:
                    self.hooks.fold_end(record)
                return not decision.prune

            checkpoints = self._checkpoints(values, trial.trial_id, initial)

            def callbacks_for_fold(fold: int) -> list[Any]:
                callbacks = checkpoints(fold) if checkpoints else []
                if self.hooks.fold_callbacks:
                    callbacks += self.hooks.fold_callbacks(trial.trial_id, fold, params)
                return callbacks

            stacked = (self.settings.stack_folds and not self.settings.prune
                       and checkpoints is None and self.hooks.fold_callbacks is None)
            try:
                evaluate(cfg, data, Protocol.kfold(self.settings.folds), self.settings.seed,
                         on_epoch=self.hooks.epoch, on_fold=on_fold,
                         callbacks_for_fold=None if stacked else callbacks_for_fold,
                         stacked=stacked)
            except TrialFailed as exc:
                record.wall_time = time.perf_counter() - start
                self._finish(record, "failed", str(exc))
                raise FailedTrialError(str(exc)) from exc
            self._finish(record, "pruned" if record.status == "pruned" else "ok", record.reason)
            return {OBJECTIVE: record.mean}

        # -------------------------------------------------------- helpers
        def _prune_decision(self, record: TrialRecord) -> Any:
            from hpsearch.pruning import PruneDecision

            if not self.settings.prune or len(record.folds) >= self.settings.folds:
                return PruneDecision(False)
            peers = [r for r in self.project.records() if r.trial_id != record.trial_id
                     and r.epochs_budget == record.epochs_budget]
            return should_prune(record.scores(), peers, self.settings.prune_margin)

        def _checkpoints(self, values: dict[str, Any], trial_id: str,
                         initial: int) -> Callable[[int], list[Any]] | None:
            if self.settings.tuner != "hyperband":
                return None
            parent = values.get("tuner/trial_id")

            def for_fold(fold: int) -> list[Any]:
                load = (Path(self.get_trial_dir(parent)) / f"fold{fold}.weights.h5"
                        if parent else None)
                save = Path(self.get_trial_dir(trial_id)) / f"fold{fold}.weights.h5"
                return [_fold_checkpoint(load, save, initial)]
            return for_fold

        def _finish(self, record: TrialRecord, status: str, reason: str) -> None:
            record.status, record.reason, record.finished = status, reason, now()
            self.project.write_record(record)

        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            self.project.write_results(self.settings.folds)
            record = self.project.read_record(trial.trial_id)
            if record is not None and self.hooks.trial_end:
                self.hooks.trial_end(record)

        # Models are never kept: nothing to save or load per trial (flat memory).
        def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
            return None

        def load_model(self, trial: Any) -> Any:
            raise HpsearchError("hpsearch does not keep trial models; use `hpsearch export "
                                "--from DIR` to refit the best config")

        def save(self) -> None:
            if not self._is_worker():
                self.oracle.save()
            atomic_write_json(self._get_tuner_fname(), self.get_state())

        def _get_tuner_fname(self) -> str:
            # One file for the chief or a single process, so either can resume the other.
            name = self.tuner_id if dist_utils.has_chief_oracle() and \
                not dist_utils.is_chief_oracle() else "tuner0"
            return os.path.join(str(self.project_dir), f"{name}.json")

    return CVTuner


def build_tuner(space: Space, settings: TuneSettings, project: Project,
                hooks: Hooks | None = None) -> Any:
    from keras_tuner.src import config as kt_config

    kt_config.DEBUG = False  # KT prints every failed trial's traceback; our record has reason
    return make_tuner_class()(make_oracle(space, settings), space, settings, project, hooks)


def remaining_trials(tuner: Any) -> int:
    """Trials still to start (the oracle counts running-then-killed trials as started)."""
    done = sum(1 for t in tuner.oracle.trials.values()
               if t.status in ("COMPLETED", "FAILED"))
    return max(0, tuner.settings.max_trials - done)


def run_search(tuner: Any, data: Dataset) -> None:
    """`tuner.search`, with Keras Tuner's failure stop turned into a one-line error."""
    try:
        tuner.search(data, verbose=0)
    except RuntimeError as exc:
        if "consecutive failures" not in str(exc):
            raise
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        last = last.split("FailedTrialError: ", 1)[-1]
        raise TrialFailed(f"stopped after {tuner.settings.max_failures} trials in a row failed "
                          f"(last: {last}); narrow the space (e.g. a lower learning_rate max) "
                          "and resume with --resume") from exc
