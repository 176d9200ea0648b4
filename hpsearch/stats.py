"""The one statistics module: sample std, paired t-tests (plain and corrected for CV), Holm's
adjustment, and the rule that names a winner only outside the noise.

Why corrected tests: the k fold scores of one CV run share most of their training data, so
their differences are correlated and a plain paired t-interval over folds is too narrow.
Nadeau & Bengio (2003) inflate the variance of the mean difference from s²/J to
(1/J + n_test/n_train)·s²; for k-fold n_test/n_train = 1/(k-1). Bouckaert & Frank (2004) use
the same correction for r repeats of k-fold with J = r·k pairs. Independent repeats (one
train/test run per seed) keep the plain paired t, which is exact there. With more than two
candidates the pairwise tests are Holm-adjusted (Holm 1979), so "best" is not a lucky one of
many comparisons. References: docs/STUDIES.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

ALPHA = 0.05  # two-sided: intervals are 95 % before Holm's adjustment
SD_LABEL = "mean ± sd (n-1)"  # how every table labels mean_std's output
Values = Sequence[float] | np.ndarray
Paired = Mapping[Hashable, float] | Sequence[float]  # pair key (fold, (seed, fold)) -> score


def sample_std(values: Values) -> float:
    """Sample standard deviation (ddof=1), the one std every hpsearch output reports.

    ddof=1 is the unbiased-variance estimate a reader expects beside a mean of a few folds or
    seeds; scikit-learn's `cv_results_` uses ddof=0, which is smaller by sqrt((n-1)/n).

    Args:
        values: the scores (None entries are skipped).

    Returns:
        The std; 0.0 for a single value (no spread to estimate), NaN for none.

    Example:
        >>> round(sample_std([0.80, 0.82, 0.84]), 4)
        0.02
    """
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return math.nan
    return float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def mean_std(values: Values) -> tuple[float, float]:
    """Mean and `sample_std` (ddof=1) of `values`; (NaN, NaN) when empty.

    Example:
        >>> tuple(round(x, 4) for x in mean_std([0.80, 0.82, 0.84]))
        (0.82, 0.02)
    """
    arr = [v for v in values if v is not None]
    return (float(np.mean(arr)) if arr else math.nan), sample_std(arr)


def fmt_pm(values: Values, digits: int = 4) -> str:
    """`mean ± sd` with the sample std, for tables headed with `SD_LABEL`."""
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


@dataclass(frozen=True)
class PairedTest:
    """A paired t-test: its name and the Nadeau-Bengio ratio n_test/n_train (0 = plain t)."""

    name: str
    ratio: float = 0.0
    # Examples behind each score when the scores are accuracies (validation images per fold,
    # or test images): sets the binomial variance floor of `paired_interval`. 0 = not
    # accuracies (loss, time) or unknown: no floor.
    n_eval: int = 0

    def accuracies_on(self, n_eval: int) -> PairedTest:
        """This test for accuracies measured on `n_eval` examples each (binomial floor)."""
        return replace(self, n_eval=int(n_eval))

    @classmethod
    def plain(cls) -> PairedTest:
        """Independent pairs (one train/test run per seed): the ordinary paired t."""
        return cls("paired t")

    @classmethod
    def kfold(cls, folds: int, repeats: int = 1) -> PairedTest:
        """Corrected t for `repeats` × `folds`-fold CV: Nadeau-Bengio, or Bouckaert-Frank when
        repeated.

        Example:
            >>> PairedTest.kfold(5).ratio, PairedTest.kfold(3, repeats=2).name
            (0.25, 'Bouckaert-Frank corrected repeated k-fold t (2×3)')
        """
        if folds < 2:
            raise ValueError(f"k-fold needs at least 2 folds, got {folds}")
        if repeats > 1:
            return cls(f"Bouckaert-Frank corrected repeated k-fold t ({repeats}×{folds})",
                       1 / (folds - 1))
        return cls(f"Nadeau-Bengio corrected t ({folds}-fold)", 1 / (folds - 1))


@dataclass(frozen=True)
class Interval:
    """Mean paired difference (a - b), its two-sided interval, and the test behind it."""

    mean: float
    low: float
    high: float
    n: int
    test: str = "paired t"
    confidence: float = 1 - ALPHA
    p: float = math.nan  # raw two-sided p-value
    p_holm: float = math.nan  # Holm-adjusted over `family` comparisons (= p when family 1)
    family: int = 1

    @property
    def excludes_zero(self) -> bool:
        return self.n >= 2 and (self.low > 0 or self.high < 0)

    @property
    def method(self) -> str:
        """The test as a verdict names it, e.g. "paired t, Holm over 2 comparisons"."""
        holm = f", Holm over {self.family} comparisons" if self.family > 1 else ""
        return f"{self.test}{holm}"

    def flipped(self) -> Interval:
        """The same comparison as b - a."""
        return replace(self, mean=-self.mean, low=-self.high, high=-self.low)

    def to_dict(self) -> dict[str, float | int | str | None]:
        """JSON-able: infinities and NaN (one pair) become None."""
        def finite(x: float) -> float | None:
            return x if math.isfinite(x) else None
        return {"mean": finite(self.mean), "low": finite(self.low), "high": finite(self.high),
                "n": self.n, "test": self.method, "confidence": round(self.confidence, 6),
                "p": finite(self.p), "p_holm": finite(self.p_holm)}

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:+.4f} (one pair: no interval)"
        if not math.isfinite(self.low):
            return f"{self.mean:+.4f} (every pair differs by the same amount: no interval)"
        return f"{self.mean:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def paired_interval(a: Values, b: Values, confidence: float = 1 - ALPHA,
                    test: PairedTest | None = None) -> Interval:
    """t-interval of mean(a - b) over pairs that share a seed or a fold.

    The variance of the mean is (1/J + test.ratio)·s² with s² the sample variance (ddof 1) of
    the J differences, and J-1 degrees of freedom; ratio 0 is the plain paired t.

    **No certainty from zero spread.** Accuracies on n examples move in steps of 1/n, so
    equal differences happen ([0.9, 0.9005] vs [0.8995, 0.9]: both +0.0005) and s² = 0
    would give a zero-width interval and p = 0. When `test.n_eval` = n is set, s² is
    floored at the binomial sampling variance of a difference of two accuracies measured on
    n examples each, the mean over pairs of (a(1-a) + b(1-b)) / n. It treats the two
    accuracies as independent measurements; on the same images they are positively
    correlated, so the floor errs wide, and it acts only when the observed spread is
    smaller than a single measurement's own noise. Without `n_eval` (loss, time) a zero
    spread gives no interval at all (infinite bounds, p = NaN), never a certain sign.

    Args:
        a, b: scores of two candidates, pair i in position i.
        confidence: two-sided level of the interval.
        test: `PairedTest.plain()` (default) or `PairedTest.kfold(k, r)`.

    Returns:
        The Interval with the raw two-sided p-value; infinite bounds with fewer than 2 pairs.

    Example:
        >>> print(paired_interval([0.81, 0.82, 0.83, 0.84, 0.85], [0.8] * 5,
        ...                       test=PairedTest.kfold(5)))
        +0.0300 [+0.0006, +0.0594]
    """
    from scipy import stats

    test = test or PairedTest.plain()
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(diff)
    mean = float(diff.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n, test.name, confidence)
    spread = float(diff.var(ddof=1))
    if spread < (1e-9 * max(1.0, abs(mean))) ** 2:  # rounding noise of equal differences
        spread = 0.0
    variance = max(spread, binomial_floor(a, b, test.n_eval))
    se = math.sqrt((1 / n + test.ratio) * variance)
    if se == 0:  # every pair differs by the same amount and no floor is known: no interval
        return Interval(mean, -math.inf, math.inf, n, test.name, confidence)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    return Interval(mean, mean - half, mean + half, n, test.name, confidence, p, p)


def binomial_floor(a: Values, b: Values, n_eval: int) -> float:
    """Variance floor of one paired difference of accuracies measured on `n_eval` examples.

    Args:
        a, b: the paired accuracies (in [0, 1]).
        n_eval: examples behind each accuracy; 0 means no floor.

    Returns:
        mean over pairs of (a(1-a) + b(1-b)) / n_eval, or 0.0 without `n_eval`.

    Example:
        >>> round(binomial_floor([0.9, 0.9005], [0.8995, 0.9], 3000) * 1e5, 4)
        6.0
    """
    if n_eval <= 0 or not len(a):
        return 0.0
    pa = np.clip(np.asarray(a, dtype=float), 0.0, 1.0)
    pb = np.clip(np.asarray(b, dtype=float), 0.0, 1.0)
    return float(np.mean(pa * (1 - pa) + pb * (1 - pb)) / n_eval)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order.

    Example:
        >>> [round(p, 4) for p in holm([0.01, 0.04, 0.03])]
        [0.03, 0.06, 0.06]
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted, running = [0.0] * m, 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _pairs(a: Paired, b: Paired) -> tuple[list[float], list[float]]:
    """The scores both finished, matched by pair key (a list is keyed by position)."""
    da = a if isinstance(a, Mapping) else dict(enumerate(a))
    db = b if isinstance(b, Mapping) else dict(enumerate(b))
    keys = sorted(set(da) & set(db), key=repr)
    return [da[k] for k in keys], [db[k] for k in keys]


def compare(pairs: Mapping[str, tuple[Paired, Paired]], test: PairedTest | None = None,
            alpha: float = ALPHA) -> dict[str, Interval]:
    """Paired intervals for a family of comparisons, Holm-adjusted when there are several.

    Step i of Holm's procedure (p-values ascending, from 1) tests at alpha/(m-i+1). Each
    interval is drawn at the level of its step, and from the first step that fails on at the
    level of that step, so an interval excludes 0 exactly when Holm rejects.

    Args:
        pairs: name -> (a scores, b scores); a list is paired by position, a dict by key.
        test: the paired test for every comparison.
        alpha: family-wise error rate.

    Returns:
        name -> Interval of mean(a - b), with `p_holm` and `family` set.

    Example:
        >>> out = compare({"x": ([1, 2, 3], [0, 1, 1]), "y": ([1, 2, 3], [1, 2, 2])})
        >>> out["x"].family, round(out["x"].p_holm, 4)
        (2, 0.1144)
    """
    raw = {name: paired_interval(*_pairs(a, b), 1 - alpha, test)
           for name, (a, b) in pairs.items()}
    m = len(raw)
    if m < 2:
        return raw
    names = list(raw)
    p = [raw[n].p if math.isfinite(raw[n].p) else 1.0 for n in names]
    adjusted = dict(zip(names, holm(p), strict=True))
    out, stopped = {}, False
    for step, name in enumerate(sorted(names, key=lambda n: p[names.index(n)])):
        if not stopped:
            level = alpha / (m - step)
            stopped = p[names.index(name)] > level
        a, b = _pairs(*pairs[name])
        out[name] = replace(paired_interval(a, b, 1 - level, test),
                            p_holm=adjusted[name], family=m)
    return {name: out[name] for name in names}


@dataclass(frozen=True)
class Ranking:
    """Candidates by mean, and the leader's advantage over each other (positive = better)."""

    order: tuple[str, ...]
    versus: Mapping[str, Interval]  # other -> leader's advantage, Holm-adjusted over others

    @property
    def leader(self) -> str:
        return self.order[0]

    @property
    def runner_up(self) -> str | None:
        return self.order[1] if len(self.order) > 1 else None

    @property
    def lead(self) -> Interval | None:
        """The leader's advantage over the runner-up."""
        return None if self.runner_up is None else self.versus[self.runner_up]

    @property
    def closest(self) -> str | None:
        """The first other candidate (in rank order) the leader does not clearly beat."""
        return next((n for n in self.order[1:] if self.versus[n].low <= 0
                     or self.versus[n].n < 2), None)

    @property
    def best(self) -> str | None:
        """The leader, named only when its lead over every other candidate excludes 0.

        A lone candidate is not "best": nothing was compared (its headline says so).
        """
        if self.runner_up is None:
            return None
        return self.leader if self.closest is None else None

    def to_dict(self) -> dict[str, object]:
        """JSON-able: the leader, the best (None inside the noise) and each compared pair as
        {a: leader, b: other, mean, low, high, n, test, confidence, p, p_holm} of a - b
        (sign: positive = the leader is better, also for loss and time)."""
        return {"leader": self.leader if self.order else None, "best": self.best,
                "comparisons": [{"a": self.leader, "b": n} | iv.to_dict()
                                for n, iv in self.versus.items()]}

    def headline(self, what: str, more: str = "repeats") -> str:
        """The verdict sentence, naming the test; `more` is what to add to separate them."""
        lead = self.lead
        if not self.order:
            return f"no candidate has a score on {what}: nothing to compare"
        if self.runner_up is None or lead is None:
            return (f"only one candidate has a score on {what}: {self.leader}, compared with "
                    "nothing, so not called best")
        if lead.n < 2:
            return (f"{self.leader} leads {self.runner_up} on {what} by {lead.mean:+.4f} from "
                    f"a single pair of runs: no interval, no verdict; add {more}")
        level = f"{lead.confidence:.1%}".replace(".0%", "%")
        if self.best:
            others = len(self.order) - 2
            rest = f"; it also beats the other {others}" if others else ""
            return (f"best on {what}: {self.leader}, ahead of the runner-up {self.runner_up} "
                    f"by {lead} ({level} interval over {lead.n} pairs excludes 0; "
                    f"{lead.method}){rest}")
        other = self.closest or self.runner_up
        gap = self.versus[other]
        level = f"{gap.confidence:.1%}".replace(".0%", "%")
        return (f"no clear winner on {what}: {self.leader} leads {other} by {gap}, a "
                f"{level} interval that includes 0 ({gap.method}); the top candidates are "
                f"indistinguishable at this number of {more} ({gap.n} pairs)")


