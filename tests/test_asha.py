"""Successive halving (`--pruner asha`): its rungs, its top-third rule, its peers (every trial
that reached the rung, pruned and running ones included), a real search, and resume."""

from __future__ import annotations

import json

import pytest

from hpsearch.search.pruning import SuccessiveHalvingPruner

FAST = ["--dataset", "fashion-mnist-sample", "-k", "2", "--epochs", "4", "--fix",
        "batch_size=256", "--fix", "layers=1", "--fix", "units=64", "-q"]


def test_rungs_grow_by_the_factor_and_never_include_the_last_epoch() -> None:
    assert SuccessiveHalvingPruner().rungs(15) == [1, 3, 9]
    assert SuccessiveHalvingPruner().rungs(9) == [1, 3]
    assert SuccessiveHalvingPruner().rungs(1) == []
    assert SuccessiveHalvingPruner(factor=2, min_epochs=2).rungs(16) == [2, 4, 8]
    with pytest.raises(ValueError):
        SuccessiveHalvingPruner(factor=1)


def test_only_the_top_third_of_the_trials_at_a_rung_goes_on() -> None:
    pruner = SuccessiveHalvingPruner(min_trials=3)
    peers = [[0.5], [0.6], [0.7], [0.8], [0.9]]  # with the trial: 6 at epoch 1, keep 2
    assert not pruner.decide(1, 5, 0.85, peers).prune  # second best of 6: kept
    decision = pruner.decide(1, 5, 0.75, peers)  # third of 6: stopped
    assert decision.prune and "top 2 of 6" in decision.reason and "0.8000" in decision.reason
    assert not pruner.decide(2, 5, 0.0, [c * 2 for c in peers]).prune  # epoch 2 is no rung
    assert not pruner.decide(1, 5, 0.0, peers[:2]).prune  # a rung of 2 peers ranks nothing
    # peers whose curves stop before the rung did not reach it
    assert not pruner.decide(3, 5, 0.0, [[0.9, 0.9]] * 5).prune


def _tuner_with_peers(tmp_path, statuses):
    """A tuner of a 9-epoch asha search whose project holds one peer record per status,
    each with a curve of 0.8 over 2 folds for 3 epochs."""
    from hpsearch.config import ModelConfig
    from hpsearch.search.project import Project
    from hpsearch.search.space import build_space
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.trial_record import TrialRecord
    from hpsearch.search.tuner import build_tuner

    space = build_space(None, [], ModelConfig(epochs=9, patience=0))
    settings = TuneSpec(tuner="random", folds=2, epochs=9, pruner="asha", prune_min_trials=3)
    project = Project(tmp_path / "p")
    project.open({"fingerprint": space.fingerprint(), "tuner": "random", "folds": 2,
                  "dataset": "fashion-mnist-sample", "seed": 0, "prune": True,
                  "max_trials": 9}, resume=False, overwrite=False)
    history = {"val_accuracy": [0.8, 0.8, 0.8]}
    for number, status in enumerate(statuses):
        project.write_record(TrialRecord(
            str(number), {}, {}, status=status, epochs_budget=9,
            folds=[{"fold": j, "val_accuracy": 0.8, "history": history} for j in (0, 1)]))
    return build_tuner(space, settings, project), TrialRecord


def test_every_trial_that_reached_the_rung_is_a_peer_pruned_and_running_ones_too(tmp_path):
    tuner, record_type = _tuner_with_peers(tmp_path, ["ok", "pruned", "running", "failed"])
    record = record_type("9", {}, {}, epochs_budget=9)
    go_on = tuner._gate(record, 9, 0)
    assert go_on(1, [{"val_accuracy": 0.9}] * 2)  # first of 4 at epoch 1: kept
    assert not go_on(3, [{"val_accuracy": 0.7}] * 2)  # 4th of 4 at epoch 3: stopped
    assert "top 1 of 4 trials" in record.reason  # ok + pruned + running + itself, not failed


def test_the_median_rule_still_counts_finished_trials_only(tmp_path):
    from dataclasses import replace

    tuner, record_type = _tuner_with_peers(tmp_path, ["ok", "pruned", "running"])
    tuner.settings = replace(tuner.settings, pruner="median")
    go_on = tuner._gate(record_type("9", {}, {}, epochs_budget=9), 9, 0)
    assert go_on(3, [{"val_accuracy": 0.1}] * 2)  # one finished peer: too few to prune


def test_an_asha_search_stops_trials_only_at_rungs_outside_the_top_third(tmp_path, cli):
    space = tmp_path / "space.toml"
    space.write_text('[optimizer]\nvalues = ["adam", "sgd", "rmsprop"]\n'
                     '[learning_rate]\nvalues = [0.001, 0.0001]\n'
                     '[activation]\nvalue = "relu"\n[dropout]\nvalue = "none"\n'
                     '[kernel_regularizer]\nvalue = "none"\n'
                     '[activity_regularizer]\nvalue = "none"\n')
    directory = tmp_path / "t"
    code, _, err = cli("tune", "-o", str(directory), "--tuner", "grid", "--max-trials", "6",
                       "--space", str(space), "--pruner", "asha", *FAST)
    assert code == 0, err
    from hpsearch.search.project import spec_of

    # what --resume and every --workers process build their tuner from
    assert spec_of(json.loads((directory / "project.json").read_text())).pruner == "asha"
    records = sorted((json.loads(p.read_text()) for p in (directory / "trials").glob("*.json")),
                     key=lambda r: int(r["trial_id"]))  # in process: one after another
    pruned = [r for r in records if r["status"] == "pruned"]
    assert pruned, "sgd at 1e-4 is far behind after one epoch: something must be stopped"
    for trial in pruned:  # stopped at a rung (4 epochs: 1 and 3), below that rung's top third
        rung = trial["folds"][0]["epochs_run"]
        assert rung in (1, 3) and "successive halving" in trial["reason"]

        def at(record, epoch=rung):
            curves = [f["history"]["val_accuracy"] for f in record["folds"]]
            return sum(c[epoch - 1] for c in curves) / len(curves)
        before = [at(r) for r in records[:records.index(trial)]
                  if len(r["folds"][0]["history"]["val_accuracy"]) >= rung]
        values = sorted([*before, at(trial)], reverse=True)
        assert len(before) >= 3 and at(trial) < values[max(1, len(values) // 3) - 1]
    assert all(r["folds"][0]["epochs_run"] == 4 for r in records if r["status"] == "ok")

    # resume keeps the rule; another rule is a different search, refused in one line
    code, _, err = cli("tune", "-o", str(directory), "--resume", "--pruner", "median")
    assert code == 2 and "--pruner" in err and "asha -> median" in err
    assert err.count("\n") == 1


def test_a_bad_pruner_is_one_line_exit_2(tmp_path, cli) -> None:
    code, _, err = cli("tune", "-o", str(tmp_path / "t"), "--pruner", "halving", *FAST)
    assert code == 2 and "--pruner" in err and "median, asha" in err
    assert err.count("\n") == 1 and not (tmp_path / "t").exists()


def test_hyperband_with_asha_is_refused_in_one_line(tmp_path, cli) -> None:
    code, _, err = cli("tune", "-o", str(tmp_path / "t"), "--tuner", "hyperband",
                       "--pruner", "asha", *FAST)
    assert code == 2 and "hyperband runs its own successive halving" in err
    assert "--pruner" in err and err.count("\n") == 1 and not (tmp_path / "t").exists()
