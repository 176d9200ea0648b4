"""`hpsearch tune` end to end on the shipped sample: results files, resume, pruning, failures."""

from __future__ import annotations

import csv
import json

import pytest

from hpsearch.pruning import should_prune
from hpsearch.trials import TrialRecord

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


def test_interrupted_search_resumes_without_rerunning(tmp_path, cli, monkeypatch) -> None:
    import hpsearch.evaluate as evaluate_module

    project = tmp_path / "p"
    real, calls = evaluate_module.evaluate, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C in the third trial
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluate_module, "evaluate", interrupted)
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


def test_pruning_records_pruned_trials_with_partial_scores(tmp_path, cli) -> None:
    space = tmp_path / "space.toml"  # trial 0 is the default (adam 1e-3); trial 1 must be sgd
    space.write_text('[optimizer]\nvalues = ["adam", "sgd"]\n[learning_rate]\nvalue = 0.001\n'
                     '[activation]\nvalue = "relu"\n[dropout]\nvalue = "none"\n'
                     '[kernel_regularizer]\nvalue = "none"\n'
                     '[activity_regularizer]\nvalue = "none"\n')
    project = tmp_path / "p"
    code, _, err = cli("tune", "-o", str(project), "--tuner", "random", "--max-trials", "2",
                       "--space", str(space), *FAST)
    assert code == 0, err
    rows = {r["trial_id"]: r for r in _rows(project)}
    assert rows["0"]["status"] == "ok"
    assert rows["1"]["status"] == "pruned" and rows["1"]["n_folds_done"] == "1"
    assert rows["1"]["split0_val_accuracy"] and not rows["1"]["split1_val_accuracy"]
    assert "below trial 0" in rows["1"]["reason"]


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


def test_should_prune_is_paired_and_needs_a_finished_best() -> None:
    best = TrialRecord("0", {}, {}, status="ok", folds=[{"fold": 0, "val_accuracy": 0.80},
                                                        {"fold": 1, "val_accuracy": 0.90}])
    assert not should_prune([0.70], []).prune
    assert not should_prune([0.795], [best]).prune  # inside the margin on fold 0
    assert should_prune([0.75], [best]).prune
