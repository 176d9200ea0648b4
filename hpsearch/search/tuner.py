"""`CVTuner`: a Keras Tuner tuner whose `run_trial` scores a config by k-fold CV (`evaluate`).

We extend Keras Tuner rather than fork it: its oracles (one module per algorithm in
`oracles/`) pick the values and keep their own state; we override one hook on the tuner
(`run_trial`). The tuner never asks which algorithm runs: it reads the oracle class's
`median_pruning` and `continues_parent`. Private Keras Tuner members are reached only through
`kt_adapter`. No model ever lives on the tuner, so memory stays flat over trials.

A trial's k folds train at once, as k towers of one model (`training/`), and the pruner is
asked once per epoch about their mean (`pruning.py`).

Hyperband with CV: Keras Tuner keeps one checkpoint per trial, which is wrong when a trial is k
models. We keep one checkpoint *per fold* (`trial_<id>/fold<k>.weights.npz`, tower k's weights):
a promoted trial continues fold k from its parent's fold k, so every fold still trains and
validates on the same split, and every rung is scored by full k-fold CV.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from hpsearch.data import Dataset
from hpsearch.errors import ConfigError, HpsearchError, TrialFailed
from hpsearch.fileio import atomic_write_json, storage_error
from hpsearch.search import kt_adapter
from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles import ORACLES, make_oracle
from hpsearch.search.oracles.base import OBJECTIVE, CVOracle
from hpsearch.search.project import KT_DIR, Project
from hpsearch.search.space import Space
from hpsearch.search.spec import TuneSpec
from hpsearch.search.trial_record import TrialRecord, fold_summary, now

if TYPE_CHECKING:
    from hpsearch.config import ModelConfig
    from hpsearch.training.loop import EpochGate, EpochHook

TUNERS = tuple(ORACLES)


TuneSettings = TuneSpec  # its name before search/spec.py (scripts and notebooks use it)


@dataclass
class Hooks:
    """What the caller (the CLI) wants to hear about; all optional."""

    trial_begin: Callable[[str, ModelConfig], None] | None = None
    epoch: Callable[[int, int, dict[str, float]], None] | None = None
    trial_end: Callable[[TrialRecord], None] | None = None
    tensorboard: Path | None = None  # log every trial's folds here (HParams plugin)


class CVTuner(kt.Tuner):
    """A Keras Tuner `Tuner` whose trials are scored by k-fold CV via `evaluate`."""

    def __init__(self, oracle: CVOracle, space: Space, settings: TuneSpec,
                 project: Project, hooks: Hooks | None = None, **kwargs: Any) -> None:
        self.space, self.settings, self.project = space, settings, project
        self.hooks = hooks or Hooks()
        # The algorithm's class, not the instance: on a worker Keras Tuner swaps the oracle
        # for a client of the chief's, which hides every attribute but a few.
        self.algorithm: type[CVOracle] = type(oracle)
        from hpsearch.search.project import check_kt_state

        # Damaged Keras Tuner state is refused for library callers and workers too.
        check_kt_state(project.dir / KT_DIR,
                       {r.trial_id for r in project.records() if r.final})
        with contextlib.redirect_stdout(io.StringIO()):  # KT prints "Reloading ..."
            super().__init__(oracle=oracle, hypermodel=None, directory=str(project.dir),
                             project_name=KT_DIR, overwrite=False, **kwargs)

    deadline: float | None = None  # time.time() by which the last trial must end

    def pre_create_trial(self) -> None:
        # time_budget: start no trial that would end after it, at a full-length trial's time
        # (Optuna's `timeout` only stops starting trials once it has passed; this looks ahead)
        if self.deadline is not None and \
                time.time() + expected_trial_seconds(self.project) > self.deadline:
            raise TimeBudgetSpent

    # -------------------------------------------------------- the one real override
    def run_trial(self, trial: kt.engine.trial.Trial, data: Dataset,
                  **_: object) -> dict[str, float]:
        from keras_tuner.errors import FailedTrialError, FatalError

        from hpsearch.training.evaluate import Protocol, evaluate_seeds

        values = dict(trial.hyperparameters.values)
        params = {k: v for k, v in values.items() if not k.startswith("tuner/")}
        old = self.project.read_record(trial.trial_id)
        if old is not None and old.final and old.params == params:
            # Finished before a kill, but the oracle never heard: report, don't re-run.
            if old.status == "failed":
                raise FailedTrialError(old.reason)
            return {OBJECTIVE: old.mean}
        budget = int(values["tuner/epochs"]) if "tuner/epochs" in values \
            else self.space.trial_epochs(params)
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
        continues = self.algorithm.continues_parent
        parent = values.get("tuner/trial_id") if continues else None
        try:
            results, outcome = evaluate_seeds(
                cfg, data, Protocol.kfold(self.settings.folds), [self.settings.seed],
                on_epoch=self._live(record, initial, start),
                gate=self._gate(record, budget, initial),
                keep_model=continues, initial_weights=self._parent_weights(parent))
        except HpsearchError as exc:  # the record must not stay "running"
            record.folds, record.wall_time = [], time.perf_counter() - start
            self._finish(record, "failed", str(exc))
            if isinstance(exc, TrialFailed):  # this trial's own problem
                raise FailedTrialError(str(exc)) from exc
            # A setting every trial would trip on: Keras Tuner's search lets only its
            # FatalError through (others just fail the trial); run_search unwraps it.
            raise FatalError(str(exc)) from exc
        result = results[0]
        if isinstance(result, TrialFailed):
            record.folds = []  # a failed trial has no scores (its live curves go)
            record.wall_time = time.perf_counter() - start
            self._finish(record, "failed", str(result))
            raise FailedTrialError(str(result))
        if continues:  # one checkpoint per fold (per tower), for the promoted children
            self._save_fold_weights(trial.trial_id, outcome.towers)
        record.folds = [fold_summary(fold) for fold in result.folds]
        for summary in record.folds:  # Hyperband: epochs count from the parent's start
            for key in ("best_epoch", "scored_epoch", "epochs_run"):
                summary[key] += initial
        record.wall_time = time.perf_counter() - start
        self._finish(record, "pruned" if result.status == "pruned" else "ok", record.reason)
        if self.hooks.tensorboard is not None:
            from hpsearch.search.tensorboard import log_trial

            log_trial(self.hooks.tensorboard, record)
        return {OBJECTIVE: record.mean}

    # -------------------------------------------------------- helpers
    def _live(self, record: TrialRecord, initial: int, start: float) -> EpochHook:
        """The epoch hook: the caller's, then, once every fold has reported an epoch, the
        running record rewritten with each fold's curves so far (live dashboards read
        them; the final record replaces them with the folds' summaries)."""
        curves: dict[int, dict[str, list[float]]] = {}

        def on_epoch(fold: int, epoch: int, logs: dict[str, float]) -> None:
            if self.hooks.epoch:
                self.hooks.epoch(fold, epoch, logs)
            for key, value in logs.items():
                curves.setdefault(fold, {}).setdefault(key, []).append(value)
            if fold != self.settings.folds - 1:
                return
            record.folds = [{
                "fold": j, "val_accuracy": h.get("val_accuracy", [None])[-1],
                "val_loss": h.get("val_loss", [None])[-1],
                "train_accuracy": h.get("accuracy", [None])[-1],
                "train_loss": h.get("loss", [None])[-1],
                "best_epoch": int(np.argmax(h.get("val_accuracy", [0]))) + 1 + initial,
                "epochs_run": len(h.get("loss", [])) + initial, "history": h}
                for j, h in sorted(curves.items())]
            record.wall_time = time.perf_counter() - start
            self.project.write_record(record)
        return on_epoch

    def _gate(self, record: TrialRecord, budget: int, initial: int) -> EpochGate | None:
        """The per-epoch pruning question for this trial (None: never pruned).

        An algorithm without `median_pruning` (Hyperband) is left to its own schedule: its
        trials resume from a parent's epoch, so their curves do not line up with their
        peers'."""
        if not self.settings.prune or not self.algorithm.median_pruning:
            return None
        from hpsearch.search.pruning import make_pruner, mean_curve

        pruner = make_pruner(self.settings.pruner, budget, self.settings.prune_min_trials,
                             self.settings.prune_peers)
        cache: dict[str, list[float]] = {}
        done: set[str] = set()  # peers whose curve can no longer change
        seen: dict[str, int] = {}  # peer record -> the mtime it had when last read

        def go_on(epoch: int, folds: list[dict[str, float]]) -> bool:
            running = float(sum(f["val_accuracy"] for f in folds) / len(folds))
            # Peers finish while this trial runs (other workers too): read each peer's
            # record again only when it has changed, not every record every epoch.
            for peer_id, path in self.project.record_paths().items():
                if peer_id in done or peer_id == record.trial_id:
                    continue
                try:
                    stamp = path.stat().st_mtime_ns
                except OSError:
                    continue
                if seen.get(peer_id) == stamp:
                    continue
                seen[peer_id] = stamp
                peer = self.project.read_record(peer_id)
                if peer is None or peer.epochs_budget != budget:
                    continue
                if peer.final:
                    done.add(peer_id)
                if peer.status in pruner.peers:
                    cache[peer_id] = mean_curve([f.get("history", {}) for f in peer.folds])
            decision = pruner.decide(epoch + initial, budget, running, list(cache.values()))
            if decision.prune:
                record.reason = decision.reason
            return not decision.prune
        return go_on

    def _parent_weights(self, parent: str | None) -> list[list[np.ndarray] | None] | None:
        if parent is None:
            return None
        weights = []
        for fold in range(self.settings.folds):
            path = Path(self.get_trial_dir(parent)) / f"fold{fold}.weights.npz"
            if not path.is_file():
                weights.append(None)
                continue
            try:
                with np.load(path) as saved:
                    weights.append([saved[f"w{i}"] for i in range(len(saved.files))])
            except (OSError, ValueError, KeyError) as exc:
                raise TrialFailed(f"{path}: Hyperband checkpoint cannot be loaded ({exc}); "
                                  "delete it to retrain that fold from scratch") from exc
        return weights

    def _save_fold_weights(self, trial_id: str, towers: Any) -> None:
        from hpsearch.training.towers import tower_weights

        self.project.guard()
        directory = Path(self.get_trial_dir(trial_id))
        directory.mkdir(parents=True, exist_ok=True)
        for fold in range(self.settings.folds):
            path = directory / f"fold{fold}.weights.npz"
            partial = path.with_name(path.name + ".partial.npz")
            try:
                np.savez(partial, **{f"w{i}": w
                                     for i, w in enumerate(tower_weights(towers, fold))})
                os.replace(partial, path)  # a kill mid-write leaves the old file or none
            except OSError as exc:
                raise storage_error(path, exc) from exc

    def _finish(self, record: TrialRecord, status: str, reason: str) -> None:
        record.status, record.reason, record.finished = status, reason, now()
        self.project.write_record(record)

    def on_trial_end(self, trial: kt.engine.trial.Trial) -> None:
        super().on_trial_end(trial)
        self.project.write_results(self.settings.folds)
        record = self.project.read_record(trial.trial_id)
        if record is not None and self.hooks.trial_end:
            self.hooks.trial_end(record)

    # Models are never kept: nothing to save or load per trial (flat memory).
    def save_model(self, trial_id: str, model: object, step: int = 0) -> None:
        return None

    def load_model(self, trial: kt.engine.trial.Trial) -> NoReturn:
        raise HpsearchError("hpsearch does not keep trial models; use `hpsearch export "
                            "--from DIR` to refit the best config")

    def save(self) -> None:
        self.project.guard()
        if not kt_adapter.is_worker(self):
            self.oracle.save()
        atomic_write_json(self._get_tuner_fname(), self.get_state())

    def _get_tuner_fname(self) -> str:
        # One file for the chief or a single process, so either can resume the other.
        name = self.tuner_id if kt_adapter.is_distributed_worker() else "tuner0"
        return os.path.join(str(self.project_dir), f"{name}.json")



