"""Verdicts that refuse to crown a winner inside the noise.

Runs that share a seed (and fold) are pairs: they saw the same split, initial weights and
shuffling, so the paired difference cancels most of the seed-to-seed noise. A variant is called
better or worse than the base only when the 95 % paired interval excludes zero, and "best" only
when the leader's lead over the runner-up does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hpsearch.stats import Interval, paired_interval

Scores = dict[str, dict[tuple[int, int], float]]  # variant -> (seed, fold) -> value
LABELS = {"test_accuracy": "test accuracy", "test_loss": "test loss",
          "val_accuracy": "CV accuracy", "val_loss": "CV loss",
          "train_accuracy": "train accuracy", "train_loss": "train loss",
          "steady_time_s": "training time"}


def paired(scores: Scores, a: str, b: str) -> Interval:
    """Interval of mean(a - b) over the pairs both variants finished."""
    keys = sorted(set(scores.get(a, {})) & set(scores.get(b, {})))
    return paired_interval([scores[a][k] for k in keys], [scores[b][k] for k in keys])


@dataclass(frozen=True)
class Comparison:
    """One variant against the base on one metric."""

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
    leader: str
    runner_up: str | None
    lead: Interval | None
    comparisons: tuple[Comparison, ...]
    higher_is_better: bool

    @property
    def best(self) -> str | None:
        """The leader, named only when its lead over the runner-up excludes zero."""
        if self.runner_up is None:
            return self.leader
        return self.leader if self.lead is not None and self.lead.excludes_zero else None

    @property
    def what(self) -> str:
        return LABELS.get(self.metric, self.metric)

    def headline(self) -> str:
        if self.runner_up is None or self.lead is None:
            return f"only one variant ({self.leader})"
        if self.lead.n < 2:
            return (f"{self.leader} leads {self.runner_up} on {self.what} by "
                    f"{self.lead.mean:+.4f} from a single pair of runs: no interval, no "
                    "verdict; run --repeats 2 or more")
        if self.best:
            return (f"best on {self.what}: {self.leader}, ahead of the runner-up "
                    f"{self.runner_up} by {self.lead} (95% paired interval over "
                    f"{self.lead.n} pairs excludes 0)")
        return (f"no clear winner on {self.what}: {self.leader} leads {self.runner_up} by "
                f"{self.lead}, an interval that includes 0; the top variants are "
                f"indistinguishable at this number of repeats ({self.lead.n} pairs)")

    def short(self) -> str:
        """One cell of the lab report's answers table."""
        if self.runner_up is None or self.lead is None:
            return self.leader
        lead = self.lead
        if lead.n < 2:
            return f"no verdict from one repeat ({self.leader} ahead of {self.runner_up})"
        span = f"{lead.mean:+.3f} [{lead.low:+.3f}, {lead.high:+.3f}]"
        if self.best:
            return f"**{self.leader}** ({span} over {self.runner_up}, {lead.n} pairs)"
        return (f"no clear winner ({self.leader} vs {self.runner_up}: {span}, "
                f"{lead.n} pairs)")

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
        return "; ".join(parts) if parts else "no other variants"

    def text(self) -> str:
        return f"{self.headline()}. Versus the base: {self.against_base()}."


def decide(scores: Scores, reference: str, metric: str, higher_is_better: bool = True) -> Verdict:
    """Rank variants by mean, test the leader against the runner-up and each against the base."""
    names = [n for n in scores if scores[n]]
    if not names:
        return Verdict(metric, reference, reference, None, None, (), higher_is_better)
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(names, key=lambda n: -sign * float(np.mean(list(scores[n].values()))))
    leader = order[0]
    runner_up = order[1] if len(order) > 1 else None
    lead = None
    if runner_up is not None:
        raw = paired(scores, leader, runner_up)
        lead = raw if higher_is_better else Interval(-raw.mean, -raw.high, -raw.low, raw.n)
    comparisons = tuple(Comparison(n, paired(scores, n, reference), higher_is_better)
                        for n in scores if n != reference and reference in scores)
    return Verdict(metric, reference, leader, runner_up, lead, comparisons, higher_is_better)


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
