"""The Bayesian oracle's surrogate (hpsearch/search/oracles/surrogate.py): one-hot choices,
pruned trials at an estimate of their final score, and a pick that finds a known best."""

from __future__ import annotations

import numpy as np
import pytest
from search_support import (
    is_best,
    make_test_oracle,
    run_synthetic,
    searched_project,
    user_space,
)


def _space(tmp_path, epochs=2):
    return user_space(tmp_path, epochs)


def _oracle(space, tmp_path, seed=0):
    return make_test_oracle(space, tmp_path, "bayesian", seed)


def test_choices_are_one_hot_and_an_absent_layer_encodes_as_its_default(tmp_path):
    from hpsearch.search.oracles.surrogate import Encoding

    oracle = _oracle(_space(tmp_path), tmp_path)
    encoding = Encoding(oracle.hyperparameters.space)
    names = [hp.name for hp in encoding.searched]
    one = {"layers": 1, "activation": "relu", "optimizer": "rmsprop",
           "learning_rate": 1e-2, "batch_size": 32, "units_0": 64}
    point = encoding.encode(one)
    assert point.shape == (encoding.width,)
    # optimizer is one-hot (sgd, adam, rmsprop order of the space file), not one ordinal
    start = sum(len(hp.values) if type(hp).__name__ == "Choice" else 1
                for hp in encoding.searched[:names.index("optimizer")])
    choices = list(encoding.searched[names.index("optimizer")].values)
    assert point[start:start + len(choices)].tolist() == \
        [float(c == "rmsprop") for c in choices]
    # units_1 does not exist for one layer: it encodes as its default, whatever is passed
    two = encoding.encode(one | {"units_1": 256})
    assert np.array_equal(point, two)


def test_random_and_nearby_configs_respect_conditions_and_ranges(tmp_path):
    from hpsearch.search.oracles.surrogate import Encoding

    oracle = _oracle(_space(tmp_path), tmp_path)
    encoding = Encoding(oracle.hyperparameters.space)
    rng = np.random.RandomState(0)
    configs = [encoding.sample(rng) for _ in range(300)]
    configs += [encoding.sample(rng, near=c) for c in configs[:100]]
    for values in configs:
        units = sorted(k for k in values if k.startswith("units_"))
        assert units == [f"units_{i}" for i in range(values["layers"])]
        assert all(32 <= values[k] <= 256 for k in units)  # never Keras Tuner's 257
        assert 1e-4 <= values["learning_rate"] <= 1e-1
    near = [encoding.sample(rng, near=configs[0]) for _ in range(200)]
    same_optimizer = np.mean([v["optimizer"] == configs[0]["optimizer"] for v in near])
    assert 0.6 < same_optimizer < 1.0  # a neighbour mostly keeps the choices, not always


def test_a_pruned_trial_is_learned_at_its_partial_score_plus_the_finished_gain():
    from hpsearch.search.oracles.surrogate import imputed_score, training_set
    from hpsearch.search.trial_record import TrialRecord

    def record(status, curves):
        return TrialRecord("t", {}, {}, status=status,
                           folds=[{"history": {"val_accuracy": c}, "val_accuracy": c[-1]}
                                  for c in curves])

    finished = record("ok", [[0.5, 0.6, 0.7, 0.8], [0.5, 0.6, 0.7, 0.8]])
    pruned = record("pruned", [[0.4, 0.5], [0.4, 0.5]])
    observed = training_set([({"a": 1}, "COMPLETED", 0.8, finished),
                             ({"a": 2}, "COMPLETED", 0.5, pruned),
                             ({"a": 3}, "RUNNING", None, None),
                             ({"a": 4}, "FAILED", None, None)])
    scores = {o.values["a"]: (o.score, o.running) for o in observed}
    # 0.5 at epoch 2, and finished trials gained 0.8 - 0.6 = 0.2 from epoch 2 to their end
    assert scores[2] == (pytest.approx(0.7), False)
    assert scores[1] == (0.8, False)
    assert scores[3] == (pytest.approx(0.7), True)  # a running trial sits at the worst score
    assert 4 not in scores  # a failed trial teaches nothing
    assert imputed_score([0.5, 0.6], []) is None  # nothing finished reached epoch 2


def test_a_pruned_trial_is_imputed_from_finished_trials_of_its_own_length():
    """With a searched training length, a 4-epoch trial's cosine schedule is not a 2-epoch
    one's: its gain after epoch 1 is learned from 4-epoch trials when there are any."""
    from hpsearch.search.oracles.surrogate import training_set
    from hpsearch.search.trial_record import TrialRecord

    def record(status, curve, budget):
        return TrialRecord("t", {}, {}, status=status, epochs_budget=budget,
                           folds=[{"history": {"val_accuracy": curve}, "val_accuracy": curve[-1]}])

    short = record("ok", [0.5, 0.9], 2)  # gained 0.4 after epoch 1
    long = record("ok", [0.5, 0.6, 0.7, 0.8], 4)  # gained 0.3 after epoch 1
    pruned_long, pruned_short = record("pruned", [0.4], 4), record("pruned", [0.4], 2)
    observed = training_set([({"a": 1}, "COMPLETED", 0.9, short),
                             ({"a": 2}, "COMPLETED", 0.8, long),
                             ({"a": 3}, "COMPLETED", 0.4, pruned_long),
                             ({"a": 4}, "COMPLETED", 0.4, pruned_short)])
    scores = {o.values["a"]: o.score for o in observed}
    assert scores[3] == pytest.approx(0.7) and scores[4] == pytest.approx(0.8)
    alone = training_set([({"a": 1}, "COMPLETED", 0.9, short),
                          ({"a": 3}, "COMPLETED", 0.4, pruned_long)])
    assert alone[1].score == pytest.approx(0.8)  # no 4-epoch trial finished: every trial's


