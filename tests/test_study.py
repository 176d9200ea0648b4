"""`hpsearch study` end to end on the shipped sample, resume, and one-line input errors."""

from __future__ import annotations

import csv
import json

import pytest

from hpsearch.reports.study_summary import SUMMARY_COLUMNS
from hpsearch.studies.store import CURVE_COLUMNS, RESULT_COLUMNS

SAMPLE = ["--dataset", "fashion-mnist-sample", "--quiet"]


def _rows(path):
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


@pytest.fixture
def small_base(tmp_path):
    path = tmp_path / "base.toml"
    path.write_text('hidden = [32]\nbatch_size = 128\noptimizer = "sgd"\n')
    return path


def test_two_variant_two_repeat_study_writes_every_file(cli, tmp_path, small_base):
    out = tmp_path / "opt"
    code, stdout, err = cli("study", "optimizer", "--base", str(small_base), "--values",
                            "sgd,adam", "--repeats", "2", "--epochs", "1", "--out", str(out),
                            *SAMPLE, "--json")
    assert code == 0, err
    payload = json.loads(stdout)
    assert payload["studies"][0]["study"] == "optimizer"
    for name in ("study.json", "results.csv", "curves.csv", "summary.csv", "summary.md",
                 "verdict.json", "accuracy.png", "loss.png", "time.png", "curves.png"):
        assert (out / name).is_file(), name
    columns, rows = _rows(out / "results.csv")
    assert tuple(columns) == RESULT_COLUMNS
    assert [(r["variant"], r["seed"]) for r in rows] == [
        ("sgd", "0"), ("sgd", "1"), ("adam", "0"), ("adam", "1")]
    assert all(r["status"] == "ok" and 0 < float(r["test_accuracy"]) <= 1 for r in rows)
    columns, summary = _rows(out / "summary.csv")
    assert tuple(columns) == SUMMARY_COLUMNS
    assert [r["variant"] for r in summary] == ["sgd", "adam"]
    assert summary[0]["is_base"] == "1" and summary[0]["test_accuracy_diff"] == ""
    assert summary[1]["test_accuracy_vs_base"] in ("better", "worse", "indistinguishable")
    columns, curves = _rows(out / "curves.csv")
    assert tuple(columns) == CURVE_COLUMNS and len(curves) == 4  # 1 epoch x 4 runs
    assert curves[0]["val_accuracy"] != ""  # validation curves exist
    meta = json.loads((out / "study.json").read_text())
    assert meta["seeds"] == [0, 1] and meta["field"] == "optimizer"
    assert meta["base_config"]["hidden"] == [32]
    assert [v["name"] for v in meta["variants"]] == ["sgd", "adam"]
    assert meta["protocol"] == {"kind": "train_test", "folds": 1, "validation_fraction": 0.2}
    assert "95% paired" in (out / "summary.md").read_text() or "indistinguishable" in (
        out / "summary.md").read_text()
    # time: 5 interleaved timing rounds at k = 1, judged by the paired t over rounds
    _, timing = _rows(out / "timing.csv")
    assert [(r["variant"], r["repeat"], r["seed"]) for r in timing[:4]] == [
        ("sgd", "0", "0"), ("adam", "0", "0"), ("sgd", "1", "1"), ("adam", "1", "1")]
    assert len(timing) == 10 and all(float(r["epoch_time_s"]) > 0 for r in timing)
    assert summary[1]["epoch_time_s_n"] == "5" and summary[1]["epoch_time_s_test"] == "paired t"
    time_verdict = payload["studies"][0]["verdict"]["time"]
    assert time_verdict["metric"] == "epoch_time_s" and time_verdict["lead"]["n"] == 5
    assert "s/epoch (timing)" in (out / "summary.md").read_text()
    # an existing study is never silently reused
    code, _, err = cli("study", "optimizer", "--base", str(small_base), "--values", "sgd,adam",
                       "--repeats", "2", "--epochs", "1", "--out", str(out), *SAMPLE)
    assert code == 2 and "--resume" in err and "Traceback" not in err


def test_architectures_cross_validates_then_refits_and_exports(cli, tmp_path):
    out = tmp_path / "arch"
    code, stdout, err = cli("study", "architectures", "--values", "model1,model3", "--folds",
                            "2", "--epochs", "1", "--out", str(out), *SAMPLE, "--json")
    assert code == 0, err
    _, rows = _rows(out / "results.csv")
    assert len(rows) == 4 and {r["fold"] for r in rows} == {"0", "1"}
    assert all(r["test_accuracy"] == "" for r in rows)  # CV never touches the test set
    card = json.loads((out / "export" / "model_card.json").read_text())
    assert card["source"].startswith("study architectures: ")
    assert card["cv"]["folds"] == 2 and card["dataset"]["n_train"] == 6000
    assert (out / "export" / "model.keras").is_file()
    assert "Refit and test" in (out / "summary.md").read_text()


@pytest.mark.parametrize("args, words", [
    (["study", "nonsense"], "unknown study"),
    (["study", "batch-size", "--values", "32,abc"], "batch_size"),
    (["study", "batch-size", "--values", "32,,128"], "--values"),
    (["study", "batch-size", "--repeats", "0"], "--repeats"),
    (["study", "batch-size", "--rate", "0.1"], "--rate"),
    (["study", "optimizer", "--values", "sgd,nope"], "optimizer"),
    (["study", "all", "--values", "1,2"], "--values"),
    (["study", "dropout", "--base", "nope"], "--base"),
    (["study", "dropout", "--resume", "--overwrite"], "not both"),
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, words):
    code, _, err = cli(*args, "--out", str(tmp_path / "x"), "--dry-run", *SAMPLE)
    if "--resume" in args:  # checked when the directory is, not in a dry run
        code, _, err = cli(*args, "--out", str(tmp_path / "x"), *SAMPLE)
    assert code == 2
    assert err.startswith("error:") and words in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_dry_run_prints_the_budget_without_training(cli):
    code, out, err = cli("study", "all", "--quick", "--dry-run", "--json")
    assert code == 0, err
    budget = json.loads(out)
    assert [s["study"] for s in budget["studies"]][0] == "architectures"
    arch = budget["studies"][0]
    # 3 presets x 2 seeds x 3 folds + 3 presets x 5 timing repeats + the refit
    assert arch["fits"] == 3 * 2 * 3 + 3 * 5 + 1
    assert 0 < arch["timing_seconds"] < arch["seconds"]
    assert 0 < budget["estimated_seconds"] < 3600
