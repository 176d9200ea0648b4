"""Verdicts on constructed numbers: a clear difference is named, overlapping ones are not."""

from __future__ import annotations

import pytest

from hpsearch.reports.study_summary import summary_rows, verdict_json, verdicts
from hpsearch.stats import PairedTest
from hpsearch.studies.verdict import collect, decide, infer_test, study_test


def _scores(**variants: list[float]) -> dict[str, dict[tuple[int, int], float]]:
    return {name: {(seed, 0): v for seed, v in enumerate(values)}
            for name, values in variants.items()}


def test_a_clear_difference_is_named_best():
    scores = _scores(base=[0.80, 0.81, 0.79, 0.80, 0.82], wide=[0.85, 0.865, 0.84, 0.855, 0.87])
    verdict = decide(scores, "base", "test_accuracy")
    assert verdict.best == "wide"
    assert verdict.lead.low > 0
    assert verdict.headline().startswith("best on test accuracy: wide")
    (comparison,) = verdict.comparisons
    assert comparison.variant == "wide" and comparison.outcome == "better"


def test_overlapping_intervals_name_no_winner():
    scores = _scores(base=[0.80, 0.85, 0.78, 0.83, 0.81], other=[0.82, 0.80, 0.81, 0.84, 0.79])
    verdict = decide(scores, "base", "test_accuracy")
    assert verdict.best is None
    assert "indistinguishable at this number of repeats (5 pairs)" in verdict.headline()
    assert verdict.comparisons[0].outcome == "indistinguishable"


def test_lower_is_better_for_time_and_worse_is_reported():
    scores = _scores(base=[2.0, 2.1, 1.9], big=[1.0, 1.2, 0.85])
    verdict = decide(scores, "base", "steady_time_s", higher_is_better=False)
    assert verdict.best == "big" and verdict.lead.mean > 0
    reverse = decide(_scores(base=[0.9, 0.91, 0.89], bad=[0.5, 0.52, 0.49]), "base",
                     "test_accuracy")
    assert reverse.best == "base" and reverse.comparisons[0].outcome == "worse"
    assert "worse than the base base: bad" in reverse.text()


def test_best_must_beat_the_runner_up_not_just_the_base():
    scores = _scores(base=[0.70, 0.71, 0.69, 0.70], a=[0.80, 0.82, 0.79, 0.80],
                     b=[0.81, 0.79, 0.80, 0.81])
    verdict = decide(scores, "base", "test_accuracy")
    assert verdict.best is None  # a and b both beat the base but not each other
    assert {c.outcome for c in verdict.comparisons} == {"better"}


def test_one_repeat_gives_no_verdict():
    verdict = decide(_scores(base=[0.8], other=[0.9]), "base", "test_accuracy")
    assert verdict.best is None and "single pair" in verdict.headline()


def test_collect_pairs_by_seed_and_skips_failed_runs():
    rows = [{"variant": "a", "seed": "0", "fold": "0", "status": "ok", "test_accuracy": "0.5"},
            {"variant": "a", "seed": "1", "fold": "0", "status": "failed", "test_accuracy": ""},
            {"variant": "b", "seed": "0", "fold": "0", "status": "ok", "test_accuracy": "0.6"}]
    assert collect(rows, "test_accuracy") == {"a": {(0, 0): 0.5}, "b": {(0, 0): 0.6}}


def _kfold(**variants: list[list[float]]) -> dict[str, dict[tuple[int, int], float]]:
    """variant -> per seed, the fold scores."""
    return {name: {(seed, fold): v for seed, folds in enumerate(per_seed)
                   for fold, v in enumerate(folds)}
            for name, per_seed in variants.items()}


def test_independent_repeats_keep_the_plain_paired_t_and_say_so():
    scores = _scores(base=[0.80, 0.81, 0.79, 0.80, 0.82], wide=[0.85, 0.87, 0.84, 0.86, 0.87])
    verdict = decide(scores, "base", "test_accuracy")
    assert verdict.test.name == "paired t"
    # d = .05 .06 .05 .06 .05: mean .054, s² = 3e-5, se = sqrt(3e-5 / 5), half 2.776445 * se
    half = 2.776445 * (3e-5 / 5) ** 0.5
    assert (verdict.lead.low, verdict.lead.high) == pytest.approx(
        (0.054 - half, 0.054 + half), abs=1e-6)
    assert "(paired t)" in verdict.text() and "; paired t)" in verdict.headline()