def test_cold_start_finds_a_known_best_config_in_every_seed(tmp_path):
    """The synthetic problem of test_tpe (four choices and a log rate, one best region hit by
    random search with p ~ 1/180 per trial): the GP over one-hot choices finds it within 40
    trials in each of 4 seeds. Keras Tuner's own GP (ordinal choices, one length scale) found
    it in 3 of 6 seeds (docs/SEARCH.md); a statistical claim, so 4 seeds, not one picked."""
    found = [run_synthetic(_oracle(_space(tmp_path / str(s)), tmp_path / str(s), seed=s), 40)
             for s in range(4)]
    assert all(f is not None and f > 1 for f in found), found


@pytest.fixture(scope="module")
def bayesian_project(tmp_path_factory, small_data):
    """A real 14-trial Bayesian search (2 folds x 5 epochs, pruning on) on 600 images."""
    from hpsearch.search.spec import TuneSpec

    tmp = tmp_path_factory.mktemp("bayes")
    space = _space(tmp, epochs=5)
    settings = TuneSpec(tuner="bayesian", max_trials=14, folds=2, seed=0, prune=True,
                        initial_points=6)
    project = searched_project(tmp, small_data, space, settings)
    return space, settings, project


def test_pruned_trials_reach_the_gp_at_their_imputed_score(bayesian_project, monkeypatch):
    from hpsearch.search.oracles import surrogate
    from hpsearch.search.tuner import build_tuner

    space, settings, project = bayesian_project
    records = {r.trial_id: r for r in project.records()}
    assert any(r.status == "pruned" for r in records.values()), "nothing pruned to check"
    seen: list = []
    original = surrogate.Surrogate.fit
    monkeypatch.setattr(surrogate.Surrogate, "fit",
                        lambda self, obs: (seen.append(obs), original(self, obs))[1])
    oracle = build_tuner(space, settings, project).oracle
    oracle.populate_space("next")
    told = {o.score for o in seen[0]}
    for record in records.values():
        if record.status == "pruned":
            assert record.mean not in told  # never its partial score as if it had finished
    assert len(seen[0]) == sum(r.status in ("ok", "pruned") for r in records.values())


def test_resume_after_a_kill_picks_the_same_next_config(bayesian_project):
    from hpsearch.search.tuner import build_tuner

    space, settings, project = bayesian_project
    first = build_tuner(space, settings, project).oracle
    again = build_tuner(space, settings, project).oracle  # reloads kt/ and the records
    assert len(first.trials) == len(again.trials) == 14
    assert first.populate_space("x")["values"] == again.populate_space("x")["values"]


def test_is_best_is_the_synthetic_optimum():
    assert is_best({"layers": 2, "activation": "relu", "optimizer": "adam",
                    "batch_size": 32, "learning_rate": 3e-3})


def test_a_local_pick_is_a_neighbour_of_the_best_trial(tmp_path):
    """Every other Bayesian pick is local (docs/SEARCH.md, lever g): the best trial with one
    knob changed (SMAC's one-exchange neighbourhood; a layer it adds gets its own units),
    wherever the global expected improvement would have gone."""
    from hpsearch.search.oracles.surrogate import Encoding, Observation, Surrogate

    oracle = _oracle(_space(tmp_path), tmp_path)
    encoding = Encoding(oracle.hyperparameters.space)
    rng = np.random.RandomState(1)
    observed = [Observation(encoding.sample(rng), float(score))
                for score in np.linspace(0.5, 0.8, 12)]
    best = observed[-1].values
    for seed in range(5):
        picked = Surrogate(encoding, seed).pick(observed, np.random.RandomState(seed),
                                                local=True)
        assert picked != best
        changed = [hp.name for hp in encoding.searched
                   if hp.name in best and picked.get(hp.name) != best[hp.name]]
        assert len(changed) == 1 or (changed[:1] == ["layers"] and
                                     all(n.startswith("units_") for n in changed[1:])), changed


def test_a_one_exchange_neighbour_changes_one_knob(tmp_path):
    from hpsearch.search.oracles.surrogate import Encoding

    oracle = _oracle(_space(tmp_path), tmp_path)
    encoding = Encoding(oracle.hyperparameters.space)
    rng = np.random.RandomState(3)
    start = encoding.sample(rng)
    choices = [hp.name for hp in encoding.searched if type(hp).__name__ == "Choice"]
    moved = []
    for _ in range(300):
        near = encoding.sample(rng, near=start, one=True)
        kept = [k for k in start if k in near and near[k] == start[k]]
        assert len(kept) >= len(start) - 1 - sum(k.startswith("units_") for k in start)
        moved += [k for k in start if near.get(k) != start[k]]
        assert sum(near.get(c) != start.get(c) for c in choices if c in start) <= 1
    assert {"optimizer", "learning_rate"} <= set(moved)  # every knob gets its turn
