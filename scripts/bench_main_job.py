"""Benchmark: the README's main job, as a user types it, timed end to end several times.

The machine's speed drifts by 20 % and more between runs here, so one run of a 2-minute
command says little: this runs the same command `--runs` times in a row (each a fresh
process, a fresh project, the same seed, so the same search) and prints every wall time,
the median and the range, the trials' statuses, the best CV score, and where each search's
time went (steady epochs, first-epoch extra, outside the fits: `bench_common.time_split`).

    python scripts/bench_main_job.py                  # the sample main job, 3 runs
    python scripts/bench_main_job.py --full --data-dir DIR --runs 1
        # the full-data main job: tune, then export --from (test accuracy printed)
    python scripts/bench_main_job.py --full --data-dir DIR --runs 1 --search-length
        # the same with the training length searched (15 or 30 epochs; docs/SEARCH.md)
    python scripts/bench_main_job.py --full --data-dir DIR --runs 1 --tuner tpe
        # the same with Optuna's TPE as the oracle (needs optuna)
    python scripts/bench_main_job.py --full --data-dir DIR --seeds 0 1 2 --space wide.toml
        # the same with a variant of the default space (e.g. [units] up to 1024)
    python scripts/bench_main_job.py --full --data-dir DIR --seeds 0 1 2
        # one run per tune seed (`--seed S`: other folds, weights and draws): the medians
        # the issue's targets are stated in, and each best trial's lead over the warm start
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench_common import add_data_arguments, data_flags, time_split, timed_run


def timed_json(command: list[str]) -> tuple[float, dict]:
    """Run one hpsearch command with --json; -> (wall seconds, its JSON object)."""
    wall, stdout = timed_run(command + ["--json"])
    return wall, json.loads(stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--full", action="store_true",
                        help="the full-data main job (tune, then export --from) on --dataset "
                             "(default fashion-mnist); without it, the shipped sample")
    parser.add_argument("--search-length", action="store_true",
                        help="search each trial's training length, 15 (the warm start's) or "
                             "30 epochs: `--epochs 30` and a space file with `[epochs] values "
                             "= [15, 30]` (issue 23's lever d)")
    parser.add_argument("--tuner", default=None,
                        help="hpsearch's --tuner (default: the main job's own, bayesian)")
    parser.add_argument("--pruner", default=None,
                        help="hpsearch's --pruner (default: the main job's own, median)")
    parser.add_argument("--space", default=None,
                        help="a space file passed to tune (a variant of the default space, "
                             "e.g. a higher ceiling for units)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="one run per tune --seed instead of --runs runs of seed 0")
    args = parser.parse_args()
    if args.space and args.search_length:
        parser.error("--search-length writes its own space file: put [epochs] in --space")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    from hpsearch.search.project import Project

    hpsearch = [sys.executable, "-m", "hpsearch"]
    data = data_flags(args) if args.full else ["--dataset", "fashion-mnist-sample"]
    runs = []
    seeds = args.seeds if args.seeds is not None else [0] * args.runs
    for run, seed in enumerate(seeds):
        with tempfile.TemporaryDirectory() as tmp:
            project = Path(tmp) / "tune-project"
            flags = []  # the variant's tune flags
            if args.search_length:
                space = Path(tmp) / "length.toml"
                space.write_text("[epochs]\nvalues = [15, 30]\ndefault = 15\n")
                flags = ["--epochs", "30", "--space", str(space)]
            if args.space:
                flags = ["--space", str(Path(args.space).resolve())]
            if args.tuner:
                flags += ["--tuner", args.tuner]
            if args.pruner:
                flags += ["--pruner", args.pruner]
            if args.seeds is not None:
                flags += ["--seed", str(seed)]
            tune_s, tune = timed_json(hpsearch + ["tune", "--max-trials", "30", "--overwrite",
                                                  "--directory", str(project), *flags, *data])
            one = {"run": run, "seed": seed, "tune_s": round(tune_s, 1),
                   "counts": tune["counts"],
                   "best_cv": round(tune["top"][0]["mean_val_accuracy"], 4),
                   "best_trial": tune["top"][0]["trial_id"],  # "00": the warm start
                   "best": tune["top"][0]["describe"],
                   "top5": [(t["trial_id"], round(t["mean_val_accuracy"], 4),
                             t["config"].get("epochs")) for t in tune["top"]],
                   "split": time_split(Project(project), tune_s),
                   **lead_over_warm_start(Project(project), tune["top"][0]["trial_id"])}
            if args.full:
                export_s, card = timed_json(hpsearch + ["export", "--from", str(project),
                                                        "--out", str(project / "export"),
                                                        *data])
                one |= {"export_s": round(export_s, 1),
                        "total_s": round(tune_s + export_s, 1),
                        "refit_epochs": card.get("cv", {}).get("refit_epochs"),
                        "test_accuracy": card["test"]["accuracy"]}
        runs.append(one)
        print(json.dumps(one), flush=True)
    key = "total_s" if args.full else "tune_s"
    times = [r[key] for r in runs]
    leads = [r["lead"] for r in runs if r["lead"] is not None]
    summary = {"job": "full data: tune + export" if args.full else "sample: tune",
               "runs": len(runs), "seeds": seeds, "median_s": statistics.median(times),
               "min_s": min(times), "max_s": max(times),
               "best_not_warm_start": sum(r["best_trial"] != "00" for r in runs),
               "median_lead_over_warm_start": statistics.median(leads) if leads else None}
    if args.full:
        summary["median_test_accuracy"] = statistics.median(r["test_accuracy"] for r in runs)
    print(json.dumps(summary, indent=2))


def lead_over_warm_start(project, best_id: str) -> dict:
    """The best trial's CV lead over the warm start (trial 00), with the per-fold differences
    (both trials are scored on the same folds, so the differences are paired): a lead inside
    the spread of its folds is not a better config."""
    records = {r.trial_id: r for r in project.records()}
    best, warm = records[best_id].scores(), records["00"].scores()
    if len(best) != len(warm):  # the warm start was pruned: no paired folds
        return {"warm_cv": round(records["00"].mean, 4), "lead": None, "fold_leads": []}
    return {"warm_cv": round(records["00"].mean, 4),
            "lead": round(records[best_id].mean - records["00"].mean, 4),
            "fold_leads": [round(b - w, 4) for b, w in zip(best, warm, strict=True)]}


if __name__ == "__main__":
    main()
