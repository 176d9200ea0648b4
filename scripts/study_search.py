"""Why a search stops at its first trial: measurements on a finished hpsearch tune project.

Reads a project (from `hpsearch tune` or `bench_search.py --keep DIR`) and prints, as JSON:
- `pruning`: how many trials the per-epoch median rule stopped, and at which epoch;
- `pruned_rerun`: a sample of pruned configs trained to the end on the same folds and seed,
  and how many would have beaten the search's best; what the oracle was told for them (the
  partial mean at the epoch they stopped) against what they score when finished;
- `ratchet`: the pruning threshold each trial met at the first epoch the rule may act
  (the median over the *finished* trials only), against the same median over every trial
  that reached that epoch, pruned ones included;
- `gp`: how Keras Tuner's Gaussian process sees the trials (its own embedding: each choice
  an ordinal point in [0, 1], inactive knobs at their default; one isotropic Matern
  length scale): its leave-one-out rank correlation with the scores, against an ARD kernel
  on a one-hot embedding; and how many Bayesian-phase proposals sit on a bound of the box.

    python scripts/study_search.py --project /tmp/runA/hpsearch-seed0 \\
        --dataset fashion-mnist-sample --rerun 8
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # study this checkout


def trial_order(records: list[Any]) -> list[Any]:
    """In the order they ran (in one process, trial ids count up)."""
    return sorted(records, key=lambda r: (len(r.trial_id), r.trial_id))


def pruning_summary(records: list[Any]) -> dict[str, Any]:
    pruned = [r for r in records if r.status == "pruned"]
    at = [max(f["epochs_run"] for f in r.folds) for r in pruned if r.folds]
    return {"trials": len(records), "ok": sum(r.status == "ok" for r in records),
            "pruned": len(pruned), "failed": sum(r.status == "failed" for r in records),
            "pruned_share": round(len(pruned) / max(1, len(records)), 3),
            "pruned_at_epoch": {int(e): at.count(e) for e in sorted(set(at))}}


def ratchet(records: list[Any], epoch: int, min_trials: int = 3) -> dict[str, Any]:
    """The median each trial met at `epoch`: over finished (ok) trials only, as the rule does,
    and over every earlier trial that reached `epoch` (pruned ones included)."""
    from hpsearch.search.pruning import mean_curve

    survivors: list[float] = []
    everyone: list[float] = []
    rows = []
    for record in trial_order(records):
        if len(survivors) >= min_trials:
            rows.append({"trial": record.trial_id,
                         "median_ok_only": round(float(np.median(survivors)), 4),
                         "median_all": round(float(np.median(everyone)), 4),
                         "status": record.status})
        curve = mean_curve([f["history"] for f in record.folds]) if record.folds else []
        if len(curve) >= epoch:
            everyone.append(curve[epoch - 1])
            if record.status == "ok":
                survivors.append(curve[epoch - 1])
    ok_only = [r["median_ok_only"] for r in rows]
    return {"epoch": epoch, "per_trial": rows,
            "median_ok_only_rises_by": round(ok_only[-1] - ok_only[0], 4) if rows else None,
            "median_ok_only_ever_falls": any(b < a - 1e-9 for a, b in zip(ok_only, ok_only[1:],
                                                                             strict=False)),
            "final_gap_ok_only_minus_all": round(rows[-1]["median_ok_only"]
                                                 - rows[-1]["median_all"], 4) if rows else None}


def rerun_pruned(project: Any, records: list[Any], data: Any, count: int, seed: int,
                 folds: int) -> dict[str, Any]:
    """Train `count` pruned configs (evenly spaced over the search) to the end."""
    from hpsearch.config import ModelConfig
    from hpsearch.training.evaluate import Protocol, evaluate_seeds

    pruned = [r for r in trial_order(records) if r.status == "pruned"]
    best = max(r.mean for r in records if r.status == "ok")
    at = sorted({int(i) for i in np.linspace(0, len(pruned) - 1, min(count, len(pruned)))})
    rows = []
    for record in [pruned[i] for i in at]:
        cfg = ModelConfig.from_dict(record.config)
        results, _ = evaluate_seeds(cfg, data, Protocol.kfold(folds), [seed])
        result = results[0]
        full = None if isinstance(result, Exception) else float(
            np.mean([f.history["val_accuracy"][-1] for f in result.folds]))
        stop = max(f["epochs_run"] for f in record.folds)
        again = None if full is None else float(np.mean(
            [f.history["val_accuracy"][stop - 1] for f in result.folds]))
        rows.append({"trial": record.trial_id, "told_oracle": round(record.mean, 4),
                     "stopped_at": stop, "rerun_at_that_epoch": again and round(again, 4),
                     "full": full and round(full, 4), "describe": cfg.describe()})
    finished = [r for r in rows if r["full"] is not None]
    return {"best_ok": round(best, 4), "rerun": rows,
            "would_beat_best": sum(r["full"] > best for r in finished),
            "within_0.005_of_best": sum(r["full"] > best - 0.005 for r in finished),
            "median_told_minus_full": round(float(np.median(
                [r["told_oracle"] - r["full"] for r in finished])), 4) if finished else None}


def embed(space: Any, params: dict[str, Any], one_hot: bool) -> list[float]:
    """Keras Tuner's embedding of a trial (one_hot=False), or choices one-hot."""
    vector: list[float] = []
    for hp in space.declare().space:
        if hp.__class__.__name__ == "Fixed":
            continue
        value = params.get(hp.name, hp.default)
        if one_hot and hp.__class__.__name__ == "Choice":
            vector += [float(value == v) for v in hp.values]
        else:
            vector.append(float(hp.value_to_prob(value)))
    return vector