def build_tuner(space: Space, settings: TuneSpec, project: Project,
                hooks: Hooks | None = None) -> CVTuner:
    """The tuner of `settings.tuner` over `space`, writing into `project`.

    Args:
        space: the search space.
        settings: the tune settings.
        project: the tune directory.
        hooks: what the caller wants to hear about.

    Returns:
        A `CVTuner` whose oracle has reloaded any state the directory holds.
    """
    kt_adapter.quiet_failures()
    oracle = make_oracle(space, settings)
    oracle.record_source = lambda: {r.trial_id: r for r in project.records()}
    return CVTuner(oracle, space, settings, project, hooks)


def remaining_trials(tuner: CVTuner) -> int:
    """Trials still to start (the oracle counts running-then-killed trials as started)."""
    done = sum(1 for t in tuner.oracle.trials.values()
               if t.status in ("COMPLETED", "FAILED"))
    return max(0, tuner.settings.max_trials - done)


class TimeBudgetSpent(Exception):
    """Raised before a trial that would overrun the time budget; `run_search` catches it."""


def expected_trial_seconds(project: Project) -> float:
    """How long the next trial may take if it runs its whole budget (0 before any ends).

    Why not the median of every finished trial: pruned trials stop after a few epochs, so in a
    search that prunes most trials that median is far below a full-length trial, and a trial
    that runs to the end would start too late and overrun the budget. The estimate is the
    median wall time of the trials that ran to the end (status ok); before any has, each
    finished trial's time scaled up to its full epoch budget (which over-counts its fixed
    start-up cost, so it errs long).
    """
    records = [r for r in project.records() if r.final and r.wall_time]
    full = [r.wall_time for r in records if r.status == "ok"]
    if full:
        return float(np.median(full))
    scaled = [r.wall_time * max(1.0, _budget(r) / max(1, _epochs_run(r))) for r in records]
    return float(np.median(scaled)) if scaled else 0.0