def rank(scores: Mapping[str, Paired], test: PairedTest | None = None,
         higher_is_better: bool = True, alpha: float = ALPHA) -> Ranking:
    """The one rule: rank by mean, then test the leader against every other candidate.

    Args:
        scores: candidate -> scores, paired by key (fold, or (seed, fold)) or by position.
            Candidates without scores are left out.
        test: paired test (plain for independent repeats, `PairedTest.kfold` for CV).
        higher_is_better: False for loss and time.
        alpha: family-wise error rate of the leader's comparisons (Holm).

    Returns:
        A Ranking; `.best` is None inside the noise.

    Example:
        >>> r = rank({"a": [0.80, 0.81, 0.82], "b": [0.70, 0.72, 0.71]})
        >>> r.best, round(r.lead.mean, 4)
        ('a', 0.1)
    """
    def values(s: Paired) -> list[float]:
        return list(s.values()) if isinstance(s, Mapping) else list(s)

    sign = 1.0 if higher_is_better else -1.0
    named = [n for n in scores if values(scores[n])]
    order = tuple(sorted(named, key=lambda n: -sign * float(np.mean(values(scores[n])))))
    if not order:
        return Ranking((), {})
    raw = compare({n: (scores[order[0]], scores[n]) for n in order[1:]}, test, alpha)
    versus = {n: iv if higher_is_better else iv.flipped() for n, iv in raw.items()}
    return Ranking(order, versus)