def test_architectures_seeds_by_folds_use_bouckaert_frank():
    # 2 seeds x 3 folds, m1 - m2 = .01 .02 .03 per seed: J = 6, s² = 8e-5, ratio 1/2,
    # se = sqrt((1/6 + 1/2) * 8e-5) = 0.0073030, half = 2.570582 * se = 0.0187729
    scores = _kfold(m1=[[0.81, 0.82, 0.83], [0.81, 0.82, 0.83]], m2=[[0.80] * 3, [0.80] * 3])
    assert infer_test(scores) == PairedTest.kfold(3, repeats=2)
    assert study_test({"kind": "kfold", "folds": 3}, 2) == infer_test(scores)
    assert study_test({"kind": "train_test", "folds": 1}, 5) == PairedTest.plain()
    verdict = decide(scores, "m1", "val_accuracy")
    assert verdict.best == "m1" and verdict.lead.n == 6
    assert (verdict.lead.low, verdict.lead.high) == pytest.approx((0.0012271, 0.0387729),
                                                                  abs=1e-6)
    assert "Bouckaert-Frank corrected repeated k-fold t (2×3)" in verdict.headline()
    plain = decide(scores, "m1", "val_accuracy", test=PairedTest.plain())
    assert plain.lead.high - plain.lead.low < verdict.lead.high - verdict.lead.low


def test_vs_base_comparisons_are_holm_adjusted_together():
    scores = _scores(base=[0.70, 0.71, 0.69, 0.70], a=[0.80, 0.82, 0.79, 0.80],
                     b=[0.81, 0.79, 0.80, 0.81])
    verdict = decide(scores, "base", "test_accuracy")
    assert {c.interval.family for c in verdict.comparisons} == {2}
    assert "Holm over 2 comparisons" in verdict.against_base()
    assert sorted(c.interval.confidence for c in verdict.comparisons) == pytest.approx(
        [0.95, 0.975])


def test_study_report_json_and_summary_name_the_test():
    rows = [{"variant": v, "seed": s, "fold": 0, "status": "ok", "test_accuracy": acc,
             "test_loss": 1 - acc, "steady_time_s": 1.0 + s / 10}
            for v, accs in (("base", [0.80, 0.81, 0.79]), ("wide", [0.85, 0.87, 0.84]))
            for s, acc in enumerate(accs)]
    meta = {"reference": "base", "seeds": [0, 1, 2], "study": "s",
            "protocol": {"kind": "train_test", "folds": 1, "validation_fraction": 0.2},
            "variants": [{"name": n, "value": n, "is_base": n == "base", "description": n}
                         for n in ("base", "wide")]}
    verdict = verdicts(meta, rows)
    payload = verdict_json(verdict["accuracy"])
    assert payload["test"] == "paired t" and payload["lead"]["test"] == "paired t"
    # d = .05 .06 .05: mean .053333, s² = 3.3333e-5, p from t = 16.0 with df 2 -> 0.003884
    assert payload["lead"]["mean"] == pytest.approx(0.053333, abs=1e-6)
    assert payload["lead"]["p"] == pytest.approx(0.003884, abs=1e-6)
    summary = {r["variant"]: r for r in summary_rows(meta, rows)}
    assert summary["wide"]["test_accuracy_test"] == "paired t"
    assert summary["wide"]["test_accuracy_vs_base"] == "better"
    assert summary["wide"]["test_accuracy_std"] == pytest.approx(0.0152753, abs=1e-6)  # ddof 1


def test_equal_differences_are_not_a_certain_winner():
    # every seed differs by exactly +0.05: zero spread, which used to read as a sure lead
    # (a zero-width interval and p = 0, as the shipped time verdicts showed)
    scores = _scores(base=[0.80, 0.81, 0.79, 0.80, 0.82], same=[0.85, 0.86, 0.84, 0.85, 0.87])
    assert decide(scores, "base", "steady_time_s", higher_is_better=False).best is None
    # for accuracies on a known number of images the binomial floor gives a real interval
    from hpsearch.stats import PairedTest

    floored = decide(scores, "base", "test_accuracy", test=PairedTest.plain().accuracies_on(1000))
    assert floored.best == "same" and 0 < floored.lead.low < 0.05 < floored.lead.high


def test_no_scores_at_all_name_no_best_and_say_so():
    verdict = decide({"base": {}, "other": {}}, "base", "val_accuracy")
    assert verdict.leader is None and verdict.best is None
    assert verdict.headline() == "no candidate has a score on CV accuracy: nothing to compare"
    assert verdict.short() == "no scores"


def test_a_lone_surviving_candidate_is_not_called_best():
    verdict = decide({"base": {(0, 0): 0.8, (1, 0): 0.82}, "failed": {}}, "base", "val_accuracy")
    assert verdict.leader == "base" and verdict.best is None
    assert "only one candidate has a score" in verdict.headline()
    assert "not called best" in verdict.headline()
    assert verdict.short() == "only base scored: nothing to compare"
