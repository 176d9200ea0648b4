"""The search figures: optimization history, each knob against the score, parallel
coordinates of the top trials, and per-fold learning curves of the best trials.

matplotlib with the Agg backend (headless). Pruned trials are drawn hollow: their score is the
mean of the folds they ran, not of all folds, so they must not look like completed trials.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.reports.study_figures import _pyplot
from hpsearch.reports.trials import SearchReport, Trial

OK_COLOR, PRUNED_COLOR, FAILED_COLOR, BEST_COLOR = "#4c72b0", "#999999", "#c44e52", "#dd8452"
FOLD_COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b2", "#937860", "#da8bc3")


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def history_plot(search: SearchReport, path: Path) -> Path | None:
    """Score per trial in trial order, with the best-so-far step line over completed trials."""
    trials = search.trials
    if not any(t.mean is not None for t in trials):
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    x = {t.trial_id: i for i, t in enumerate(trials)}
    ok = [t for t in trials if t.status == "ok" and t.mean is not None]
    partial = [t for t in trials if t.status != "ok" and t.mean is not None]
    ax.scatter([x[t.trial_id] for t in ok], [t.mean for t in ok], color=OK_COLOR, zorder=3,
               label="completed (mean over folds)")
    if partial:
        ax.scatter([x[t.trial_id] for t in partial], [t.mean for t in partial],
                   facecolors="none", edgecolors=PRUNED_COLOR, zorder=3,
                   label="pruned / running (folds so far)")
    failed = [t for t in trials if t.status == "failed"]
    if failed:
        low = min(t.mean for t in trials if t.mean is not None)
        ax.scatter([x[t.trial_id] for t in failed], [low] * len(failed), marker="x",
                   color=FAILED_COLOR, zorder=3, label="failed (no score)")
    if ok:
        best, steps = -math.inf, []
        for t in trials:
            if t.status == "ok" and t.mean is not None:
                best = max(best, t.mean)
            steps.append(best if best > -math.inf else np.nan)
        ax.step(range(len(trials)), steps, where="post", color=BEST_COLOR, label="best so far")
    ax.set_xlabel("trial (in order started)")
    ax.set_ylabel("CV val accuracy")
    if len(trials) <= 30:
        ax.set_xticks(range(len(trials)), [t.trial_id for t in trials], fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Optimization history")
    return _save(fig, path)


def is_numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _log_scale(search: SearchReport, name: str, values: list[float]) -> bool:
    knob = search.knob(name)
    if knob.get("sampling") == "log":
        return True
    positive = [v for v in values if v > 0]
    return len(positive) == len(values) and bool(positive) and max(positive) / min(positive) > 50


def varying_params(trials: list[Trial]) -> list[str]:
    """Parameters that took at least two values among `trials` (pinned ones say nothing)."""
    names: dict[str, set[str]] = {}
    for t in trials:
        for k, v in t.params.items():
            names.setdefault(k, set()).add(repr(v))
    return [k for k, seen in names.items() if len(seen) > 1]


def params_plot(search: SearchReport, path: Path) -> Path | None:
    """One panel per knob: scatter for numbers, box + jittered points per value otherwise."""
    scored = [t for t in search.trials if t.mean is not None]
    names = varying_params(scored)
    if not names:
        return None
    plt = _pyplot()
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 2.8 * rows), squeeze=False,
                             sharey=True)
    rng = np.random.default_rng(0)
    for ax, name in zip(axes.flat, names, strict=False):
        have = [t for t in scored if t.params.get(name) is not None]
        values = [t.params[name] for t in have]
        colors = [OK_COLOR if t.status == "ok" else "none" for t in have]
        edges = [OK_COLOR if t.status == "ok" else PRUNED_COLOR for t in have]
        if is_numeric(values):
            ax.scatter(values, [t.mean for t in have], c=colors, edgecolors=edges, s=22)
            if _log_scale(search, name, [float(v) for v in values]):
                from matplotlib.ticker import NullFormatter

                ax.set_xscale("log")
                ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide
        else:
            cats = _categories(search, name, values)
            groups = [[t.mean for t in have if str(t.params[name]) == c] for c in cats]
            ax.boxplot([g if g else [np.nan] for g in groups], positions=range(len(cats)),
                       widths=0.5, showfliers=False)
            xs = [cats.index(str(v)) + rng.uniform(-0.15, 0.15) for v in values]
            ax.scatter(xs, [t.mean for t in have], c=colors, edgecolors=edges, s=18, zorder=3)
            ax.set_xticks(range(len(cats)), cats, rotation=30 if len(cats) > 3 else 0,
                          fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("CV val accuracy")
    fig.suptitle("Each hyperparameter against the score (hollow: pruned / partial)",
                 fontsize=10)
    return _save(fig, path)


def _categories(search: SearchReport, name: str, values: list[Any]) -> list[str]:
    """The knob's declared values in order (so axes are stable), plus any others seen."""
    declared = [str(v) for v in search.knob(name).get("values") or []]
    seen = [str(v) for v in values]
    return [v for v in declared if v in seen] + sorted(set(seen) - set(declared))


