"""The training length is a knob (issue 23, lever d): pinned to --epochs by default, searched
when a space file gives it values; each trial then trains its own length, is pruned only
against trials of that length, and the export refits what CV chose."""

from __future__ import annotations

import json
import re

import pytest


def test_the_length_is_pinned_to_epochs_unless_a_space_file_searches_it(tmp_path):
    from hpsearch.search.spec import TuneSpec

    space = TuneSpec().space()
    assert space.knobs["epochs"].values == (15,) and space.to_config({}).epochs == 15
    assert TuneSpec(epochs=30).space().to_config({}).epochs == 30
    assert TuneSpec(fix=("epochs=20",)).space().to_config({}).epochs == 20
    file = tmp_path / "space.toml"
    file.write_text("[epochs]\nvalues = [15, 30]\ndefault = 15\n")
    searched = TuneSpec(space_file=str(file), epochs=30).space()
    assert searched.searched() == [*TuneSpec().space().searched(), "epochs"]
    assert searched.to_config({}).epochs == 15 and searched.trial_epochs({"epochs": 30}) == 30
    assert searched.longest_trial() == 30


@pytest.mark.parametrize("knob, searched", [
    ("epochs", "[epochs]\nvalues = [15, 30]\ndefault = 15\n"),
    ("label_smoothing", "[label_smoothing]\nmin = 0.0\nmax = 0.2\n"),
    ("input_scaling", '[input_scaling]\nvalues = ["none", "standard"]\n')])
def test_a_pinned_knob_leaves_the_seeded_draws_as_a_space_without_it(tmp_path, knob, searched):
    """Declared to Keras Tuner, the pinned length took a step of its seeded draws, and the
    default search drew other configs than before the length was a knob; label smoothing,
    pinned at 0.1, and the input scaling, pinned to standard, must not either (nor enter a
    grid)."""
    from dataclasses import replace

    from search_support import make_test_oracle

    from hpsearch.search.spec import TuneSpec

    pinned = TuneSpec().space()
    assert knob not in pinned.declare().values  # pinned: not a hyperparameter
    file = tmp_path / "space.toml"
    file.write_text(searched)
    assert knob in TuneSpec(space_file=str(file)).space().declare().values

    without = replace(pinned, knobs={k: v for k, v in pinned.knobs.items() if k != knob})

    def draws(space, where):
        oracle = make_test_oracle(space, tmp_path / where, "random", seed=3)
        values = []
        for _ in range(4):
            trial = oracle.create_trial("tuner0")
            values.append(dict(trial.hyperparameters.values))
            oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
        return values
    assert draws(pinned, "a") == draws(without, "b")


def test_hyperband_sets_the_length_itself_and_refuses_an_epochs_knob():
    from hpsearch.search.space import SpaceError
    from hpsearch.search.spec import TuneSpec

    assert TuneSpec(tuner="hyperband", epochs=30).space().knobs["epochs"].values == (30,)
    with pytest.raises(SpaceError, match="hyperband sets each trial's training length"):
        TuneSpec(tuner="hyperband", fix=("epochs=20",)).space()


def test_each_trial_trains_its_own_length_and_the_export_refits_the_chosen_one(tmp_path, cli):
    space = tmp_path / "space.toml"
    space.write_text("[epochs]\nvalues = [1, 3]\ndefault = 1\n[layers]\nvalue = 1\n"
                     "[units]\nvalue = 32\n[batch_size]\nvalue = 256\n")
    directory = tmp_path / "t"
    code, _, err = cli("tune", "--tuner", "random", "--max-trials", "6", "--epochs", "3",
                       "--space", str(space), "--no-prune", "--directory", str(directory),
                       "--dataset", "fashion-mnist-sample", "-q")
    assert code == 0, err
    records = [json.loads(p.read_text()) for p in (directory / "trials").glob("trial_*.json")]
    lengths = {r["params"]["epochs"] for r in records}
    assert lengths == {1, 3}, lengths  # 6 random draws of two values (seed 0)
    for r in records:
        assert r["epochs_budget"] == r["params"]["epochs"] == r["config"]["epochs"]
        assert {f["epochs_run"] for f in r["folds"]} == {r["params"]["epochs"]}
    best = max(records, key=lambda r: sum(f["val_accuracy"] for f in r["folds"]))
    code, _, err = cli("export", "--from", str(directory), "--out", str(tmp_path / "e"), "-q")
    assert code == 0, err
    card = json.loads((tmp_path / "e" / "model_card.json").read_text())
    assert card["cv"]["trial_id"] == best["trial_id"]
    # the length CV scored, not the epoch of the folds' best validation accuracy
    assert card["cv"]["refit_epochs"] == best["params"]["epochs"]
    assert card["cv"]["refit_rule"] == "the length every fold trained and was scored at"


def test_pruning_compares_a_trial_only_with_trials_of_its_length(tmp_path, small_data):
    from hpsearch.search.project import Project
    from hpsearch.search.session import run_tune
    from hpsearch.search.spec import TuneSpec

    space = tmp_path / "space.toml"
    space.write_text("[epochs]\nvalues = [5, 10]\ndefault = 5\n[layers]\nvalue = 1\n"
                     "[units]\nvalues = [16, 32]\n[batch_size]\nvalue = 256\n"
                     "[learning_rate]\nmin = 1e-4\nmax = 1e-1\nsampling = 'log'\n")
    spec = TuneSpec(tuner="random", max_trials=12, epochs=10, folds=2,
                    space_file=str(space), prune_min_trials=2)
    run_tune(tmp_path / "t", spec, small_data, quiet=True)
    records = Project(tmp_path / "t").records()
    pruned = [r for r in records if r.status == "pruned"]
    assert pruned  # wide learning rates: some trials fall below their peers
    for record in pruned:
        peers = int(re.search(r"of (\d+) finished trials", record.reason).group(1))
        same_length = [r for r in records if r.status == "ok"
                       and r.epochs_budget == record.epochs_budget]
        assert f" of {record.epochs_budget} " in record.reason
        assert 2 <= peers <= len(same_length), (record.reason, len(same_length))
