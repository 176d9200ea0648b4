"""A study's time verdict comes from real repeats: interleaved timed fits at k = 1."""

from __future__ import annotations

import copy
import math

import pytest

from hpsearch.reports.study_summary import summary_rows, timing_verdict
from hpsearch.studies import timing
from hpsearch.studies.budget import budget
from hpsearch.studies.plan import build_plan
from hpsearch.studies.timing import TIMING_FILE, read_timing, time_epochs, time_variants
from hpsearch.training.evaluate import Protocol

SECONDS = {"sgd": 1.0, "adam": 1.2, "rmsprop": 1.01}


@pytest.fixture
def plan():
    return build_plan("optimizer", values="sgd,adam,rmsprop", epochs=4)


def test_variants_are_timed_interleaved_with_one_seed_per_round_and_resume(monkeypatch,
                                                                           tmp_path, plan):
    calls, interrupt = [], [5]

    def fake(cfg, data, protocol, seed, planned, on_epoch=None):
        calls.append((cfg.optimizer, seed))
        if len(calls) in interrupt:
            raise KeyboardInterrupt
        return SECONDS[cfg.optimizer] + 0.01 * len(calls), 2

    monkeypatch.setattr(timing, "time_epochs", fake)
    with pytest.raises(KeyboardInterrupt):
        time_variants(plan, None, tmp_path, Protocol.train_test(0.2), (7, 8), repeats=3)
    # round r: every variant, the same seed seeds[r % 2]; A B C A B C ...
    assert [v.name for v in plan.variants] == ["sgd", "adam", "rmsprop"]
    assert calls == [("sgd", 7), ("adam", 7), ("rmsprop", 7), ("sgd", 8), ("adam", 8)]
    assert len(read_timing(tmp_path)) == 4  # each fit saved as it ended
    calls.clear()
    interrupt.clear()
    rows = time_variants(plan, None, tmp_path, Protocol.train_test(0.2), (7, 8), repeats=3)
    assert calls == [("adam", 8), ("rmsprop", 8), ("sgd", 7), ("adam", 7), ("rmsprop", 7)]
    assert sorted((r["variant"], int(r["repeat"])) for r in rows) == sorted(
        (v, r) for v in ("rmsprop", "sgd", "adam") for r in range(3))
    assert (tmp_path / TIMING_FILE).is_file()
    # a resume with more seeds (--repeats 3): round 2 was begun with seed 7 and keeps it, so
    # its pairs share a seed; (7, 8, 9) alone would give it seed 9
    from hpsearch.studies.store import to_csv
    from hpsearch.studies.timing import TIMING_COLUMNS

    begun = [r for r in rows if int(r["repeat"]) < 2 or r["variant"] == "sgd"]
    (tmp_path / TIMING_FILE).write_text(to_csv(TIMING_COLUMNS, begun))
    calls.clear()
    time_variants(plan, None, tmp_path, Protocol.train_test(0.2), (7, 8, 9), repeats=3)
    assert calls == [("adam", 7), ("rmsprop", 7)]


def _rows(per_variant):
    return [{"variant": v, "repeat": r, "seed": r, "steady_epochs": 2, "epoch_time_s": s}
            for v, seconds in per_variant.items() for r, s in enumerate(seconds)]


def test_time_verdict_is_a_paired_t_over_rounds_and_names_a_fastest_only_outside_noise():
    meta = {"reference": "rmsprop"}
    # sgd - rmsprop per round: -.20, -.18, -.22, -.19, -.21 -> mean -.20, sd .015811,
    # se .0070711, t(.975, 4) = 2.776445 -> half .019633; adam is slower every round
    clear = _rows({"rmsprop": [1.20, 1.20, 1.20, 1.20, 1.20],
                   "sgd": [1.00, 1.02, 0.98, 1.01, 0.99],
                   "adam": [1.50, 1.53, 1.47, 1.52, 1.49]})
    verdict = timing_verdict(meta, clear)
    assert verdict.best == "sgd" and verdict.test.name == "paired t"
    (sgd,) = [c for c in verdict.comparisons if c.variant == "sgd"]
    assert sgd.outcome == "better" and sgd.interval.n == 5
    assert sgd.interval.mean == pytest.approx(-0.20)
    assert verdict.text().startswith("best on time per epoch: sgd")
    # the same means, but one round reversed: no fastest is named
    noisy = _rows({"rmsprop": [1.20, 1.20, 1.20, 1.20, 1.20],
                   "sgd": [1.00, 1.02, 0.98, 1.50, 0.99],
                   "adam": [1.50, 1.53, 1.47, 1.52, 1.49]})
    assert timing_verdict(meta, noisy).best is None
    assert timing_verdict(meta, noisy).text().startswith("no clear winner on time per epoch")


def test_summary_rows_carry_time_per_epoch_mean_and_sample_sd():
    meta = {"study": "optimizer", "reference": "rmsprop", "protocol": {"kind": "train_test"},
            "seeds": [0], "dataset": {"n_test": 200},
            "variants": [{"name": n, "value": n, "is_base": n == "rmsprop", "description": n}
                         for n in ("rmsprop", "sgd")]}
    rows = summary_rows(meta, [], _rows({"rmsprop": [1.0, 1.2, 1.1], "sgd": [0.5, 0.7, 0.6]}))
    sgd = next(r for r in rows if r["variant"] == "sgd")
    assert (sgd["epoch_time_s_mean"], sgd["epoch_time_s_std"]) == pytest.approx((0.6, 0.1))
    assert sgd["epoch_time_s_n"] == 3 and sgd["epoch_time_s_diff"] == pytest.approx(-0.5)


class Untouchable:
    """Any read of the test set fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"the timing read the test set ({name})")

    def __len__(self):
        raise AssertionError("the timing read the test set (len)")

    def __getitem__(self, key):
        raise AssertionError("the timing read the test set ([])")

    def __array__(self, *args, **kwargs):
        raise AssertionError("the timing read the test set (as an array)")


def test_a_real_timed_fit_reads_only_training_rows(small_data):
    poisoned = copy.copy(small_data)  # the test rows are replaced after the data's checks
    object.__setattr__(poisoned, "x_test", Untouchable())
    object.__setattr__(poisoned, "y_test", Untouchable())
    plan = build_plan("optimizer", values="sgd", epochs=3)
    seconds, steady = time_epochs(plan.base, poisoned, Protocol.train_test(0.2), 0, 3)
    assert steady == 2 and seconds > 0 and math.isfinite(seconds)


def test_the_dry_run_budget_counts_the_timing_repeats(plan):
    with_timing = budget(plan, 3, 5, 60000, 0.2)
    without = budget(plan, 3, 5, 60000, 0.2, timing_repeats=0)
    assert with_timing.timing_seconds > 0 and without.timing_seconds == 0
    assert with_timing.seconds == pytest.approx(without.seconds + with_timing.timing_seconds)
    assert with_timing.fits == without.fits + 5 * 3


def test_the_progress_total_counts_the_timing_epochs_still_missing(tmp_path, plan):
    from hpsearch.studies.store import to_csv
    from hpsearch.studies.timing import TIMING_COLUMNS, pending_timing_epochs

    assert pending_timing_epochs(plan, tmp_path) == 3 * 5 * 3  # variants x rounds x epochs
    (tmp_path / TIMING_FILE).write_text(to_csv(TIMING_COLUMNS, _rows({"sgd": [1.0, 1.1]})))
    assert pending_timing_epochs(plan, tmp_path) == 3 * (15 - 2)
