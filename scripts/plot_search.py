"""Figures for docs/SEARCH.md from what bench_search.py and study_search.py print.

    python scripts/plot_search.py trajectories runA.log runB.log --out docs/search/traj.png
    python scripts/plot_search.py ratchet study-seed0.json --out docs/search/ratchet.png
    python scripts/plot_search.py rerun study-seed*.json --out docs/search/rerun.png

`trajectories` reads the one-JSON-object-per-line runs that bench_search.py prints (other
lines are skipped) and draws every side's best-so-far CV against seconds, one thin line per
seed and the median over seeds bold.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def read_runs(paths: list[str]) -> list[dict]:
    runs = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith("{") and line.endswith("}") and '"trajectory"' in line:
                runs.append(json.loads(line))
    return runs


def step_curve(trajectory: list[list[float]], grid: np.ndarray) -> np.ndarray:
    """Best-so-far at each grid second (NaN before the first finished trial)."""
    out = np.full(len(grid), np.nan)
    for seconds, best in trajectory:
        out[grid >= seconds] = best
    return out


def trajectories(paths: list[str], out: Path, budget: float, floor: float) -> None:
    import matplotlib.pyplot as plt

    runs = read_runs(paths)
    sides = list(dict.fromkeys(r["side"] for r in runs))
    grid = np.linspace(0, budget, 241)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for index, side in enumerate(sides):
        color = f"C{index}"
        curves = [step_curve(r["trajectory"], grid) for r in runs if r["side"] == side]
        for curve in curves:
            ax.plot(grid, curve, color=color, alpha=0.25, lw=0.8)
        stacked = np.array(curves)
        with np.errstate(all="ignore"):
            median = np.where(np.isnan(stacked).any(axis=0), np.nan,
                              np.nanmedian(stacked, axis=0))
        ax.plot(grid, median, color=color, lw=2, label=f"{side} (median of {len(curves)})")
    ax.set_ylim(bottom=floor)
    finish(fig, ax, out, "seconds of search",
           "best CV so far (mean of folds' last-epoch val acc)", loc="lower right")


def finish(fig, ax, out: Path, xlabel: str, ylabel: str, loc: str = "best") -> None:
    """Labels, grid, legend, and the PNG."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc=loc)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def ratchet(paths: list[str], out: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for index, path in enumerate(paths):
        study = json.loads(Path(path).read_text(encoding="utf-8"))["ratchet"]
        rows = study["per_trial"]
        x = np.arange(len(rows))
        ax.plot(x, [r["median_ok_only"] for r in rows], color=f"C{index}", lw=2,
                label=f"{Path(path).stem}: finished trials only (the rule)")
        ax.plot(x, [r["median_all"] for r in rows], color=f"C{index}", lw=1, ls="--",
                label=f"{Path(path).stem}: every trial that reached the epoch")
    finish(fig, ax, out, "trials since the rule could act",
           f"pruning median at epoch {study['epoch']}")


def rerun(paths: list[str], out: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for index, path in enumerate(paths):
        study = json.loads(Path(path).read_text(encoding="utf-8"))["pruned_rerun"]
        rows = [r for r in study["rerun"] if r["full"] is not None]
        ax.scatter([r["told_oracle"] for r in rows], [r["full"] for r in rows],
                   color=f"C{index}", label=Path(path).stem, s=18)
        ax.axhline(study["best_ok"], color=f"C{index}", lw=0.8, ls=":")
    lims = ax.get_xlim()
    ax.plot(lims, lims, color="gray", lw=0.6)
    finish(fig, ax, out, "what the oracle was told (mean at the pruned epoch)",
           "the same config trained to the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("trajectories", "ratchet", "rerun"))
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--floor", type=float, default=0.75,
                        help="lowest CV drawn (trajectories)")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.kind == "trajectories":
        trajectories(args.inputs, out, args.budget, args.floor)
    elif args.kind == "ratchet":
        ratchet(args.inputs, out)
    else:
        rerun(args.inputs, out)


if __name__ == "__main__":
    main()