def _axis(search: SearchReport, name: str, trials: list[Trial]) -> tuple[list[float], list[str]]:
    """Positions in [0, 1] of each trial on one parallel axis, and tick labels (low, high)."""
    values = [t.params.get(name) for t in trials]
    present = [v for v in values if v is not None]
    if present and is_numeric(present):
        nums = [float(v) for v in present]
        log = _log_scale(search, name, nums)
        knob = search.knob(name)
        lo = float(knob["min"]) if "min" in knob else min(nums)
        hi = float(knob["max"]) if "max" in knob else max(nums)
        lo, hi = min(lo, *nums), max(hi, *nums)
        f = (lambda v: math.log10(v)) if log and lo > 0 else (lambda v: v)  # noqa: E731
        span = (f(hi) - f(lo)) or 1.0
        pos = [np.nan if v is None else (f(float(v)) - f(lo)) / span for v in values]
        return pos, [f"{lo:.3g}", f"{hi:.3g}"]
    cats = _categories(search, name, present)
    step = 1 / max(1, len(cats) - 1)
    pos = [np.nan if v is None else cats.index(str(v)) * step for v in values]
    return pos, cats


def parallel_plot(search: SearchReport, top: list[Trial], path: Path) -> Path | None:
    """Top trials as lines across one vertical axis per varying knob, coloured by score."""
    top = [t for t in top if t.mean is not None]
    names = varying_params(top)
    if len(top) < 2 or not names:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.0, 1.25 * (len(names) + 1)), 4.2))
    axes = [_axis(search, n, top) for n in names]
    scores = [t.mean for t in top]
    lo, hi = min(scores), max(scores)
    score_pos = [(s - lo) / ((hi - lo) or 1.0) for s in scores]
    cmap = plt.get_cmap("viridis")
    for i, t in enumerate(top[::-1]):  # best drawn last, on top
        j = len(top) - 1 - i
        ys = [a[0][j] for a in axes] + [score_pos[j]]
        ax.plot(range(len(ys)), ys, color=cmap(score_pos[j]), lw=2.5 if j == 0 else 1.2,
                alpha=0.9, marker="o", ms=3, label=f"trial {t.trial_id}" if j < 3 else None)
    for k, (_, labels) in enumerate(axes):
        ax.axvline(k, color="#444", lw=0.8)
        if len(labels) == 2 and labels[0][:1].isdigit():
            ax.text(k, -0.06, labels[0], ha="center", va="top", fontsize=7)
            ax.text(k, 1.06, labels[1], ha="center", va="bottom", fontsize=7)
        else:
            step = 1 / max(1, len(labels) - 1)
            for c, label in enumerate(labels):
                ax.text(k + 0.04, c * step, label, fontsize=7, va="center")
    k = len(names)
    ax.axvline(k, color="#444", lw=0.8)
    ax.text(k, -0.06, f"{lo:.4f}", ha="center", va="top", fontsize=7)
    ax.text(k, 1.06, f"{hi:.4f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(k + 1), [*names, "val acc"], rotation=30, fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.15, 1.15)
    ax.set_xlim(-0.3, k + 0.5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(f"Parallel coordinates of the top {len(top)} trials (colour = score)")
    return _save(fig, path)


def curves_plot(trials: list[Trial], path: Path) -> Path | None:
    """Per-fold train/validation curves for each given trial that recorded its history."""
    have = [t for t in trials if any(f.get("history") for f in t.folds)]
    if not have:
        return None
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(len(have), 2, figsize=(8.5, 2.6 * len(have)), squeeze=False)
    for row, trial in enumerate(have):
        for col, metric in enumerate(("accuracy", "loss")):
            ax = axes[row][col]
            for fold in trial.folds:
                history = fold.get("history") or {}
                color = FOLD_COLORS[int(fold.get("fold", 0)) % len(FOLD_COLORS)]
                for key, style in ((metric, "-"), (f"val_{metric}", "--")):
                    values = history.get(key) or []
                    if values:
                        ax.plot(range(1, len(values) + 1), values, style, color=color,
                                marker="o", ms=2.5, label=f"fold {fold.get('fold')} "
                                f"{'val' if key.startswith('val') else 'train'}")
            ax.set_title(f"trial {trial.trial_id} (rank {trial.rank}): {metric}", fontsize=9)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("epoch", fontsize=8)
            ax.grid(alpha=0.3)
    axes[0][1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _save(fig, path)
