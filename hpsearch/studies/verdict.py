"""Study verdicts: the words around `hpsearch.stats.rank`, the one rule for "best".

Runs that share a seed (and fold) are pairs: they saw the same split, initial weights and
shuffling, so the paired difference cancels most of the seed-to-seed noise. Which t-test pairs
them depends on the protocol: one train/test run per seed gives independent pairs, so the plain
paired t is exact; the architectures study's seeds × folds share training data, so it uses
Bouckaert and Frank's corrected repeated k-fold t (Nadeau-Bengio with one seed). A variant is
called better or worse than the base only when its Holm-adjusted interval excludes zero, and
"best" only when the leader beats every other variant that way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hpsearch.stats import Interval, PairedTest, Ranking, compare, rank

Scores = dict[str, dict[tuple[int, int], float]]  # variant -> (seed, fold) -> value
LABELS = {"test_accuracy": "test accuracy", "test_loss": "test loss",
          "val_accuracy": "CV accuracy", "val_loss": "CV loss",
          "train_accuracy": "train accuracy", "train_loss": "train loss",
          "steady_time_s": "training time", "epoch_time_s": "time per epoch"}


def infer_test(scores: Scores) -> PairedTest:
    """The test a study's keys imply: several folds -> corrected k-fold t, else plain t."""
    keys = {k for per in scores.values() for k in per}
    folds = len({fold for _, fold in keys})
    seeds = len({seed for seed, _ in keys})
    return PairedTest.kfold(folds, seeds) if folds > 1 else PairedTest.plain()


def study_test(protocol: dict, seeds: int) -> PairedTest:
    """The test for a study's `protocol` block (study.json) run over `seeds` seeds."""
    if protocol.get("kind") == "kfold":
        return PairedTest.kfold(int(protocol["folds"]), seeds)
    return PairedTest.plain()


@dataclass(frozen=True)
class Comparison:
    """One variant against the base on one metric (interval of variant - base)."""

    variant: str
    interval: Interval
    higher_is_better: bool

    @property
    def outcome(self) -> str:
        if not self.interval.excludes_zero:
            return "indistinguishable"
        better = (self.interval.low > 0) == self.higher_is_better
        return "better" if better else "worse"


@dataclass(frozen=True)
class Verdict:
    """Who leads on a metric, whether the lead is real, and every variant vs the base."""

    metric: str
    reference: str
    ranking: Ranking
    comparisons: tuple[Comparison, ...]
    higher_is_better: bool
    test: PairedTest

    @property
    def leader(self) -> str | None:
        """The top mean; None when no variant has a score (never the base by default)."""
        return self.ranking.leader if self.ranking.order else None

    @property
    def runner_up(self) -> str | None:
        return self.ranking.runner_up

    @property
    def lead(self) -> Interval | None:
        """The leader's advantage over the runner-up (positive = leader better)."""
        return self.ranking.lead

    @property
    def best(self) -> str | None:
        """The leader, named only when its lead over every other variant excludes zero."""
        return self.ranking.best if self.ranking.order else None

    @property
    def what(self) -> str:
        return LABELS.get(self.metric, self.metric)

    def headline(self) -> str:
        return self.ranking.headline(self.what, "repeats")

    def short(self) -> str:
        """One cell of the lab report's answers table."""
        lead = self.lead
        if self.leader is None:
            return "no scores"
        if self.runner_up is None or lead is None:
            return f"only {self.leader} scored: nothing to compare"
        if lead.n < 2:
            return f"no verdict from one repeat ({self.leader} ahead of {self.runner_up})"
        span = f"{lead.mean:+.3f} [{lead.low:+.3f}, {lead.high:+.3f}]"
        if self.best:
            return f"**{self.leader}** ({span} over {self.runner_up}, {lead.n} pairs, {lead.test})"
        return (f"no clear winner ({self.leader} vs {self.runner_up}: {span}, "
                f"{lead.n} pairs, {lead.test})")

    def against_base(self) -> str:
        groups: dict[str, list[str]] = {"better": [], "worse": [], "indistinguishable": []}
        for c in self.comparisons:
            groups[c.outcome].append(f"{c.variant} ({c.interval})")
        words = ("faster", "slower") if self.metric.endswith("time_s") else ("better", "worse")
        parts = [f"{word} than the base {self.reference}: {', '.join(groups[name])}"
                 for word, name in zip(words, ("better", "worse"), strict=True) if groups[name]]
        if groups["indistinguishable"]:
            parts.append(f"inside the noise of the base {self.reference}: "
                         f"{', '.join(groups['indistinguishable'])}")
        if not parts:
            return "no other variants"
        return "; ".join(parts) + f" ({self.comparisons[0].interval.method})"

    def text(self) -> str:
        return f"{self.headline()}. Versus the base: {self.against_base()}."


def decide(scores: Scores, reference: str, metric: str, higher_is_better: bool = True,
           test: PairedTest | None = None) -> Verdict:
    """Rank variants and test the leader against the others and each variant against the base.

    Args:
        scores: variant -> (seed, fold) -> value, as `collect` returns.
        reference: the base variant.
        metric: the column judged (names the verdict).
        higher_is_better: False for loss and time.
        test: the paired test; default `infer_test(scores)` (several folds -> corrected).

    Returns:
        The Verdict; both families (vs the leader, vs the base) are Holm-adjusted.

    Example:
        >>> v = decide({"a": {(0, 0): 0.8, (1, 0): 0.81}, "b": {(0, 0): 0.7, (1, 0): 0.72}},
        ...            "a", "test_accuracy")
        >>> v.best, v.test.name
        ('a', 'paired t')
    """
    test = test or infer_test(scores)
    ranking = rank(scores, test, higher_is_better)
    others = [n for n in scores if n != reference and reference in scores]
    versus_base = compare({n: (scores[n], scores[reference]) for n in others}, test)
    comparisons = tuple(Comparison(n, versus_base[n], higher_is_better) for n in others)
    return Verdict(metric, reference, ranking, comparisons, higher_is_better, test)


def collect(rows: list[dict], metric: str) -> Scores:
    """Scores per variant from results rows (dicts or csv rows); failed runs are left out."""
    scores: Scores = {}
    for row in rows:
        scores.setdefault(str(row["variant"]), {})
        value = row.get(metric)
        if str(row.get("status")) != "ok" or value in (None, ""):
            continue
        value = float(value)
        if not math.isnan(value):
            scores[str(row["variant"])][(int(row["seed"]), int(row["fold"]))] = value
    return scores