def gp_study(space: Any, records: list[Any], initial: int) -> dict[str, Any]:
    from scipy.stats import spearmanr
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import Matern

    told = [r for r in trial_order(records) if r.status in ("ok", "pruned")]
    y = np.array([r.mean for r in told])
    out: dict[str, Any] = {"trials": len(told)}
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    for name, one_hot, ard in (("keras_tuner", False, False), ("ard", False, True),
                               ("ard_one_hot", True, True)):
        x = np.array([embed(space, r.params, one_hot) for r in told])
        kernel = Matern(nu=2.5, length_scale=np.ones(x.shape[1]) if ard else 1.0)
        loo = []
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, alpha=1e-4,
                                          n_restarts_optimizer=2, random_state=0)
            gp.fit(x[keep], y[keep])
            loo.append(float(gp.predict(x[i:i + 1])[0]))
        out[f"{name}_loo_spearman"] = round(float(spearmanr(loo, y).statistic), 3)
        fitted = GaussianProcessRegressor(kernel=kernel, normalize_y=True, alpha=1e-4,
                                          n_restarts_optimizer=2, random_state=0).fit(x, y)
        scales = np.atleast_1d(fitted.kernel_.length_scale)
        out[f"{name}_length_scales"] = [float(f"{v:.3g}") for v in scales]
    # Proposals of the GP phase on a bound of a continuous range (the acquisition's corners)
    ranges = [hp for hp in space.declare().space
              if hp.__class__.__name__ in ("Float", "Int")]
    later = told[initial:]
    on_edge = 0
    for record in later:
        if any(hp.name in record.params and record.params[hp.name] in (hp.min_value,
                                                                      hp.max_value)
               for hp in ranges):
            on_edge += 1
    out["gp_phase_trials"] = len(later)
    out["gp_phase_with_a_knob_on_a_bound"] = on_edge
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--train-size", type=int, default=None,
                        help="the slice bench_search.py used (same seed)")
    parser.add_argument("--rerun", type=int, default=8, help="pruned configs to finish")
    parser.add_argument("--initial-points", type=int, default=8)
    args = parser.parse_args()

    from hpsearch.search.project import Project
    from hpsearch.search.space import Space

    project = Project(Path(args.project))
    meta = project.read_meta()
    records = [r for r in project.records() if r.final]
    space = Space.from_dict(meta["space"])
    out: dict[str, Any] = {"project": args.project, "pruning": pruning_summary(records)}
    budget = space.base.epochs
    from hpsearch.search.pruning import MedianPruner

    first_epoch = MedianPruner.for_budget(budget).warmup_epochs + 1
    out["ratchet"] = ratchet(records, first_epoch)
    out["gp"] = gp_study(space, records, args.initial_points)
    if args.rerun:
        scripts = Path(__file__).resolve().parent
        sys.path.insert(0, str(scripts))
        from bench_search import subset

        from hpsearch.data import load_dataset

        data = subset(load_dataset(args.dataset, args.data_dir), args.train_size)
        out["pruned_rerun"] = rerun_pruned(project, records, data, args.rerun,
                                           int(meta["seed"]), int(meta["folds"]))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
