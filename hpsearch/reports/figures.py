"""Figures the API returns (`CVResult.plot()`, `TrainResult.plot()`, `StudyResult.plot()`,
`Search.plot()`): matplotlib `Figure`s made without pyplot, so a notebook shows each once, no
backend is switched, and nothing is kept alive by pyplot's figure registry."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def _figure(width: float = 6.4, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def fold_scores_figure(scores: Mapping[str, Sequence[float]], title: str,
                       ylabel: str = "validation accuracy") -> Any:
    """Every fold's score per candidate (dots) and the mean (a bar)."""
    fig = _figure()
    ax = fig.add_subplot()
    names = list(scores)
    for i, name in enumerate(names):
        values = np.asarray(scores[name], dtype=float)
        ax.bar(i, np.nanmean(values), color="#c6d4e8", width=0.6)
        ax.scatter(np.full(values.size, i), values, color="#4c72b0", zorder=3, s=18)
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    low = min((min(v) for v in scores.values() if len(v)), default=0.0)
    ax.set_ylim(max(0.0, low - 0.05), None)
    return fig


def history_figure(history: Mapping[str, Sequence[float]], title: str) -> Any:
    """Loss and accuracy per epoch (train, and validation when there was one)."""
    fig = _figure(8.0, 3.4)
    for j, metric in enumerate(("loss", "accuracy")):
        ax = fig.add_subplot(1, 2, j + 1)
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            if history.get(key):
                ax.plot(range(1, len(history[key]) + 1), history[key], style, label=key)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    fig.suptitle(title)
    return fig


def bars_figure(names: Sequence[str], means: Sequence[float], stds: Sequence[float],
                ylabel: str, title: str) -> Any:
    """Bars with error bars (one sample std), e.g. a study's variants."""
    fig = _figure()
    ax = fig.add_subplot()
    ax.bar(range(len(names)), means, yerr=stds, capsize=4, color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    finite = [m - s for m, s in zip(means, stds, strict=True) if np.isfinite(m - s)]
    if finite and ylabel.endswith("accuracy"):
        ax.set_ylim(max(0.0, min(finite) - 0.05), None)
    return fig


def trials_figure(scores: Sequence[float | None], title: str) -> Any:
    """A search's history: each trial's mean CV score and the best so far."""
    fig = _figure()
    ax = fig.add_subplot()
    values = np.array([np.nan if s is None else s for s in scores], dtype=float)
    ax.scatter(range(1, len(values) + 1), values, color="#4c72b0", s=18, label="trial")
    best = np.fmax.accumulate(np.where(np.isnan(values), -np.inf, values))
    ax.step(range(1, len(values) + 1), np.where(np.isinf(best), np.nan, best), where="post",
            color="#dd8452", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("mean validation accuracy")
    ax.set_title(title)
    ax.legend()
    return fig
