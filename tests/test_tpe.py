"""`--tuner tpe`: Optuna's TPE as a Keras Tuner oracle (hpsearch/search/oracles/tpe.py)."""

from __future__ import annotations

import sys

import pytest
from search_support import make_test_oracle, run_synthetic, searched_project, user_space

optuna = pytest.importorskip("optuna")


def _space(tmp_path):
    return user_space(tmp_path)


def _oracle(space, tmp_path, seed=0, max_trials=100):
    return make_test_oracle(space, tmp_path, "tpe", seed, max_trials)


def test_cold_start_finds_a_known_best_config_within_40_trials(tmp_path):
    """Random search hits the best region with p ~ 1/36 * 0.2 per trial (four choices right
    and the rate within a factor 2 of 3e-3 in its 3 decades): ~20 % chance within 40 trials.
    TPE finds it in most seeds. Not in all: TPE is greedy, and in seed 0 the few good trials
    all had batch 128, so it keeps proposing 128 for 60+ trials (docs/SEARCH.md); hence
    "2 of 3 seeds", a statistical claim, instead of a seed picked to pass."""
    found = [run_synthetic(_oracle(_space(tmp_path / str(seed)), tmp_path / str(seed), seed),
                           40) for seed in range(3)]
    assert sum(f is not None for f in found) >= 2, found
    assert all(f is None or f > 1 for f in found)  # the first trial is the poor default


def test_units_follow_their_layers_and_stay_in_the_space(tmp_path):
    oracle = _oracle(_space(tmp_path), tmp_path)
    run_synthetic(oracle, 14)
    for trial in oracle.trials.values():
        values = trial.hyperparameters.values
        units = sorted(k for k in values if k.startswith("units_"))
        assert units == [f"units_{i}" for i in range(values["layers"])]
        assert all(32 <= values[k] <= 256 for k in units)
        assert 1e-4 <= values["learning_rate"] <= 1e-1


def test_log_step_ints_keep_to_keras_tuners_grid(tmp_path):
    from hpsearch.search.space import build_space

    oracle = _oracle(build_space(fixes=["epochs=2"]), tmp_path)  # units 32..512, x2
    run_synthetic_default = 10
    for _ in range(run_synthetic_default):
        trial = oracle.create_trial("tuner0")
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    sizes = {v for t in oracle.trials.values() for k, v in t.hyperparameters.values.items()
             if k.startswith("units_")}
    assert sizes <= {32, 64, 128, 256, 512}


@pytest.fixture(scope="module")
def tpe_project(tmp_path_factory, small_data):
    """A real 10-trial TPE search (2 folds x 5 epochs, pruning on) on 600 images."""
    from hpsearch.search.spec import TuneSpec

    tmp = tmp_path_factory.mktemp("tpe")
    space = _space(tmp)
    space = type(space)(space.knobs, space.base.with_overrides({"epochs": 5}), space.hidden)
    settings = TuneSpec(tuner="tpe", max_trials=10, folds=2, seed=0, prune=True)
    project = searched_project(tmp, small_data, space, settings)
    return space, settings, project


def test_pruned_trials_reach_the_sampler_as_pruned(tpe_project):
    from hpsearch.search.pruning import mean_curve
    from hpsearch.search.tuner import build_tuner

    space, settings, project = tpe_project
    records = {r.trial_id: r for r in project.records()}
    pruned = [r for r in records.values() if r.status == "pruned"]
    assert pruned, "the search pruned nothing: nothing to check"
    oracle = build_tuner(space, settings, project).oracle
    told = {str(t.number): t for t in oracle.study().trials}
    ids = sorted(oracle.trials, key=lambda t: (len(t), t))
    for number, trial_id in enumerate(ids):
        record, frozen = records[trial_id], told[str(number)]
        curve = mean_curve([f["history"] for f in record.folds])
        if record.status == "pruned":
            assert frozen.state == optuna.trial.TrialState.PRUNED
            assert frozen.value is None
            assert [frozen.intermediate_values[e] for e in sorted(frozen.intermediate_values)] \
                == pytest.approx(curve)
        elif record.status == "ok":
            assert frozen.state == optuna.trial.TrialState.COMPLETE
            assert frozen.value == pytest.approx(record.mean)


def test_resume_after_a_kill_asks_the_same_next_config(tpe_project):
    """The sampler is rebuilt from the trial records: a new process (what --resume runs
    after a kill) proposes exactly what the search would have proposed next."""
    from hpsearch.search.tuner import build_tuner

    space, settings, project = tpe_project
    first = build_tuner(space, settings, project).oracle
    again = build_tuner(space, settings, project).oracle  # reloads kt/ and the records
    assert len(first.trials) == len(again.trials) == 10
    assert first.populate_space("x")["values"] == again.populate_space("x")["values"]


def test_without_optuna_tpe_is_one_clear_error(monkeypatch):

    from hpsearch.errors import ConfigError
    from hpsearch.search.oracles.tpe import import_optuna

    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ConfigError, match="pip install optuna"):
        import_optuna()