# Why a plain sentence at k = 2: the corrected t then has 1 degree of freedom (t = 12.71 at
# 95%) and the Nadeau-Bengio variance factor is 1/2 + 1, so any two trials' interval spans
# every gap a search produces; listing trials "within the noise" would only restate that,
# and naming one "clearly behind" is next to impossible. At 5 folds t is 2.78 (4 df).
TWO_FOLDS_NOTE = ("With 2 folds no two {label}s can be told apart (the corrected t has 1 "
                  "degree of freedom, t = 12.7); the ranking is by mean only. Use --folds 5 "
                  "or more (t = 2.8) to test {label}s against the best.")


def noise_note(scores: Mapping[str, Paired], folds: int, label: str = "trial") -> str:
    """One line for a top-k table: which candidates are inside the noise of the best.

    Every tune trial sees the same k folds, so trials pair by fold and the Nadeau-Bengio
    corrected t applies; Holm adjusts over the comparisons with the best.

    Args:
        scores: completed candidates in rank order, each fold index -> val accuracy.
        folds: k of the k-fold CV.
        label: what a candidate is called ("trial").

    Returns:
        The note; empty with fewer than two candidates or fewer than 2 folds; at 2 folds a
        plain sentence that 2 folds cannot separate them (`TWO_FOLDS_NOTE`).

    Example:
        >>> noise_note({"00": [0.9, 0.91, 0.9], "01": [0.89, 0.91, 0.88]}, folds=3)[:38]
        'Within the noise of the best (trial 00'
        >>> noise_note({"00": [0.9, 0.91], "01": [0.89, 0.91]}, folds=2)[:28]
        'With 2 folds no two trials c'
    """
    if len(scores) < 2 or folds < 2:
        return ""
    if folds == 2:
        return TWO_FOLDS_NOTE.format(label=label)
    ranking = rank(scores, PairedTest.kfold(folds))
    inside = [n for n in ranking.order[1:] if not ranking.versus[n].excludes_zero]
    behind = [n for n in ranking.order[1:] if ranking.versus[n].excludes_zero]
    first = next(iter(ranking.versus.values()))
    level = "95% family-wise" if first.family > 1 else "95%"
    parts = [f"Within the noise of the best ({label} {ranking.leader}): "
             + (", ".join(inside) if inside else "none")]
    if behind:
        parts.append(f"clearly behind: {', '.join(behind)}")
    return "; ".join(parts) + f" ({first.method}, {level})."


