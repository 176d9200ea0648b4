"""Verdicts on constructed numbers: a clear difference is named, overlapping ones are not."""

from __future__ import annotations

from hpsearch.study_verdict import collect, decide


def _scores(**variants: list[float]) -> dict[str, dict[tuple[int, int], float]]:
    return {name: {(seed, 0): v for seed, v in enumerate(values)}
            for name, values in variants.items()}


def test_a_clear_difference_is_named_best():
    scores = _scores(base=[0.80, 0.81, 0.79, 0.80, 0.82], wide=[0.85, 0.86, 0.84, 0.85, 0.87])
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
    scores = _scores(base=[2.0, 2.1, 1.9], big=[1.0, 1.1, 0.9])
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
