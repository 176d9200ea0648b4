"""`--tuner tpe`: Optuna's TPE as a Keras Tuner oracle (hpsearch/search/oracles/tpe.py)."""

from __future__ import annotations

import math
import sys

import pytest
from script_support import script

optuna = pytest.importorskip("optuna")


def _space(tmp_path):
    """The space a typical user writes (scripts/bench_search.py), with poor defaults (1 x 32
    tanh, sgd at 1e-4): a cold start."""
    load_space = script("bench_search").load_space
    tmp_path.mkdir(parents=True, exist_ok=True)
    return load_space(tmp_path, cold=True, epochs=2)


def _oracle(space, tmp_path, seed=0, max_trials=100):
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import make_oracle

    oracle = make_oracle(space, TuneSpec(tuner="tpe", max_trials=max_trials, seed=seed))
    oracle._set_project_dir(str(tmp_path / "kt"), "p")
    return oracle


def synthetic_score(values: dict) -> float:
    """A known best: 2 layers, relu, adam, batch 32, learning rate 3e-3 (units don't matter).
    Each wrong choice costs 0.1; the rate costs 0.05 per factor e away from 3e-3."""
    score = 1.0
    score -= 0.1 * (values["layers"] != 2) + 0.1 * (values["activation"] != "relu")
    score -= 0.1 * (values["optimizer"] != "adam") + 0.1 * (values["batch_size"] != 32)
    score -= 0.05 * abs(math.log(values["learning_rate"] / 3e-3))
    return score


def is_best(values: dict) -> bool:
    return (values["layers"], values["activation"], values["optimizer"],
            values["batch_size"]) == (2, "relu", "adam", 32) and \
        abs(math.log(values["learning_rate"] / 3e-3)) < math.log(2)


def run_synthetic(oracle, trials: int) -> int | None:
    """Drive the oracle as Keras Tuner's search loop does; the trial number (1-based) at
    which the known best was first proposed, or None."""
    for number in range(1, trials + 1):
        trial = oracle.create_trial("tuner0")
        values = trial.hyperparameters.values
        oracle.update_trial(trial.trial_id, {"val_accuracy": synthetic_score(values)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        if is_best(values):
            return number
    return None


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
    from hpsearch.search.project import Project
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import build_tuner, run_search

    tmp = tmp_path_factory.mktemp("tpe")
    space = _space(tmp)
    space = type(space)(space.knobs, space.base.with_overrides({"epochs": 5}), space.hidden)
    settings = TuneSpec(tuner="tpe", max_trials=10, folds=2, seed=0, prune=True)
    project = Project(tmp / "p")
    project.open({"fingerprint": space.fingerprint(), "tuner": "tpe", "folds": 2,
                  "dataset": small_data.name, "data_dir": None, "seed": 0, "prune": True,
                  "max_trials": 10, "space": space.to_dict(), "settings": settings.__dict__},
                 resume=False, overwrite=False)
    run_search(build_tuner(space, settings, project), small_data)
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
