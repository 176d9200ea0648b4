"""`hpsearch tune` end to end on the shipped sample: results files, resume, pruning, failures."""

from __future__ import annotations

import csv
import json

import pytest

from hpsearch.search.pruning import MedianPruner, mean_curve

FAST = ["--dataset", "fashion-mnist-sample", "-k", "2", "--epochs", "1", "--fix",
        "batch_size=256", "--fix", "layers=1", "--fix", "units=64", "-q"]


def _rows(directory):
    with open(directory / "results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _records(directory):
    return {p.stem: json.loads(p.read_text()) for p in (directory / "trials").glob("*.json")}


def test_tiny_search_end_to_end_then_export(tmp_path, cli) -> None:
    project = tmp_path / "p"
    code, out, err = cli("tune", "-o", str(project), "--tuner", "random", "--max-trials", "3",
                         "--no-prune", *FAST)
    assert code == 0, err
    rows = _rows(project)
    assert [r["trial_id"] for r in rows] == ["0", "1", "2"]
    assert all(r["status"] == "ok" and r["split0_val_accuracy"] and r["split1_val_accuracy"]
               for r in rows)
    assert sorted(r["rank_val_accuracy"] for r in rows) == ["1", "2", "3"]
    for column in ("mean_val_accuracy", "std_val_accuracy", "mean_fit_time", "param_optimizer",
                   "mean_best_epoch", "config"):
        assert column in rows[0]
    assert json.loads((project / "results.json").read_text())["trials"][0]["params"]
    assert "hpsearch export --from" in out
    # the printed command exports the best trial, with its CV score in the model card
    code, out, err = cli("export", "--from", str(project), "--out", str(tmp_path / "e"), "-q")
    assert code == 0, err
    card = json.loads((tmp_path / "e" / "model_card.json").read_text())
    best = next(r for r in rows if r["rank_val_accuracy"] == "1")
    assert card["cv"]["trial_id"] == best["trial_id"]
    assert card["cv"]["mean"] == pytest.approx(float(best["mean_val_accuracy"]))
    assert card["config"]["epochs"] == 1 and card["test"]["accuracy"] > 0.3
    # without --out the model goes next to the search, as the docs say
    code, out, err = cli("export", "--from", str(project), "-q")
    assert code == 0, err
    assert (project / "export" / "model.keras").is_file()


def test_export_refits_with_the_tunes_seed_unless_told(tmp_path, cli) -> None:
    # two tunes with different seeds that choose the same config must not export one and the
    # same refit (seed 0 for both): the refit takes the tune's seed; --seed still overrides
    project = tmp_path / "p"
    code, _, err = cli("tune", "-o", str(project), "--tuner", "random", "--max-trials", "1",
                       "--seed", "3", "--no-prune", *FAST)
    assert code == 0, err
    for flags, seed in (([], 3), (["--seed", "5"], 5)):
        out = tmp_path / f"e{seed}"
        code, _, err = cli("export", "--from", str(project), "--out", str(out), *flags, "-q")
        assert code == 0, err
        card = json.loads((out / "model_card.json").read_text())
        assert card["seed"] == seed and card["cv"]["seed"] == 3


def test_interrupted_search_resumes_without_rerunning(tmp_path, cli, monkeypatch) -> None:
    import hpsearch.training.evaluate as evaluate_module

    project = tmp_path / "p"
    real, calls = evaluate_module.evaluate_seeds, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the third trial
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluate_module, "evaluate_seeds", interrupted)
    args = ["tune", "-o", str(project), "--tuner", "random", "--max-trials", "3", *FAST]
    code, _, err = cli(*args)
    assert code == 130 and "--resume" in err
    before = _records(project)
    assert {k for k, v in before.items() if v["status"] != "running"} == {"trial_0", "trial_1"}

    code, _, err = cli(*args)  # no --resume: refused, nothing touched
    assert code == 2 and "--resume" in err and _records(project) == before

    monkeypatch.setattr(evaluate_module, "evaluate", real)
    code, _, err = cli(*args, "--resume")
    assert code == 0, err
    after = _records(project)
    assert len(after) == 3 and after["trial_2"]["status"] in ("ok", "pruned")
    for key in ("trial_0", "trial_1"):  # completed trials kept, not re-run
        assert after[key] == before[key]
    assert len(_rows(project)) == 3


def test_resume_refuses_a_different_search(tmp_path, cli) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "project.json").write_text(json.dumps({
        "kind": "hpsearch-tune", "fingerprint": "x", "tuner": "random", "folds": 2,
        "dataset": "fashion-mnist-sample", "seed": 0, "prune": True}))
    code, _, err = cli("tune", "-o", str(project), "--tuner", "random", "--resume", *FAST)
    assert code == 2 and "different search" in err and err.count("\n") == 1


