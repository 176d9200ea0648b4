"""One fold record across outputs: `cv --json`, a tune trial record and a study run record
describe each fold (or repeat) with the same keys."""

from __future__ import annotations

import json

import hpsearch as hp
from hpsearch.records import FOLD_KEYS


def test_cv_tune_and_study_write_the_same_fold_record(tmp_path, small_data):
    cv = hp.cross_validate("model1", small_data, folds=2, epochs=1, quiet=True)
    cv_folds = cv.to_dict()["results"][0]["folds"]
    hp.tune(tmp_path / "t", small_data, max_trials=1, epochs=1, tuner="random", quiet=True,
            fix=["batch_size=256", "layers=1", "units=32"])
    record = json.loads(next((tmp_path / "t" / "trials").glob("trial_*.json")).read_text())
    hp.study("optimizer", small_data, repeats=1, epochs=1, values=["sgd", "adam"],
             out=tmp_path / "s", quiet=True)
    run = json.loads(next((tmp_path / "s" / "runs").glob("*.json")).read_text())
    for folds in (cv_folds, record["folds"], run["folds"]):
        assert folds and set(FOLD_KEYS) <= set(folds[0]), sorted(folds[0])
        assert folds[0]["fit_time_s"] > 0 and folds[0]["epochs_run"] == 1
    assert set(cv_folds[0]) == set(run["folds"][0]) == set(FOLD_KEYS)
    assert set(record["folds"][0]) - set(FOLD_KEYS) == {"fit_time"}  # older projects' name
