"""`tune --dry-run` times the loop a trial really runs, on configs the space really draws."""

from __future__ import annotations

import pytest

from hpsearch.search.budget import calibrate
from hpsearch.search.space import build_space
from hpsearch.search.spec import TuneSpec


def test_the_estimate_times_k_fold_towers_of_sampled_configs(small_data, monkeypatch):
    import hpsearch.training.evaluate as evaluate_module

    calls = []
    real = evaluate_module.fit_towers

    def spy(cfg, rows, labels, train_sets, val_sets, seeds, *args, **kwargs):
        calls.append((cfg, len(seeds), len(train_sets), val_sets is not None))
        return real(cfg, rows, labels, train_sets, val_sets, seeds, *args, **kwargs)

    monkeypatch.setattr(evaluate_module, "fit_towers", spy)
    space = build_space(fixes=["layers=1", "batch_size=256"])
    settings = TuneSpec(max_trials=10, folds=3)
    estimate = calibrate(space, settings, small_data, samples=1)
    # every timed config ran as a trial runs: 3 folds as 3 towers, validated, 2 epochs
    assert calls and all(k == 3 == sets and validated for _, k, sets, validated in calls)
    assert all(cfg.epochs == 2 for cfg, *_ in calls)
    assert calls[0][0].hidden == space.to_config({}).hidden  # the warm start is timed first
    timed = estimate["sampled"]
    assert len(timed) == len(calls)
    assert estimate["estimate_seconds"] == pytest.approx(
        sum(t["trial_seconds"] for t in timed) / len(timed) * 10)
    assert estimate["trial_seconds_min"] <= estimate["trial_seconds_median"] \
        <= estimate["trial_seconds_max"]


def test_the_api_budget_checks_settings_before_loading_and_parses_durations(tmp_path,
                                                                            small_data):
    from hpsearch.api.tune_jobs import tune_budget
    from hpsearch.errors import ConfigError

    loaded = []

    def load(spec):
        loaded.append(spec)
        return small_data

    with pytest.raises(ConfigError, match="folds"):
        tune_budget(tmp_path / "t", folds=1, load=load)
    assert not loaded  # a bad flag fails before any data loads
    estimate = tune_budget(tmp_path / "t", max_trials=4, fix=("layers=1", "batch_size=256"),
                           time_budget="2m", load=load)
    assert loaded[0].time_budget == 120.0 and loaded[0].max_trials == 4
    assert estimate["trials"] == 4 and estimate["summary"]
    assert not (tmp_path / "t").exists()  # a dry run writes nothing