def _search(tmp_path, space_text: str, **settings):
    """A search in process through the library (TuneSpec the CLI does not expose)."""
    from hpsearch.data import load_dataset
    from hpsearch.search.project import Project
    from hpsearch.search.space import build_space
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import build_tuner, run_search

    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "space.toml"
    path.write_text(space_text)
    from hpsearch.config import ModelConfig

    space = build_space(path, ["batch_size=256", "layers=1", "units=64"],
                        ModelConfig(epochs=settings.pop("epochs", 4), patience=0))
    settings = TuneSpec(tuner="random", folds=2, **settings)
    project = Project(tmp_path / "p")
    project.open({"fingerprint": space.fingerprint(), "tuner": "random", "folds": 2,
                  "dataset": "fashion-mnist-sample", "seed": 0, "prune": settings.prune,
                  "max_trials": settings.max_trials}, resume=False, overwrite=False)
    run_search(build_tuner(space, settings, project), load_dataset("fashion-mnist-sample"))
    project.write_results(2)
    return project


GOOD_THEN_BAD = ('[optimizer]\nvalues = ["adam", "sgd"]\n[learning_rate]\nvalue = 0.001\n'
                 '[activation]\nvalue = "relu"\n[dropout]\nvalue = "none"\n'
                 '[kernel_regularizer]\nvalue = "none"\n'
                 '[activity_regularizer]\nvalue = "none"\n')


def test_a_pruned_trial_is_recorded_as_pruned_with_its_epochs_and_partial_curves(tmp_path):
    # trial 0 is the default (adam 1e-3); trial 1 is sgd 1e-3, far behind from its first
    # epoch on; 5 epochs have a 1-epoch warm-up, so it is stopped after its second
    project = _search(tmp_path, GOOD_THEN_BAD, max_trials=2, prune_min_trials=1, epochs=5)
    rows = {r["trial_id"]: r for r in _rows(project.dir)}
    assert rows["0"]["status"] == "ok" and rows["1"]["status"] == "pruned"
    assert "at epoch 2 of 5" in rows["1"]["reason"] and "median" in rows["1"]["reason"]
    record = _records(project.dir)["trial_1"]
    assert record["status"] == "pruned" and len(record["folds"]) == 2
    for fold in record["folds"]:  # every fold stopped together, its epochs and curves kept
        assert fold["epochs_run"] == 2 and len(fold["history"]["val_accuracy"]) == 2
        assert fold["val_accuracy"] == fold["history"]["val_accuracy"][-1]
    oracle = json.loads((project.dir / "kt" / "trial_1" / "trial.json").read_text())
    assert oracle["score"] == pytest.approx(float(rows["1"]["mean_val_accuracy"]))


def test_pruning_never_makes_the_same_search_longer(tmp_path):
    """Random search draws the same configs either way: pruned trials only lose epochs."""
    pruned = _search(tmp_path / "a", GOOD_THEN_BAD, max_trials=2, prune_min_trials=1)
    full = _search(tmp_path / "b", GOOD_THEN_BAD, max_trials=2, prune=False)
    epochs = [sum(f["epochs_run"] for r in _records(p.dir).values() for f in r["folds"])
              for p in (pruned, full)]
    assert epochs[0] < epochs[1] == 2 * 2 * 4


def test_median_pruner_rules() -> None:
    pruner = MedianPruner(warmup_epochs=2, min_trials=2)
    peers = [[0.5, 0.6, 0.7, 0.8], [0.5, 0.7, 0.8, 0.85]]
    assert not pruner.decide(2, 4, 0.1, peers).prune  # inside the warm-up
    assert not pruner.decide(4, 4, 0.1, peers).prune  # the last epoch saves nothing
    assert not pruner.decide(3, 4, 0.1, peers[:1]).prune  # too few finished trials
    assert not pruner.decide(3, 4, 0.75, peers).prune  # at the median (0.75): kept
    decision = pruner.decide(3, 4, 0.74, peers)
    assert decision.prune and "median 0.7500 of 2 finished trials" in decision.reason
    assert not pruner.decide(3, 4, 0.1, [[0.9], [0.9]]).prune  # peers that never got there
    assert [MedianPruner.for_budget(e).warmup_epochs for e in (1, 2, 4, 5, 15)] == \
        [0, 0, 0, 1, 3]
    short = MedianPruner.for_budget(2)  # a 2-epoch trial can be stopped after its first
    assert short.decide(1, 2, 0.1, [[0.5, 0.6]] * 3).prune
    assert not short.decide(2, 2, 0.1, [[0.5, 0.6]] * 3).prune
    assert mean_curve([{"val_accuracy": [0.5, 0.7]}, {"val_accuracy": [0.7, 0.9, 1.0]}]) == \
        pytest.approx([0.6, 0.8])