def top_k_note(rows: Sequence[Mapping[str, object]], metric: str = "val_accuracy") -> str:
    """`noise_note` for a top-k table in scikit-learn `cv_results_` style.

    Both the tune command and the search report hold rows with `trial_id`, `status` and
    `split{i}_{metric}` columns; only completed (`ok`) trials are compared, pruned ones have
    not run every fold.

    Args:
        rows: the table's rows, best first.
        metric: the per-fold column family to compare.

    Returns:
        The note, or "" when fewer than two completed trials have all folds.

    Example:
        >>> top_k_note([{"trial_id": "00", "status": "ok", "split0_val_accuracy": 0.9,
        ...              "split1_val_accuracy": 0.91, "split2_val_accuracy": 0.9},
        ...             {"trial_id": "01", "status": "ok", "split0_val_accuracy": 0.89,
        ...              "split1_val_accuracy": 0.91, "split2_val_accuracy": 0.88}])[:44]
        'Within the noise of the best (trial 00): 01 '
    """
    prefix, suffix = "split", f"_{metric}"
    scores: dict[str, dict[int, float]] = {}
    for row in rows:
        if row.get("status") != "ok":
            continue
        scores[str(row["trial_id"])] = {
            int(key[len(prefix):-len(suffix)]): float(value)  # type: ignore[arg-type]
            for key, value in row.items()
            if key.startswith(prefix) and key.endswith(suffix)
            and key[len(prefix):-len(suffix)].isdigit() and value not in (None, "")}
    folds = max((len(s) for s in scores.values()), default=0)
    complete = {name: s for name, s in scores.items() if len(s) == folds}
    return noise_note(complete, folds)
