"""`TuneSpec`: one set of tune settings, their only defaults, and the one resume comparison."""

from __future__ import annotations

import inspect

import pytest

from hpsearch.errors import ConfigError, ProjectError
from hpsearch.search.spec import TuneSpec


def test_old_project_json_layouts_still_read() -> None:
    old = {"kind": "hpsearch-tune", "fingerprint": "f", "tuner": "random", "folds": 3,
           "dataset": "fashion-mnist-sample", "seed": 4, "prune": False, "max_trials": 9,
           "space": {"base": {"epochs": 2, "patience": 1}},
           "settings": {"tuner": "random", "folds": 3, "hyperband_factor": 4},
           "options": {"fix": ["optimizer=adam"], "data_options": None}}
    spec = TuneSpec.from_meta(old)
    assert (spec.tuner, spec.folds, spec.seed, spec.prune, spec.max_trials) == \
        ("random", 3, 4, False, 9)
    assert (spec.epochs, spec.patience, spec.hyperband_factor, spec.fix) == \
        (2, 1, 4, ("optimizer=adam",))
    assert TuneSpec.from_meta({"spec": spec.to_dict()}) == spec


def test_resume_compares_given_settings_and_lets_the_budget_grow() -> None:
    stored = TuneSpec(tuner="random", folds=3, max_trials=5)
    grown = stored.resume({"max_trials": 8, "tuner": "random"}, None, "p")
    assert grown == TuneSpec(tuner="random", folds=3, max_trials=8)
    with pytest.raises(ProjectError, match=r"`folds` 3 -> 2"):  # 2 is the default: still given
        stored.resume({"folds": 2}, None, "p")


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="`folds` must be at least 2"):
        TuneSpec(folds=1)
    with pytest.raises(ConfigError, match="`tuner` 'annealing' is unknown"):
        TuneSpec(tuner="annealing")
    with pytest.raises(ConfigError, match="`max_trial` is not a tune setting"):
        TuneSpec.given({"max_trial": 3})


def test_the_cli_states_no_default_of_its_own() -> None:
    from hpsearch.cli.tune import tune

    defaults = TuneSpec()
    params = inspect.signature(tune).parameters
    for name in ("tuner", "max_trials", "folds", "epochs", "patience", "prune", "seed",
                 "max_failures", "dataset"):
        assert params[name].default == getattr(defaults, name), name