def test_diverging_trials_fail_and_stop_the_search_clearly(tmp_path, cli) -> None:
    project = tmp_path / "p"
    code, _, err = cli("tune", "-o", str(project), "--tuner", "random", "--max-trials", "4",
                       "--max-failures", "2", "--fix", "optimizer=sgd",
                       "--fix", "learning_rate=1e6", *FAST)
    assert code == 1 and "2 trials in a row failed" in err and err.count("\n") == 1
    rows = _rows(project)
    assert len(rows) == 2 and all(r["status"] == "failed" and "NaN" in r["reason"]
                                  for r in rows)


@pytest.mark.parametrize("args, fragment", [
    (["--folds", "1"], "--folds must be at least 2"),
    (["--tuner", "annealing"], "--tuner 'annealing' is unknown"),
    (["--max-trials", "0"], "--max-trials must be at least 1"),
    (["--resume", "--overwrite"], "not both"),
    (["--resume"], "nothing to resume"),
    (["--fix", "units=0"], "whole numbers >= 1"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, cli, args, fragment) -> None:
    code, _, err = cli("tune", "-o", str(tmp_path / "p"), "--dataset", "fashion-mnist-sample",
                       *args)
    assert code == 2 and fragment in err and err.count("\n") == 1
    assert not (tmp_path / "p").exists()


def test_existing_foreign_directory_is_never_reused(tmp_path, cli) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    code, _, err = cli("tune", "-o", str(tmp_path), "--overwrite", *FAST)
    assert code == 2 and "not an hpsearch tune project" in err
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_export_from_bad_directory(tmp_path, cli) -> None:
    code, _, err = cli("export", "--from", str(tmp_path / "nope"))
    assert code == 2 and "does not exist" in err
    code, _, err = cli("export", "--from", str(tmp_path))
    assert code == 2 and "not an hpsearch tune project" in err


def test_a_running_trial_writes_its_curves_after_every_epoch(tmp_path, monkeypatch):
    """Live dashboards read a running trial's record: it holds every fold's curves so far."""
    from hpsearch.search.project import Project

    seen = []
    real = Project.write_record

    def spy(self, record):
        if record.status == "running" and record.folds:
            seen.append([len(f["history"]["val_accuracy"]) for f in record.folds])
        return real(self, record)

    monkeypatch.setattr(Project, "write_record", spy)
    project = _search(tmp_path, GOOD_THEN_BAD, max_trials=1, prune=False, epochs=3)
    assert seen == [[1, 1], [2, 2], [3, 3]]  # both folds, one more epoch each time
    final = _records(project.dir)["trial_0"]
    assert final["status"] == "ok" and all(f["epochs_run"] == 3 and "n_train" in f
                                           for f in final["folds"])


def test_the_dashboard_shows_the_curves_of_a_running_trial(tmp_path, monkeypatch):
    from hpsearch.search.project import Project
    from hpsearch.web.dashboard_data import snapshot

    snapshots = []
    real = Project.write_record

    def spy(self, record):
        real(self, record)
        if record.status == "running" and record.folds:
            snapshots.append(snapshot(self.dir))

    monkeypatch.setattr(Project, "write_record", spy)
    _search(tmp_path, GOOD_THEN_BAD, max_trials=1, prune=False, epochs=2)
    last = snapshots[-1]["curves"]
    assert {c["trial_id"] for c in last} == {"0"} and {c["status"] for c in last} == {"running"}
    assert sorted(c["fold"] for c in last) == [0, 1]
    assert all(len(c["history"]["val_accuracy"]) == 2 for c in last)


def test_a_setting_every_trial_would_trip_on_stops_the_search_in_one_line(tmp_path, cli,
                                                                          monkeypatch) -> None:
    """Not one failed trial after another, and no record left "running"."""
    from hpsearch.training import loop

    monkeypatch.setattr(loop, "XLA_MODE", "maybe")  # as HPSEARCH_XLA=maybe sets it
    project = tmp_path / "p"
    code, _, err = cli("tune", "-o", str(project), "--tuner", "random", "--max-trials", "3",
                       *FAST)
    assert code == 2 and "HPSEARCH_XLA='maybe' is not a setting" in err
    assert err.count("\n") == 1
    rows = _rows(project)
    assert len(rows) == 1 and rows[0]["status"] == "failed"
