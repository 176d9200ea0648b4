"""`CVOracle`: what every hpsearch oracle adds to Keras Tuner's, and the algorithm hook.

Keras Tuner's oracles keep their own state and pick the values; every algorithm we run gets,
from this one base class, atomic state files, a warm-start first trial, re-queueing of a
trial orphaned by a kill or a dead worker, and the constructor plumbing (`build`). An
algorithm is a subclass that names itself and states its constructor arguments
(`arguments`); see the package docstring for the recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from hpsearch.errors import ConfigError
from hpsearch.fileio import atomic_write_json
from hpsearch.search import kt_adapter
from hpsearch.search.kt_adapter import kt

if TYPE_CHECKING:
    from hpsearch.search.space import Space
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.trial_record import TrialRecord

OBJECTIVE = "val_accuracy"


def oracle_seed(seed: int) -> int:
    """Keras Tuner treats seed 0 as "no seed" (random); shift so every --seed is reproducible.

    Example:
        >>> oracle_seed(0)
        1
    """
    return seed + 1


class CVOracle(kt.Oracle):
    """The base of every hpsearch oracle: list it first, before the Keras Tuner oracle.

    Class attributes an algorithm sets:
        name: its --tuner value.
        median_pruning: whether the per-epoch median rule (pruning.py) may stop its trials.
        continues_parent: whether a trial continues its parent's per-fold weights (Hyperband).

    `records()` gives hpsearch's trial records by trial id (status, per-fold curves): the
    tuner points `record_source` at the project, so an algorithm that learns from pruned trials or
    curves (TPE) reads them there rather than keeping state of its own.
    """

    name: ClassVar[str] = ""
    median_pruning: ClassVar[bool] = True
    continues_parent: ClassVar[bool] = False
    warm_start: bool = True
    record_source: Callable[[], dict[str, TrialRecord]] | None = None  # set by the tuner

    def records(self) -> dict[str, TrialRecord]:
        """The project's trial records by id (none until the tuner attaches the project)."""
        return self.record_source() if self.record_source is not None else {}

    # ------------------------------------------------------------------ the algorithm hook
    @classmethod
    def arguments(cls, space: Space, spec: TuneSpec) -> dict[str, object]:
        """This algorithm's constructor arguments beyond the common ones (override it).

        Args:
            space: the search space.
            spec: the tune settings.

        Returns:
            Keyword arguments for the Keras Tuner oracle's constructor.
        """
        return {"max_trials": spec.max_trials}

    @classmethod
    def build(cls, space: Space, spec: TuneSpec) -> CVOracle:
        """A ready oracle: the common arguments, the algorithm's own, and the warm start.

        Raises:
            ConfigError: the space does not suit the algorithm (e.g. grid search over a
                continuous range).
        """
        common: dict[str, object] = {
            "objective": kt.Objective(OBJECTIVE, direction="max"),
            "hyperparameters": space.declare(), "seed": oracle_seed(spec.seed),
            "max_consecutive_failed_trials": spec.max_failures}
        try:
            oracle = cls(**common, **cls.arguments(space, spec))
        except ValueError as exc:
            raise ConfigError(f"--tuner {spec.tuner}: {exc}") from exc
        oracle.warm_start = spec.warm_start
        return oracle

    # ------------------------------------------------------------------ shared behaviour
    def _random_values(self) -> dict[str, object] | None:
        # The first trial uses every knob's default (a known-good config), like Optuna's
        # enqueue_trial: random and Bayesian searches then start from a sensible floor.
        if self.warm_start and not self.trials:
            hps = self.hyperparameters.copy()
            hps.ensure_active_values()
            return {k: v for k, v in hps.values.items() if hps.is_active(k)}
        return super()._random_values()

    def save(self) -> None:
        atomic_write_json(kt_adapter.oracle_file(self), self.get_state())

    def reload(self) -> None:
        # Keras Tuner writes a new trial's trial.json before oracle.json: a kill between the
        # two leaves a RUNNING trial that no tuner owns and that is not in the retry queue.
        # It would count towards max_trials and never run, so the search would end one
        # trial short. Every trial still RUNNING at start-up is orphaned: run it again.
        super().reload()
        queue = kt_adapter.retry_queue(self)
        for trial_id, trial in self.trials.items():
            if trial.status == "RUNNING" and trial_id not in queue:
                queue.append(trial_id)

    def _save_trial(self, trial: kt.engine.trial.Trial) -> None:
        atomic_write_json(kt_adapter.trial_file(self, trial.trial_id), trial.get_state())

    @kt.synchronized
    def requeue_tuner(self, tuner_id: str) -> str | None:
        """A worker died: put its trial back in the queue and stop waiting for it."""
        trial = self.ongoing_trials.pop(tuner_id, None)
        self.tuner_ids.discard(tuner_id)
        if trial is not None:
            kt_adapter.retry_queue(self).append(trial.trial_id)
        self.save()
        return trial.trial_id if trial is not None else None
