"""hpsearch.stats against numbers worked out by hand (no TensorFlow).

t quantiles are table values: t(0.975, 4) = 2.776445, t(0.975, 5) = 2.570582; with one degree
of freedom t is Cauchy, so t(q, 1) = tan(pi (q - 1/2)) exactly.
"""

from __future__ import annotations

import math

import pytest

from hpsearch.stats import (
    PairedTest,
    compare,
    fmt_pm,
    holm,
    mean_std,
    noise_note,
    paired_interval,
    rank,
    sample_std,
    top_k_note,
)

T975_DF4, T975_DF5 = 2.776445, 2.570582
FOLD_A = [0.81, 0.82, 0.83, 0.84, 0.85]  # minus 0.80: d = .01 .. .05, mean .03, s² = 2.5e-4
WIDE_A = [0.80, 0.82, 0.83, 0.84, 0.86]  # minus 0.80: d = 0 .02 .03 .04 .06, mean .03, s² = 5e-4


def test_sample_std_uses_ddof_one():
    # deviations -.02, 0, .02: sum of squares 8e-4 / (3 - 1) = 4e-4 -> 0.02 (ddof 0: 0.01633)
    assert sample_std([0.80, 0.82, 0.84]) == pytest.approx(0.02)
    assert sample_std([0.8]) == 0.0 and math.isnan(sample_std([]))
    assert mean_std([0.80, None, 0.84]) == pytest.approx((0.82, 0.0282843), abs=1e-6)
    assert fmt_pm([0.80, 0.82, 0.84]) == "0.8200 ± 0.0200"


def test_plain_paired_t_interval():
    # se = sqrt(2.5e-4 / 5) = 0.0070711; half = 2.776445 * se = 0.0196324
    iv = paired_interval(FOLD_A, [0.80] * 5)
    assert (iv.mean, iv.low, iv.high) == pytest.approx((0.03, 0.0103676, 0.0496324), abs=1e-6)
    assert iv.n == 5 and iv.test == "paired t" and iv.family == 1


def test_nadeau_bengio_widens_a_single_kfold_run():
    # k = 5: variance of the mean (1/5 + 1/4) * 2.5e-4 = 1.125e-4, se = 0.0106066,
    # half = 2.776445 * se = 0.0294486; t = 0.03 / se = 2.828427 -> p = 0.047421 (df 4)
    test = PairedTest.kfold(5)
    assert test.ratio == 0.25 and test.name == "Nadeau-Bengio corrected t (5-fold)"
    iv = paired_interval(FOLD_A, [0.80] * 5, test=test)
    half = T975_DF4 * math.sqrt((1 / 5 + 1 / 4) * 2.5e-4)
    assert (iv.low, iv.high) == pytest.approx((0.03 - half, 0.03 + half), abs=1e-6)
    assert (iv.low, iv.high) == pytest.approx((0.0005514, 0.0594486), abs=1e-6)
    assert iv.p == pytest.approx(0.047421, abs=1e-5)


def test_the_correction_can_turn_a_clear_lead_into_noise():
    # s² = 5e-4: plain se = 0.01, half 0.027764 (excludes 0); corrected se = 0.015,
    # half 0.041647 -> [-0.011647, 0.071647] (includes 0)
    plain = paired_interval(WIDE_A, [0.80] * 5)
    corrected = paired_interval(WIDE_A, [0.80] * 5, test=PairedTest.kfold(5))
    assert plain.excludes_zero and (plain.low, plain.high) == pytest.approx(
        (0.002236, 0.057764), abs=1e-6)
    assert not corrected.excludes_zero
    assert (corrected.low, corrected.high) == pytest.approx((-0.011647, 0.071647), abs=1e-6)


def test_bouckaert_frank_repeated_kfold_uses_j_equal_r_times_k():
    # 2 seeds x 3 folds: J = 6, d = .01 .02 .03 twice, mean .02, s² = 4e-4 / 5 = 8e-5,
    # variance (1/6 + 1/2) * 8e-5 = 5.3333e-5, se = 0.0073030, half = 2.570582 * se = 0.0187729
    test = PairedTest.kfold(3, repeats=2)
    assert test.ratio == 0.5 and test.name.startswith("Bouckaert-Frank")
    a = {(s, f): 0.80 + 0.01 * (f + 1) for s in range(2) for f in range(3)}
    b = {(s, f): 0.80 for s in range(2) for f in range(3)}
    (iv,) = compare({"x": (a, b)}, test).values()
    assert iv.n == 6 and (iv.mean, iv.low, iv.high) == pytest.approx(
        (0.02, 0.0012271, 0.0387729), abs=1e-6)


