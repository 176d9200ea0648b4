"""Diverging trials: a trial whose loss becomes NaN is recorded as failed with its reason, the
search goes on, and too many failures in a row stop it with one clear line (exit 1).

(tests/test_tuner.py::test_diverging_trials_fail_and_stop_the_search_clearly pins the stop;
this file pins "the search continues" and the absence of tracebacks.)
"""

from __future__ import annotations

import csv
import json

ONLY_LR = ["--dataset", "fashion-mnist-sample", "-q", "-k", "2", "--epochs", "1",
           "--no-prune", "--fix", "hidden=16", "--fix", "batch_size=256",
           "--fix", "optimizer=sgd", "--fix", "activation=relu", "--fix", "dropout=none",
           "--fix", "kernel_regularizer=none", "--fix", "activity_regularizer=none"]


def _rows(directory):
    with open(directory / "results.csv", newline="") as handle:
        return {r["trial_id"]: r for r in csv.DictReader(handle)}


def test_a_diverging_trial_is_recorded_failed_and_the_search_goes_on(cli, tmp_path) -> None:
    space = tmp_path / "space.toml"  # the warm-start trial takes the default: it diverges
    space.write_text("[learning_rate]\nvalues = [1e6, 0.01, 0.001]\ndefault = 1e6\n")
    project = tmp_path / "p"
    code, out, err = cli("tune", "-o", str(project), "--tuner", "random", "--max-trials", "3",
                         "--max-failures", "2", "--space", str(space), *ONLY_LR)
    assert code == 0, err
    assert "Traceback" not in out + err
    rows = _rows(project)
    assert sorted(rows) == ["0", "1", "2"]
    assert rows["0"]["status"] == "failed" and "NaN" in rows["0"]["reason"]
    assert rows["0"]["rank_val_accuracy"] == "" and rows["0"]["param_learning_rate"] == "1000000.0"
    assert {rows[t]["status"] for t in ("1", "2")} == {"ok"}
    assert {rows[t]["rank_val_accuracy"] for t in ("1", "2")} == {"1", "2"}
    record = json.loads((project / "trials" / "trial_0.json").read_text())
    assert record["status"] == "failed" and record["finished"] and "fold" in record["reason"]
    assert "trial 0 failed:" in out  # the summary names it


def test_failures_in_a_row_stop_with_one_line(cli, tmp_path) -> None:
    space = tmp_path / "space.toml"  # three distinct configs, all diverging
    space.write_text("[learning_rate]\nvalues = [1e6, 1e7, 1e8]\n")
    project = tmp_path / "p"
    args = ["tune", "-o", str(project), "--tuner", "random", "--max-trials", "3",
            "--max-failures", "2", "--space", str(space), *ONLY_LR]
    code, out, err = cli(*args)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: stopped after 2 trials in a row")
    assert "narrow the space" in lines[0] and "Traceback" not in out + err
    rows = _rows(project)
    assert len(rows) == 2 and all(r["status"] == "failed" and r["reason"] for r in rows.values())
