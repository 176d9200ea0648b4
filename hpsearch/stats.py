"""Honest comparisons: paired differences with a t-interval, and verdicts that refuse to crown
a winner inside the noise."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Interval:
    """Mean paired difference (a - b) with its two-sided confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.n >= 2 and (self.low > 0 or self.high < 0)

    def __str__(self) -> str:
        if self.n < 2:
            return f"{self.mean:+.4f} (one pair: no interval)"
        return f"{self.mean:+.4f} [{self.low:+.4f}, {self.high:+.4f}]"


def paired_interval(a: list[float] | np.ndarray, b: list[float] | np.ndarray,
                    confidence: float = 0.95) -> Interval:
    """t-interval of mean(a - b) over pairs that share a seed or a fold."""
    from scipy import stats

    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(diff)
    mean = float(diff.mean()) if n else math.nan
    if n < 2:
        return Interval(mean, -math.inf, math.inf, n)
    sem = float(diff.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem
    return Interval(mean, mean - half, mean + half, n)


def mean_std(values: list[float] | np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    arr = np.asarray([v for v in values if v is not None], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def fmt_pm(values: list[float] | np.ndarray, digits: int = 4) -> str:
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def best_verdict(names: list[str], scores: list[list[float]], higher_is_better: bool = True,
                 what: str = "validation accuracy") -> str:
    """Name the best candidate only if its paired lead over the runner-up excludes zero."""
    if len(names) == 1:
        return f"only one candidate: {names[0]}"
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(range(len(names)), key=lambda i: -sign * float(np.mean(scores[i])))
    first, second = order[0], order[1]
    interval = paired_interval(scores[first], scores[second])
    clear = interval.low > 0 if higher_is_better else interval.high < 0
    if clear:
        return (f"best: {names[first]} ({what} ahead of {names[second]} by {interval}, "
                f"95% paired interval over {interval.n} pairs excludes 0)")
    return (f"no clear winner: {names[first]} leads {names[second]} by {interval} in {what}, "
            f"inside the noise at {interval.n} pairs; add folds or repeats to separate them")