def test_one_pair_has_no_interval_and_equal_differences_are_not_certain():
    one = paired_interval([0.9], [0.8])
    assert one.n == 1 and math.isinf(one.low) and not one.excludes_zero
    # zero spread and no known number of examples: no interval, never a certain sign
    same = paired_interval([0.9, 0.8], [0.8, 0.7])
    assert math.isinf(same.low) and not same.excludes_zero and math.isnan(same.p)
    assert "no interval" in str(same)


def test_equal_accuracy_differences_get_the_binomial_floor_by_hand():
    # 2-fold CV on 6,000 images: 3,000 validation images per fold. Both differences are
    # +0.0005, so s² = 0. The floor is mean((a(1-a) + b(1-b)) / 3000)
    #   = ((.09 + .0899550) + (.0899550 + .09)) / 2 / 3000 = 5.9999917e-05;
    # Nadeau-Bengio (k=2): var = (1/2 + 1/(2-1)) * floor = 8.9999875e-05, se = 0.00948683;
    # t(.975, 1 df) = 12.7062047, half width 0.1205413: [-0.1200413, +0.1210413].
    test = PairedTest.kfold(2).accuracies_on(3000)
    iv = paired_interval([0.9, 0.9005], [0.8995, 0.9], test=test)
    assert iv.mean == pytest.approx(0.0005)
    assert (iv.low, iv.high) == pytest.approx((-0.1200413, 0.1210413), abs=1e-6)
    assert not iv.excludes_zero and 0.9 < iv.p <= 1.0
    # the floor only acts below a measurement's own noise: a real spread is left alone
    wide = PairedTest.plain().accuracies_on(10**6)
    spread = paired_interval([0.80, 0.90], [0.70, 0.72], test=wide)
    assert spread.high - spread.low == pytest.approx(
        2 * 12.7062047 * math.sqrt(0.5 * 0.0032), rel=1e-6)


def test_holm_adjusted_p_values():
    # sorted .01, .03, .04 -> 3 * .01, 2 * .03, max(.06, .04)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.005, 0.02, 0.5]) == pytest.approx([0.015, 0.04, 0.5])
    assert holm([0.7]) == [0.7]


def test_holm_intervals_follow_the_step_down_levels():
    # plain t, 5 pairs: WIDE_A - 0.80 has t = 3 (p = 0.039942); FOLD_A - 0.80 has t = 4.2426
    # (p = 0.013236 < .05/2): step 1 at 97.5 %, step 2 at 95 % -> both reject
    out = compare({"wide": (WIDE_A, [0.80] * 5), "fold": (FOLD_A, [0.80] * 5)})
    assert out["fold"].confidence == pytest.approx(0.975)
    assert out["wide"].confidence == pytest.approx(0.95)
    assert out["wide"].p == pytest.approx(0.039942, abs=1e-6)
    assert out["wide"].p_holm == pytest.approx(0.039942, abs=1e-6)
    assert out["fold"].p_holm == pytest.approx(2 * 0.013236, abs=1e-5)
    assert out["wide"].excludes_zero and out["fold"].excludes_zero
    assert out["wide"].method == "paired t, Holm over 2 comparisons"


def test_a_third_candidate_can_withhold_the_verdict():
    # a - b: t = 3.0 (p = 0.039942); a - c: d + .001, t = 3.1 (p = 0.036221). Alone, b is beaten
    # at 5 %; with c, Holm's first step needs p < .025 and both fail.
    a, b = WIDE_A, [0.80] * 5
    c = [0.799] * 5
    assert rank({"a": a, "b": b}).best == "a"
    three = rank({"a": a, "b": b, "c": c})
    assert three.order == ("a", "b", "c") and three.best is None
    assert three.versus["c"].p_holm == pytest.approx(2 * 0.036221, abs=1e-5)
    assert three.versus["b"].p_holm == pytest.approx(2 * 0.036221, abs=1e-5)  # monotone
    assert three.versus["b"].confidence == pytest.approx(0.975)
    headline = three.headline("validation accuracy")
    assert headline.startswith("no clear winner on validation accuracy: a leads b by +0.0300")
    assert "97.5% interval that includes 0 (paired t, Holm over 2 comparisons)" in headline