def _budget(record: TrialRecord) -> int:
    return int(record.epochs_budget or record.config.get("epochs") or 1)


def _epochs_run(record: TrialRecord) -> int:
    return max((int(f.get("epochs_run") or 0) for f in record.folds), default=0)


def run_search(tuner: CVTuner, data: Dataset, deadline: float | None = None) -> bool:
    """`tuner.search`, with Keras Tuner's failure stop turned into a one-line error.

    Args:
        tuner: from `build_tuner`.
        data: the data set.
        deadline: a `time.time()`; no trial starts that would (at `expected_trial_seconds`)
            end after it.

    Returns:
        True when the search stopped on time (trials were left), False when it finished.
    """
    from keras_tuner.errors import FatalError

    tuner.deadline = deadline
    try:
        tuner.search(data, verbose=0)
    except TimeBudgetSpent:
        return True
    except FatalError as exc:  # run_trial's wrapper of an error no trial escapes
        if isinstance(exc.__cause__, HpsearchError):
            raise exc.__cause__ from None
        raise
    except RuntimeError as exc:
        if "consecutive failures" not in str(exc):
            raise
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
        last = last.split("FailedTrialError: ", 1)[-1]
        raise TrialFailed(f"stopped after {tuner.settings.max_failures} trials in a row failed "
                          f"(last: {last}); narrow the space (e.g. a lower learning_rate max) "
                          "and resume with --resume") from exc
    return False
