"""When to stop a trial early: asked once per epoch, on the mean over all its folds.

Two rules, chosen by `TuneSpec.pruner`: the median rule (the default) and asynchronous
successive halving (`"asha"`, below `MedianPruner`).

All k folds of a trial train at once (one stack of towers), so the decision is made per epoch,
not per fold. The rule is Optuna's median rule (its default `MedianPruner`): after a warm-up,
a trial whose mean validation accuracy at epoch e is below the median of the *finished* trials'
mean validation accuracy at the same epoch, on the same folds, is stopped.

Why the median rule: it needs no margin in accuracy units (a margin that suits Fashion-MNIST
means nothing on a user's data), its threshold adapts to the space as the search learns, and it
bounds the cost of a search to roughly half the trials running to the end once a few have
finished. Comparing at the same epoch on the same folds keeps it paired: fold difficulty and
the cosine schedule's phase are shared by the trial and its peers. The warm-up (the first 20 %
of the budget, rounded down) keeps it away from the first, noisy, high-learning-rate epochs
of a long trial, and still lets it act on a short one (Optuna's own default warm-up is 0 steps:
a 2-epoch trial below the median after its first epoch is stopped there). It never stops a
trial at its last epoch (nothing would be saved). The best trial so far is never below the
median, so the search keeps whatever it has found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

DEFAULT_WARMUP_FRACTION = 0.2  # of the epoch budget: no decision before then
DEFAULT_MIN_TRIALS = 3  # finished peers needed before anything is pruned


@dataclass(frozen=True)
class PruneDecision:
    prune: bool
    reason: str = ""


@dataclass(frozen=True)
class MedianPruner:
    """Stop a trial below the median of finished trials at the same epoch.

    Args:
        warmup_epochs: epochs always run before a decision.
        min_trials: finished trials needed at an epoch before that epoch can prune.

    Example:
        >>> pruner = MedianPruner(warmup_epochs=2)
        >>> pruner.decide(3, 10, 0.70, [[0.6, 0.7, 0.8], [0.6, 0.75, 0.82], [0.5, 0.7, 0.81]])
        PruneDecision(prune=True, reason='at epoch 3 of 10 the mean val_accuracy over folds \
0.7000 is below the median 0.8100 of 3 finished trials at the same epoch on the same folds')
    """

    warmup_epochs: int = 3
    min_trials: int = DEFAULT_MIN_TRIALS
    peers: tuple[str, ...] = ("ok",)  # the statuses of the trials whose values count

    @classmethod
    def for_budget(cls, epochs: int) -> MedianPruner:
        """The default pruner for trials of `epochs` epochs: no decision in the first 20 % of
        them (3 of 15), so a 2-epoch trial can be stopped after its first epoch.

        Example:
            >>> [MedianPruner.for_budget(e).warmup_epochs for e in (2, 5, 10, 15)]
            [0, 1, 2, 3]
        """
        return cls(warmup_epochs=math.floor(epochs * DEFAULT_WARMUP_FRACTION))

    def decide(self, epoch: int, budget: int, running: float,
               finished: list[list[float]]) -> PruneDecision:
        """Args:
            epoch: the epoch just finished (1-based).
            budget: the trial's epoch budget.
            running: the trial's mean validation accuracy over its folds at `epoch`.
            finished: the finished trials' curves of mean validation accuracy per epoch.

        Returns:
            Whether to stop, and the reason recorded on the trial.
        """
        if epoch <= self.warmup_epochs or epoch >= budget:
            return PruneDecision(False)
        peers = [curve[epoch - 1] for curve in finished if len(curve) >= epoch]
        if len(peers) < self.min_trials:
            return PruneDecision(False)
        median = float(np.median(peers))
        if running < median:
            return PruneDecision(True, (
                f"at epoch {epoch} of {budget} the mean val_accuracy over folds {running:.4f} "
                f"is below the median {median:.4f} of {len(peers)} finished trials at the same "
                "epoch on the same folds"))
        return PruneDecision(False)


@dataclass(frozen=True)
class SuccessiveHalvingPruner:
    """Asynchronous successive halving (ASHA) as a per-epoch rule: at each rung epoch
    (`min_epochs * factor**k`: 1, 3, 9 of 15) a trial goes on only if it is in the top
    `1/factor` of every trial that reached that epoch, pruned ones included.

    Why a second rule: the median rule lets about half the trials run to the end, so a
    search buys few configs per minute. Successive halving spends a few epochs on many configs
    and the full budget on the best third of a third (Li et al., "A System for Massively
    Parallel Hyperparameter Tuning", 2020). It is asynchronous: nothing waits for a rung to
    fill, a trial is compared with whoever reached the rung before it, as Optuna's
    `SuccessiveHalvingPruner` does. The peers are every trial that reached the epoch (a
    pruned trial reached its rungs), on the same folds at the same epoch of the same budget,
    so the comparison stays paired. The first `min_trials` trials at a rung always go on (a
    rung of one trial ranks nothing), and the last epoch is never a rung.

    Args:
        factor: the reduction factor (eta): keep the top 1/factor at each rung.
        min_epochs: the first rung.
        min_trials: trials that must have reached a rung before it prunes.

    Example:
        >>> pruner = SuccessiveHalvingPruner()
        >>> pruner.rungs(15)
        [1, 3, 9]
        >>> reached = [[0.7, 0.8, 0.85], [0.7, 0.78, 0.8], [0.6, 0.7, 0.82]]
        >>> pruner.decide(3, 15, 0.84, reached).prune  # 4 at the rung: only the best goes on
        True
        >>> pruner.decide(3, 15, 0.86, reached).prune
        False
    """

    factor: int = 3
    min_epochs: int = 1
    min_trials: int = DEFAULT_MIN_TRIALS
    peers: tuple[str, ...] = ("ok", "pruned", "running")  # every trial that reached a rung

    def __post_init__(self) -> None:
        if self.factor < 2 or self.min_epochs < 1:
            raise ValueError(f"successive halving needs factor >= 2 and min_epochs >= 1, got "
                             f"{self.factor} and {self.min_epochs}")

    def rungs(self, budget: int) -> list[int]:
        """The epochs at which a trial of `budget` epochs can be stopped."""
        out, epoch = [], self.min_epochs
        while epoch < budget:
            out.append(epoch)
            epoch *= self.factor
        return out

    def decide(self, epoch: int, budget: int, running: float,
               reached: list[list[float]]) -> PruneDecision:
        """Args:
            epoch: the epoch just finished (1-based).
            budget: the trial's epoch budget.
            running: the trial's mean validation accuracy over its folds at `epoch`.
            reached: the other trials' curves (any status) of mean validation accuracy.

        Returns:
            Whether to stop, and the reason recorded on the trial.
        """
        if epoch not in self.rungs(budget):
            return PruneDecision(False)
        peers = [curve[epoch - 1] for curve in reached if len(curve) >= epoch]
        if len(peers) < self.min_trials:
            return PruneDecision(False)
        values = sorted([*peers, running], reverse=True)
        keep = max(1, len(values) // self.factor)
        threshold = values[keep - 1]
        if running < threshold:
            return PruneDecision(True, (
                f"at rung epoch {epoch} of {budget} the mean val_accuracy over folds "
                f"{running:.4f} is not in the top {keep} of {len(values)} trials that reached "
                f"the epoch (the top 1/{self.factor} starts at {threshold:.4f}; successive "
                "halving)"))
        return PruneDecision(False)


PRUNERS = ("median", "asha")


def make_pruner(rule: str, budget: int, min_trials: int = DEFAULT_MIN_TRIALS,
                median_peers: str = "finished") -> MedianPruner | SuccessiveHalvingPruner:
    """The pruner of `rule` (a `TuneSpec.pruner`) for trials of `budget` epochs.

    Args:
        rule: "median" or "asha" (`PRUNERS`).
        budget: the trial's epoch budget (the median rule's warm-up is a fraction of it).
        min_trials: peers needed at an epoch before it can prune.
        median_peers: the median's peers, "finished" trials or "all" that reached the epoch.

    Returns:
        The rule; its `peers` are the statuses of the trials whose curves it compares with.

    Example:
        >>> make_pruner("median", 15, median_peers="all").peers
        ('ok', 'pruned')
        >>> make_pruner("asha", 15).rungs(15)
        [1, 3, 9]
    """
    if rule == "asha":
        return SuccessiveHalvingPruner(min_trials=min_trials)
    return replace(MedianPruner.for_budget(budget), min_trials=min_trials,
                   peers=("ok", "pruned") if median_peers == "all" else ("ok",))


def mean_curve(fold_histories: list[dict[str, list[float]]],
               key: str = "val_accuracy") -> list[float]:
    """The per-epoch mean over folds of `key`, as long as the shortest fold's curve."""
    curves = [h.get(key, []) for h in fold_histories]
    if not curves or not all(curves):
        return []
    length = min(len(c) for c in curves)
    return [float(np.mean([c[e] for c in curves])) for e in range(length)]
