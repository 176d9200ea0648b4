"""The CLI as a new user tries it from the README: --epochs on every command that trains,
`tune --directory D --resume` with nothing else, --time-budget and an honest --dry-run."""

from __future__ import annotations

import json

import pytest

SAMPLE = ["--dataset", "fashion-mnist-sample"]
TINY = ["--fix", "batch_size=256", "--fix", "layers=1", "--fix", "units=32", "--fix",
        "dropout=none", "-k", "2", "--epochs", "1", "--tuner", "random", *SAMPLE, "-q"]


@pytest.mark.parametrize("command", [["train", "--preset", "model1"],
                                     ["cv", "--preset", "model1", "-k", "2"]])
def test_epochs_works_on_train_and_cv(cli, command):
    code, out, err = cli(*command, "--epochs", "1", *SAMPLE, "--json", "-q")
    assert code == 0, err
    payload = json.loads(out)
    epochs = payload["epochs"] if command[0] == "train" else \
        payload["results"][0]["folds"][0]["epochs_run"]
    assert epochs == 1


def test_export_and_study_take_epochs(cli, tmp_path):
    code, out, err = cli("export", "--preset", "model1", "--epochs", "1", "--out",
                         str(tmp_path / "e"), *SAMPLE, "--json", "-q")
    assert code == 0, err
    assert json.loads(out)["train"]["epochs"] == 1
    code, out, err = cli("study", "optimizer", "--epochs", "1", "--dry-run", "--json", *SAMPLE)
    assert code == 0, err
    study = json.loads(out)["studies"][0]
    # one epoch per accuracy fit; the timing fits run a warm-up and 2 steady epochs
    timing = study["timing_fits"]
    assert timing == 3 * 5 and study["epochs"] - 3 * timing == study["fits"] - timing


def test_resume_needs_only_the_directory(cli, tmp_path):
    directory = str(tmp_path / "t")
    code, out, err = cli("tune", "-o", directory, "--max-trials", "1", "--no-prune", *TINY,
                         "--json")
    assert code == 0, err
    code, out, err = cli("tune", "-o", directory, "--resume", "--max-trials", "2", "--json",
                         "-q")  # no --no-prune, no --dataset, no --fix: all stored
    assert code == 0, err
    assert sum(json.loads(out)["counts"].values()) == 2
    code, out, err = cli("tune", "-o", directory, "--resume", "--folds", "3", "-q")
    assert code == 2 and err.count("\n") == 1
    assert "--folds 2 -> 3" in err and "different search" in err


def test_time_budget_stops_and_says_so(cli, tmp_path):
    code, out, err = cli("tune", "-o", str(tmp_path / "t"), "--max-trials", "20",
                         "--time-budget", "1s", *TINY, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert sum(payload["counts"].values()) < 20
    assert payload["stopped"].startswith("stopped on time")
    code, _, err = cli("tune", "-o", str(tmp_path / "u"), "--time-budget", "soon", *TINY)
    assert code == 2 and "--time-budget 'soon'" in err


def test_dry_run_times_configs_the_space_produces(cli):
    code, out, err = cli("tune", "--dry-run", "--time-budget", "10m", "--max-trials", "30",
                         "--epochs", "2", "-k", "2", *SAMPLE, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert len(payload["sampled"]) >= 3  # the warm start and random draws, not one config
    assert len({s["config"] for s in payload["sampled"]}) >= 2
    assert payload["trial_seconds_min"] <= payload["trial_seconds_median"] \
        <= payload["trial_seconds_max"]
    assert 0 < payload["trials_in_budget"] <= 30 and "fits about" in payload["summary"]
