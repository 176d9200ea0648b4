"""Optuna's TPE as an hpsearch oracle (`--tuner tpe`; keras-team/keras-tuner#555).

Why TPE here: Keras Tuner's Bayesian oracle embeds every choice as an ordinal point in [0, 1]
and fits one isotropic Matern length scale over all knobs; on our mixed, conditional space
its fitted length scale collapses and its acquisition becomes random search drawn to the box's
corners (docs/SEARCH.md). TPE models each knob (and, multivariate, groups of knobs that occur
together) with Parzen estimators over the good and the bad trials: categorical knobs stay
categorical, and a layer's units exist only where that layer does (`group=True`).

How it plugs in: a Keras Tuner `Oracle` whose `populate_space` is one ask of an Optuna study.
The study is not kept: every ask rebuilds it in memory from the trials Keras Tuner holds and
from hpsearch's trial records (status, score, per-epoch curve), with a sampler seeded by the
search seed and the number of trials so far. So the oracle has no state of its own to save:
`--resume` after a kill asks the same study and gets the same next suggestion, and with
`--workers` the chief's oracle sees every worker's records on the shared directory. Trials
still running are told as running (`constant_liar`), so parallel workers get different
configs. A pruned trial is told as pruned with its intermediate values (the mean over folds
per epoch), which is what TPE ranks pruned trials by; a finished one with its CV score.

Optuna is imported only when this oracle is used: `pip install optuna` (or `.[tpe]`).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from hpsearch.errors import ConfigError
from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle

if TYPE_CHECKING:
    from hpsearch.search.space import Space
    from hpsearch.search.spec import TuneSpec

STARTUP_TRIALS = 8  # random trials (after the warm start) before TPE models the rest


def import_optuna() -> Any:
    """Optuna, or one clear error saying how to get it."""
    try:
        import optuna
    except ImportError as exc:
        raise ConfigError("--tuner tpe needs Optuna: pip install optuna (or pip install "
                          "-e '.[tpe]')") from exc
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def distribution(optuna: Any, hp: Any) -> Any:
    """The Optuna distribution of one Keras Tuner hyperparameter (None for a Fixed one).

    Example:
        >>> import keras_tuner as kt, optuna  # doctest: +SKIP
        >>> distribution(optuna, kt.HyperParameters().Int("u", 32, 256, sampling="log"))
        IntDistribution(high=256, log=True, low=32, step=1)  # doctest: +SKIP
    """
    kind = type(hp).__name__
    dists = optuna.distributions
    if kind == "Fixed":
        return None
    if kind == "Boolean":
        return dists.CategoricalDistribution([False, True])
    if kind == "Choice":
        return dists.CategoricalDistribution(list(hp.values))
    log = getattr(hp, "sampling", "linear") == "log"
    step = getattr(hp, "step", None)
    if log and step:  # KT's log step is a factor: 32, 64, ..., 512 are the only values
        values, value = [], hp.min_value
        while value <= hp.max_value * (1 + 1e-9):
            values.append(int(round(value)) if kind == "Int" else float(value))
            value *= step
        return dists.CategoricalDistribution(values)
    if kind == "Int":
        return dists.IntDistribution(int(hp.min_value), int(hp.max_value), log=log,
                                     step=int(step) if step else 1)
    return dists.FloatDistribution(float(hp.min_value), float(hp.max_value), log=log,
                                   step=float(step) if step else None)


def ask(optuna: Any, trial: Any, name: str, dist: Any) -> Any:
    """One `suggest_*` call of an asked Optuna trial for `dist`."""
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return trial.suggest_categorical(name, list(dist.choices))
    if isinstance(dist, optuna.distributions.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)


class TPEOracle(CVOracle, kt.Oracle):
    """Keras Tuner oracle that asks Optuna's TPE for each new trial.

    Args:
        objective, max_trials, hyperparameters, seed, max_consecutive_failed_trials:
            as every Keras Tuner oracle.
        startup_trials: random trials before TPE models the trials.

    Example:
        >>> oracle = TPEOracle(objective=kt.Objective("val_accuracy", "max"),
        ...                    max_trials=30, hyperparameters=hp, seed=1)  # doctest: +SKIP
    """

    name = "tpe"

    @classmethod
    def build(cls, space: Space, spec: TuneSpec) -> CVOracle:
        import_optuna()  # one clear error now, not at the first ask
        return super().build(space, spec)

    def __init__(self, *args: Any, startup_trials: int = STARTUP_TRIALS,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.startup_trials = startup_trials
        self.sampler_options = {"multivariate": True, "group": True}

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if self.warm_start and not self.trials:
            return {"status": kt.engine.trial.TrialStatus.RUNNING,
                    "values": self._random_values()}  # the mixin's: every default
        values = self.suggest()
        return {"status": kt.engine.trial.TrialStatus.RUNNING, "values": values}

    # ------------------------------------------------------------ the study
    def study(self) -> Any:
        """An in-memory study holding every trial so far, as Optuna would have it."""
        optuna = import_optuna()
        with warnings.catch_warnings():  # `group` and `constant_liar` are chosen knowingly,
            # and `warn_independent_sampling` (deprecated in Optuna 4.9) still silences older
            # Optuna: their Experimental/FutureWarnings would be stray stderr lines in every run
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", FutureWarning)
            sampler = optuna.samplers.TPESampler(
                seed=(self.seed or 0) * 100_003 + len(self.trials),
                n_startup_trials=self.startup_trials, constant_liar=True,
                warn_independent_sampling=False, **self.sampler_options)
        study = optuna.create_study(direction=self.objective.direction.replace(
            "max", "maximize").replace("min", "minimize"), sampler=sampler)
        records = self.records()
        for trial_id in sorted(self.trials, key=lambda t: (len(t), t)):
            frozen = self.frozen_trial(optuna, self.trials[trial_id],
                                       records.get(trial_id))
            if frozen is not None:
                study.add_trial(frozen)
        return study

    def frozen_trial(self, optuna: Any, trial: Any, record: Any) -> Any:
        """One Keras Tuner trial as an Optuna FrozenTrial (None: nothing to tell)."""
        from hpsearch.search.pruning import mean_curve

        state = optuna.trial.TrialState
        params, dists = {}, {}
        for hp in self.hyperparameters.space:
            dist = distribution(optuna, hp)
            value = trial.hyperparameters.values.get(hp.name)
            if dist is None or value is None or not trial.hyperparameters.is_active(hp):
                continue
            if isinstance(dist, optuna.distributions.FloatDistribution):
                value = min(max(float(value), dist.low), dist.high)
            elif isinstance(dist, optuna.distributions.IntDistribution):
                value = min(max(int(value), dist.low), dist.high)
            elif value not in dist.choices:
                continue
            params[hp.name], dists[hp.name] = value, dist
        if trial.status == "RUNNING":
            return optuna.trial.create_trial(params=params, distributions=dists,
                                             state=state.RUNNING)
        curve = mean_curve([f["history"] for f in record.folds]) \
            if record is not None and record.folds else []
        steps = {epoch: value for epoch, value in enumerate(curve, start=1)}
        if record is not None and record.status == "pruned" and steps:
            return optuna.trial.create_trial(params=params, distributions=dists,
                                             state=state.PRUNED, intermediate_values=steps)
        if trial.status == "COMPLETED" and trial.score is not None:
            return optuna.trial.create_trial(params=params, distributions=dists,
                                             value=float(trial.score),
                                             intermediate_values=steps)
        if trial.status in ("FAILED", "INVALID"):
            return optuna.trial.create_trial(params=params, distributions=dists,
                                             state=state.FAIL)
        return None

    def suggest(self) -> dict[str, Any]:
        """Ask TPE for the next values, knob by knob in declaration order, so a knob
        whose condition the values so far switch off is never asked (its layer or its
        switch is off)."""
        optuna = import_optuna()
        asked = self.study().ask()
        hps = self.hyperparameters.copy()
        hps.values = {}
        for hp in hps.space:
            if not hps.is_active(hp):
                continue
            dist = distribution(optuna, hp)
            hps.values[hp.name] = hp.value if dist is None else \
                ask(optuna, asked, hp.name, dist)
        return dict(hps.values)
