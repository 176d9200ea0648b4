"""The study dashboard reports what every other output reports: ddof=1 std, no crown in noise."""

from __future__ import annotations

import math

import pytest

from hpsearch.studies.store import save_run, write_study
from hpsearch.web.dashboard_data import study_snapshot


def _study(tmp_path, scores: dict[str, list[float]]):
    seeds = list(range(len(next(iter(scores.values())))))
    write_study(tmp_path, {"study": "toy", "variants": [{"name": n} for n in scores],
                           "seeds": seeds, "primary_metric": "val_accuracy"})
    for name, values in scores.items():
        for seed, value in zip(seeds, values, strict=True):
            save_run(tmp_path, {"variant": name, "seed": seed, "status": "ok",
                                "folds": [{"val_accuracy": value}], "wall_time_s": 1.0})
    return study_snapshot(tmp_path)


def test_std_is_the_sample_std(tmp_path):
    snap = _study(tmp_path, {"a": [0.80, 0.82, 0.84], "b": [0.70, 0.71, 0.72]})
    row = next(r for r in snap["trials"] if r["trial_id"] == "a")
    assert row["std"] == pytest.approx(0.02)           # ddof=1; ddof=0 gives 0.01633
    assert not math.isclose(row["std"], 0.0163299, rel_tol=1e-3)


def test_a_lead_inside_the_noise_is_not_crowned(tmp_path):
    snap = _study(tmp_path, {"a": [0.80, 0.86, 0.79], "b": [0.81, 0.80, 0.82]})
    assert snap["best"]["trial_id"] == "a"             # the top mean ...
    assert snap["best"]["clear"] is False              # ... but not a winner
    assert "inside the noise" in snap["best"]["lead"] and "vs b" in snap["best"]["lead"]


def test_a_clear_lead_says_so(tmp_path):
    snap = _study(tmp_path, {"a": [0.90, 0.91, 0.92], "b": [0.80, 0.815, 0.82]})
    assert snap["best"]["clear"] is True and "ahead" in snap["best"]["lead"]
