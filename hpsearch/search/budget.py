"""`tune --dry-run`: the budget (trials x folds x epochs) and a time estimate, before committing.

The estimate times configs the space will really produce: the warm-start config and a few
drawn the way the random search draws them (each knob's Keras Tuner `random_sample`), each
trained two epochs of k-fold CV (k towers) through the loop a trial really runs, on a slice of
the training data. A config's steady (second) epoch, per training row, is scaled to a fold's
size; its first epoch's extra time (tracing, and XLA compilation when the real trial is long
enough to be compiled: `loop.use_xla`) is counted once per trial.
Timing only the smallest or the warm-start config would under-state a space whose nets can be
4x wider or whose batches can be 4x smaller; the spread of the samples is reported instead.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from hpsearch.data import Dataset
from hpsearch.progress import fmt_duration

CALIBRATION_EXAMPLES = 4000
SAMPLED_CONFIGS = 4  # besides the warm-start config


def sample_values(space: Any, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` random picks of the space's knobs, as Keras Tuner's random search draws them
    (only the knobs their switches make active)."""
    from hpsearch.search.kt_adapter import kt  # TensorFlow's settings first

    declared = space.declare()
    picks, state = [], seed
    for _ in range(count):
        hps = kt.HyperParameters()
        for hp in declared.space:
            hps.merge([hp])
            if hps.is_active(hp):
                hps.values[hp.name] = hp.random_sample(state)
                state += 1
        picks.append({k: v for k, v in hps.values.items() if hps.is_active(k)})
    return picks


def time_config(cfg: Any, sample: Dataset, folds: int, seed: int, n_fit: float
                ) -> dict[str, Any]:
    """Two epochs of `cfg` on `sample`; -> seconds per epoch of all folds at full size, start-up
    per trial, and the trial's seconds at `cfg.epochs` epochs."""
    from hpsearch.errors import TrialFailed
    from hpsearch.training.evaluate import Protocol, evaluate
    from hpsearch.training.loop import use_xla

    timed = replace(cfg, epochs=2, patience=0)
    try:  # the pass the real trial will run (compiled or not), not what 2 epochs would pick
        result = evaluate(timed, sample, Protocol.kfold(folds), seed,
                          xla=use_xla(cfg, int(n_fit), folds,
                                      int(np.prod(sample.input_shape)), sample.num_classes))
    except TrialFailed:  # a diverging sample still tells nothing about time: skip it
        return {}
    fold, k = result.folds[0], len(result.folds)  # a fold's times are its share of the k
    epoch_s = fold.epoch_times[-1] * k / fold.n_train * n_fit
    start_up = max(0.0, fold.epoch_times[0] - fold.epoch_times[-1]) * k
    return {"config": cfg.describe(), "epoch_seconds": epoch_s, "startup_seconds": start_up,
            "trial_seconds": start_up + cfg.epochs * epoch_s}


def calibrate(space: Any, settings: Any, data: Dataset, time_budget: float | None = None,
              samples: int = SAMPLED_CONFIGS) -> dict[str, Any]:
    """Time configs the space produces and scale them to the search.

    Args:
        space: the search space (its warm-start config and `samples` random ones are timed).
        settings: the `TuneSpec` (trials, folds, seed).
        data: the training data.
        time_budget: seconds; the estimate then says how many trials fit.
        samples: random configs to time besides the warm-start one.

    Returns:
        The budget and the estimate (median, fastest and slowest trial; total), with a
        one-line `summary`.

    Example:
        >>> calibrate(build_space(), TuneSpec(max_trials=30), data)["summary"]  # doctest: +SKIP
    """
    n = min(CALIBRATION_EXAMPLES, len(data.y_train))
    rng = np.random.default_rng(settings.seed)
    idx = rng.choice(len(data.y_train), size=n, replace=False)
    sample = replace(data, x_train=data.x_train[idx], y_train=data.y_train[idx])
    n_fit = len(data.y_train) * (settings.folds - 1) / settings.folds
    configs = [space.to_config({})]
    for values in sample_values(space, samples, settings.seed + 1):
        try:
            configs.append(space.to_config(values))
        except Exception:  # noqa: BLE001 - a clashing pick fails as a trial would; skip it
            continue
    timed = [t for t in (time_config(c, sample, settings.folds, settings.seed, n_fit)
                         for c in configs) if t]
    trial_s = np.array([t["trial_seconds"] for t in timed]) if timed else np.array([0.0])
    median, total = float(np.median(trial_s)), float(np.mean(trial_s)) * settings.max_trials
    epochs = space.longest_trial()
    payload = {"trials": settings.max_trials, "folds": settings.folds, "max_epochs": epochs,
               "fold_epochs": settings.max_trials * settings.folds * epochs,
               "epoch_seconds": timed[0]["epoch_seconds"] if timed else None,
               "startup_seconds": timed[0]["startup_seconds"] if timed else None,
               "trial_seconds_median": median, "trial_seconds_min": float(trial_s.min()),
               "trial_seconds_max": float(trial_s.max()), "estimate_seconds": total,
               "sampled": timed, "calibration_config": configs[0].to_dict()}
    if time_budget:
        payload["time_budget_seconds"] = time_budget
        payload["trials_in_budget"] = min(settings.max_trials,
                                          int(time_budget // max(median, 1e-9)))
    payload["summary"] = _summary(payload, settings, len(data.y_train))
    return payload


def _summary(p: dict[str, Any], settings: Any, n_train: int) -> str:
    low, high, mid = (fmt_duration(p[f"trial_seconds_{k}"]) for k in ("min", "max", "median"))
    text = (f"{p['trials']} trials x {p['folds']} folds x <= {p['max_epochs']} epochs = "
            f"<= {p['fold_epochs']} fold-epochs on {n_train} examples; {len(p['sampled'])} "
            f"configs of this space timed: a trial takes {low} to {high} (median {mid}) -> "
            f"~{fmt_duration(p['estimate_seconds'])} for the search with {settings.tuner} "
            f"({'pruning makes it shorter' if settings.prune else 'no pruning'})")
    if "trials_in_budget" in p:
        text += (f"; a {fmt_duration(p['time_budget_seconds'])} --time-budget fits about "
                 f"{p['trials_in_budget']} of the {p['trials']} trials")
    return text