def test_rank_orients_lower_is_better_as_the_leaders_advantage():
    ranking = rank({"slow": [2.0, 2.1, 1.9], "fast": [1.0, 1.2, 0.85]}, higher_is_better=False)
    assert ranking.best == "fast" and ranking.lead.mean == pytest.approx(0.9833333)
    assert 0 < ranking.lead.low < 0.98 < ranking.lead.high  # the leader's advantage, > 0
    # equal differences (1.0 each) are not a certain lead: no spread, no interval, no winner
    same = rank({"slow": [2.0, 2.1, 1.9], "fast": [1.0, 1.1, 0.9]}, higher_is_better=False)
    assert same.best is None and not same.lead.excludes_zero


def test_cv_headline_and_json_name_the_corrected_test():
    ranking = rank({"m1": WIDE_A, "m2": [0.80] * 5}, PairedTest.kfold(5))
    assert ranking.best is None
    assert ranking.headline("validation accuracy", "folds") == (
        "no clear winner on validation accuracy: m1 leads m2 by +0.0300 [-0.0116, +0.0716], "
        "a 95% interval that includes 0 (Nadeau-Bengio corrected t (5-fold)); the top "
        "candidates are indistinguishable at this number of folds (5 pairs)")
    (pair,) = ranking.to_dict()["comparisons"]
    assert pair["a"] == "m1" and pair["b"] == "m2"
    assert (pair["mean"], pair["low"], pair["high"]) == pytest.approx(
        (0.03, -0.011647, 0.071647), abs=1e-6)
    assert pair["test"] == "Nadeau-Bengio corrected t (5-fold)"
    assert rank({"only": [0.8, 0.9]}).headline("x") == (
        "only one candidate has a score on x: only, compared with nothing, so not called best")
    assert rank({"only": [0.8, 0.9]}).best is None
    assert rank({}).headline("x") == "no candidate has a score on x: nothing to compare"


def test_noise_note_for_a_three_fold_top_k():
    # 3 folds: variance (1/3 + 1/2) s², df 2. 00 - 02 = .40, .39, .40: s² = 3.3333e-5,
    # se = 0.0052705, t = 75.26 -> rejected; 00 - 01 = .01, 0, .02: inside the noise.
    scores = {"00": [0.90, 0.91, 0.90], "01": [0.89, 0.91, 0.88], "02": [0.50, 0.52, 0.50]}
    assert noise_note(scores, folds=3) == (
        "Within the noise of the best (trial 00): 01; clearly behind: 02 "
        "(Nadeau-Bengio corrected t (3-fold), Holm over 2 comparisons, 95% family-wise).")
    assert noise_note({"00": [0.9, 0.9, 0.9]}, folds=3) == ""


def test_two_folds_say_plainly_that_they_cannot_separate_trials():
    # at k = 2 the corrected t has 1 df (12.7): even a trial 40 points behind would be listed
    # "within the noise" of one 1 point behind; the note says so instead of listing anything
    scores = {"00": [0.90, 0.91], "01": [0.89, 0.91], "02": [0.50, 0.52]}
    note = noise_note(scores, folds=2)
    assert note.startswith("With 2 folds no two trials can be told apart")
    assert "--folds 5" in note and "Within the noise" not in note
    assert noise_note({"00": [0.9, 0.9]}, folds=2) == ""


def test_top_k_note_reads_cv_results_rows_and_skips_pruned_trials():
    # the tune table's rows: 00 - 01 = .01, .00 (inside); 02 is pruned (one fold): not compared
    rows = [{"trial_id": "00", "status": "ok", "split0_val_accuracy": 0.90,
             "split1_val_accuracy": 0.91, "split2_val_accuracy": 0.90, "split0_val_loss": 0.3},
            {"trial_id": "01", "status": "ok", "split0_val_accuracy": 0.89,
             "split1_val_accuracy": 0.91, "split2_val_accuracy": 0.88},
            {"trial_id": "02", "status": "pruned", "split0_val_accuracy": 0.40,
             "split1_val_accuracy": None, "split2_val_accuracy": None}]
    assert top_k_note(rows) == ("Within the noise of the best (trial 00): 01 "
                                "(Nadeau-Bengio corrected t (3-fold), 95%).")
    assert top_k_note(rows[:1]) == ""
