"""The public API (`import hpsearch as hp`): what a notebook user calls and sees."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import hpsearch as hp

SPACE = ["batch_size=256", "layers=1", "units=32", "optimizer=adam", "dropout=none"]


def test_import_is_light_and_changes_no_environment():
    code = ("import os, sys, time; before = dict(os.environ); t = time.perf_counter(); "
            "import hpsearch as hp; took = time.perf_counter() - t; "
            "print(took, 'tensorflow' in sys.modules, 'keras' in sys.modules, "
            "dict(os.environ) == before, callable(hp.cross_validate))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert float(out[0]) < 0.3
    assert out[1:] == ["False", "False", "True", "True"]
    assert "tensorflow" not in out  # the names above resolve lazily, still without TF


def test_every_public_name_resolves_and_has_a_docstring_with_an_example():
    for name in hp.__all__:
        value = getattr(hp, name)
        if callable(value) and not isinstance(value, type) or name in ("Search",):
            assert value.__doc__, name
    for function in (hp.cross_validate, hp.train, hp.tune, hp.study, hp.report, hp.export,
                     hp.preset, hp.ModelConfig.replace, hp.load_dataset):
        doc = function.__doc__
        assert "Args:" in doc and "Returns:" in doc and "Example" in doc, function
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hp.nope  # noqa: B018


def test_config_replace_validates_and_never_mutates():
    base = hp.preset("model1")
    other = base.replace(epochs=3, optimizer="adam")
    assert (other.epochs, other.optimizer, base.epochs, base.optimizer) == (3, "adam", 10, "sgd")
    with pytest.raises(hp.ConfigError, match="unknown field"):
        base.replace(colour="red")


def test_cross_validate_table_is_shaped_like_cv_results(small_data):
    cv = hp.cross_validate({"sgd": hp.preset("model1"), "adam": "model2"}, small_data,
                           folds=2, epochs=1, quiet=True)
    table = cv.table()
    assert list(table.index) == ["sgd", "adam"]
    for column in ("split0_val_accuracy", "split1_val_accuracy", "mean_val_accuracy",
                   "std_val_accuracy", "rank_val_accuracy", "param_hidden", "param_optimizer"):
        assert column in table.columns, column
    assert "param_batch_size" not in table  # only the fields that differ, like a searched grid
    assert sorted(table["rank_val_accuracy"]) == [1, 2]
    assert cv.best in (None, *table.index) and "validation accuracy" in cv.verdict
    payload = cv.to_dict()  # what `hpsearch cv --json` prints: the same numbers
    assert payload["results"][0]["std_val_accuracy"] == pytest.approx(
        table.loc["sgd", "std_val_accuracy"])
    html = cv._repr_html_()
    assert "<table" in html and cv.verdict.split(":")[0] in html
    assert repr(cv).startswith("<CVResult: 2 config(s), 2-fold CV")
    figure = cv.plot()
    assert type(figure).__name__ == "Figure" and figure.axes


def test_train_returns_scores_history_and_a_model(small_data):
    fit = hp.train("model1", small_data, epochs=2, quiet=True)
    assert 0 <= fit.test_accuracy <= 1 and fit.test_loss > 0
    assert len(fit.history["loss"]) == 2 and fit.model.count_params() > 0
    assert list(fit.table().index) == ["train", "test"]
    assert "test accuracy" in fit.verdict and "<table" in fit._repr_html_()


def test_tune_resume_reuses_settings_and_refuses_a_conflict(tmp_path, small_data):
    directory = tmp_path / "t"
    search = hp.tune(directory, small_data, max_trials=2, epochs=1, fix=SPACE, prune=False,
                     tuner="random", quiet=True)
    assert len(search.results()) == 2 and search.best_config is not None
    assert search.results()["rank_val_accuracy"].iloc[0] == 1
    meta = json.loads((directory / "project.json").read_text())
    assert meta["spec"]["prune"] is False and meta["spec"]["epochs"] == 1
    more = hp.tune(directory, small_data, max_trials=3, resume=True, quiet=True)
    assert len(more.results()) == 3  # --no-prune, random, epochs 1 all came from the project
    with pytest.raises(hp.ProjectError, match=r"different search \(`epochs` 1 -> 2\)"):
        hp.tune(directory, small_data, max_trials=4, epochs=2, resume=True, quiet=True)
    assert "<table" in more._repr_html_() and "best: trial" in more.verdict


def test_time_budget_starts_no_trial_that_would_overrun(tmp_path, small_data):
    directory = tmp_path / "t"
    search = hp.tune(directory, small_data, max_trials=50, epochs=1, fix=SPACE,
                     tuner="random", time_budget=5, quiet=True)
    rows = search.results()
    assert 1 <= len(rows) < 50  # the first trial starts (no estimate yet), then few more
    assert search.stopped_on_time and "stopped on time" in search.verdict
    meta = json.loads((directory / "project.json").read_text())
    assert meta["stopped"].startswith("stopped on time")
    hp.report(directory)
    assert "**Stopped on time:**" in (directory / "report.md").read_text()


def test_study_summary_verdict_and_plot(tmp_path, small_data):
    st = hp.study("optimizer", small_data, repeats=2, epochs=1, values=["sgd", "adam"],
                  out=tmp_path / "s", quiet=True)
    summary = st.summary()
    assert list(summary.index) == ["sgd", "adam"]
    assert {"test_accuracy_mean", "test_accuracy_std", "n"} <= set(summary.columns)
    assert (summary["n"] == 2).all() and "test accuracy" in st.verdict
    assert st.plot().axes and (tmp_path / "s" / "summary.md").is_file()
    assert hp.report(tmp_path / "s").name == "report.html"


def test_library_errors_are_typed(tmp_path, small_data):
    with pytest.raises(hp.ConfigError, match="unknown preset"):
        hp.train("model9", small_data)
    with pytest.raises(hp.ConfigError, match="unknown study"):
        hp.study("colour", small_data)
    with pytest.raises(hp.ProjectError, match="nothing to resume"):
        hp.tune(tmp_path / "none", small_data, resume=True)
    with pytest.raises(hp.ProjectError, match="does not exist"):
        hp.report(tmp_path / "none")


def test_tune_resume_refuses_a_conflict_even_at_the_default(tmp_path, small_data):
    """`folds=2` is the default, yet against a stored 3 it is a conflict, as on the CLI."""
    directory = tmp_path / "t"
    hp.tune(directory, small_data, max_trials=1, folds=3, epochs=1, fix=SPACE, prune=False,
            tuner="random", quiet=True)
    with pytest.raises(hp.ProjectError, match=r"different search \(`folds` 3 -> 2\)"):
        hp.tune(directory, small_data, max_trials=2, folds=2, resume=True, quiet=True)
    meta = json.loads((directory / "project.json").read_text())
    assert meta["spec"]["folds"] == 3 and meta["spec"]["max_trials"] == 1  # nothing written


def test_time_budget_keeps_its_word(tmp_path, small_data):
    # the documented bound: the trials end within the budget plus one trial's length
    from datetime import datetime

    from hpsearch.search.project import Project

    budget = 6.0
    hp.tune(tmp_path / "b", small_data, max_trials=50, epochs=1, fix=SPACE, tuner="random",
            time_budget=budget, quiet=True)
    records = [r for r in Project(tmp_path / "b").records() if r.final]
    start = min(datetime.fromisoformat(r.started) for r in records)
    end = max(datetime.fromisoformat(r.finished) for r in records)
    longest = max(r.wall_time for r in records)
    assert (end - start).total_seconds() <= budget + longest + 1.0  # +1 s: clock rounding


def test_the_estimate_is_a_full_length_trial_not_a_pruned_one(tmp_path):
    from hpsearch.search.project import Project
    from hpsearch.search.trial_record import TrialRecord
    from hpsearch.search.tuner import expected_trial_seconds

    project = Project(tmp_path)
    tmp_path.mkdir(exist_ok=True)

    def record(trial_id, status, seconds, epochs_run):
        return TrialRecord(trial_id, {}, {"epochs": 10}, status=status, finished="x",
                           wall_time=seconds, epochs_budget=10,
                           folds=[{"fold": 0, "val_accuracy": 0.5, "epochs_run": epochs_run}])

    for i in range(5):  # most trials pruned after 2 of 10 epochs: 2 s each
        project.write_record(record(f"0{i}", "pruned", 2.0, 2))
    assert expected_trial_seconds(project) == 10.0  # scaled to 10 epochs before any ends
    project.write_record(record("05", "ok", 9.0, 10))
    project.write_record(record("06", "ok", 11.0, 10))
    assert expected_trial_seconds(project) == 10.0  # the full-length trials' median, not 2 s
