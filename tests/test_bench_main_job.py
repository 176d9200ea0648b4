"""scripts/bench_main_job.py reports the best trial's lead over the warm start honestly."""

from __future__ import annotations

import pytest
from script_support import script

from hpsearch.search.trial_record import TrialRecord


class _Project:
    """What the script reads of a project: its trial records."""

    def __init__(self, trials):
        self._records = [TrialRecord(trial_id, {}, {}, status=status,
                                     folds=[{"val_accuracy": s} for s in scores])
                         for trial_id, scores, status in trials]

    def records(self):
        return self._records


def _project(tmp_path, trials):
    return _Project(trials)


def test_the_lead_is_paired_fold_by_fold_with_the_warm_start(tmp_path):
    bench = script("bench_main_job")
    project = _project(tmp_path, [("00", [0.89, 0.90], "ok"), ("07", [0.895, 0.899], "ok")])
    lead = bench.lead_over_warm_start(project, "07")
    assert lead["warm_cv"] == 0.895
    assert lead["lead"] == pytest.approx(0.002, abs=1e-9)
    assert lead["fold_leads"] == [0.005, -0.001]  # one fold up, one down: inside the noise


def test_a_pruned_warm_start_has_no_paired_lead(tmp_path):
    bench = script("bench_main_job")
    project = _project(tmp_path, [("00", [0.80], "pruned"), ("03", [0.90, 0.91], "ok")])
    assert bench.lead_over_warm_start(project, "03")["lead"] is None
