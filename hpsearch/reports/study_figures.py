"""The study figures: bars with error bars (accuracy, loss, time) and learning curves.

Drawn with matplotlib's Agg backend, so they work on headless machines and in tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SPLIT_COLORS = {"train": "#4c72b0", "val": "#dd8452", "test": "#55a868"}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _values(rows: list[dict[str, Any]], variant: str, column: str) -> np.ndarray:
    values = [float(r[column]) for r in rows if r["variant"] == variant
              and r.get("status") == "ok" and r.get(column) not in (None, "")]
    return np.asarray(values, dtype=float)


def _stat(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return np.nan, 0.0
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def bar_chart(rows: list[dict[str, Any]], variants: list[str], metric: str, splits: list[str],
              path: Path, title: str) -> None:
    """Grouped bars: one group per variant, one bar per split, error bars = 1 std over seeds."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.5, 1.6 * len(variants) + 2), 3.6))
    width = 0.8 / len(splits)
    x = np.arange(len(variants))
    for i, split in enumerate(splits):
        column = f"{split}_{metric}" if metric in ("loss", "accuracy") else metric
        stats = [_stat(_values(rows, v, column)) for v in variants]
        ax.bar(x + (i - (len(splits) - 1) / 2) * width, [s[0] for s in stats], width,
               yerr=[s[1] for s in stats], capsize=4, label=split,
               color=SPLIT_COLORS.get(split, "#8172b2"))
    ax.set_xticks(x, variants)
    ax.set_title(title)
    ax.set_ylabel(metric.replace("_", " "))
    if metric == "accuracy":
        tops = [_stat(_values(rows, v, f"{s}_accuracy"))[0] for v in variants for s in splits]
        lows = [t for t in tops if np.isfinite(t)]
        if lows:
            ax.set_ylim(max(0.0, min(lows) - 0.1), min(1.0, max(lows) + 0.05))
    if len(splits) > 1:
        ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _curve(rows: list[dict[str, Any]], variant: str, column: str) -> tuple[np.ndarray, ...]:
    by_epoch: dict[int, list[float]] = {}
    for r in rows:
        if r["variant"] == variant and r.get(column) not in (None, ""):
            by_epoch.setdefault(int(r["epoch"]), []).append(float(r[column]))
    epochs = np.array(sorted(by_epoch))
    means = np.array([np.mean(by_epoch[e]) for e in epochs])
    stds = np.array([np.std(by_epoch[e], ddof=1) if len(by_epoch[e]) > 1 else 0.0
                     for e in epochs])
    return epochs, means, stds


def learning_curves(curves: list[dict[str, Any]], variants: list[str], path: Path,
                    val_label: str = "validation") -> None:
    """One column per variant; accuracy on top, loss below; mean over seeds, band = 1 std."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, len(variants), figsize=(3.2 * len(variants) + 0.6, 5.4),
                             squeeze=False, sharey="row")
    for col, variant in enumerate(variants):
        for row, metric in enumerate(("accuracy", "loss")):
            ax = axes[row][col]
            for prefix, label, color in (("", "train", SPLIT_COLORS["train"]),
                                         ("val_", val_label, SPLIT_COLORS["val"])):
                epochs, means, stds = _curve(curves, variant, prefix + metric)
                if epochs.size:
                    ax.plot(epochs, means, marker="o", ms=3, label=label, color=color)
                    ax.fill_between(epochs, means - stds, means + stds, alpha=0.2, color=color)
            if row == 0:
                ax.set_title(variant)
            if col == 0:
                ax.set_ylabel(metric)
            if row == 1:
                ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_all(out: Path, rows: list[dict[str, Any]], curves: list[dict[str, Any]],
             variants: list[str], kfold: bool,
             timing: list[dict[str, Any]] | None = None) -> list[str]:
    """Write accuracy.png, loss.png, time.png and curves.png; return their file names.

    time.png shows the timing repeats (s per steady epoch, ± 1 sd over rounds) when the study
    has them; otherwise each run's share of its variant's tower fit."""
    splits = ["train", "val"] if kfold else ["train", "test"]
    held = "CV fold" if kfold else "test"
    bar_chart(rows, variants, "accuracy", splits, out / "accuracy.png",
              f"Accuracy (mean ± std; {held})")
    bar_chart(rows, variants, "loss", splits, out / "loss.png", f"Loss (mean ± std; {held})")
    if timing:
        timed = [r | {"status": "ok"} for r in timing]
        bar_chart(timed, variants, "epoch_time_s", ["train"], out / "time.png",
                  f"Seconds per steady epoch (mean ± std, {len(timed) // len(variants)} "
                  "interleaved rounds)")
    else:
        bar_chart(rows, variants, "steady_time_s", ["train"], out / "time.png",
                  "Training time without warm-up (s; each run's share of its variant's fit)")
    learning_curves(curves, variants, out / "curves.png",
                    "validation fold" if kfold else "validation (20%)")
    return ["accuracy.png", "loss.png", "time.png", "curves.png"]
