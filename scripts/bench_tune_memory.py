"""Resident memory of one `hpsearch tune` process after 3 vs after N trials (issue 3, item 9).

Keras Tuner users report memory growing trial after trial; hpsearch keeps no model on the tuner
and clears the Keras session per fit. This runs a random search in-process and prints the RSS
after trial 3 and after the last one, and their ratio (target <= 1.2).

    python scripts/bench_tune_memory.py                       # sample data, 30 trials x 2 x 1
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def rss_mib() -> float:
    """Current resident set size (not the peak), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist-sample")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    from hpsearch.data import load_dataset
    from hpsearch.search.project import Project
    from hpsearch.search.space import build_space
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import Hooks, build_tuner, run_search

    data = load_dataset(args.dataset, args.data_dir)
    space = build_space(fixes=[f"epochs={args.epochs}", "patience=0"])
    settings = TuneSpec(tuner="random", max_trials=args.trials, folds=args.folds,
                            prune=False)
    samples: list[float] = []
    hooks = Hooks(trial_end=lambda record: samples.append(rss_mib()))
    with tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp) / "p")
        project.open({"fingerprint": space.fingerprint(), "tuner": "random",
                      "folds": args.folds, "dataset": data.name, "seed": 0, "prune": False,
                      "max_trials": args.trials}, resume=False, overwrite=False)
        run_search(build_tuner(space, settings, project, hooks), data)
    after3, last = samples[min(2, len(samples) - 1)], samples[-1]
    print(json.dumps({"dataset": data.name, "trials": len(samples), "folds": args.folds,
                      "epochs": args.epochs,
                      "rss_after_3_mib": round(after3, 1), "rss_after_last_mib": round(last, 1),
                      "ratio": round(last / after3, 3),
                      "rss_every_trial_mib": [round(v, 1) for v in samples]}, indent=2))


if __name__ == "__main__":
    main()
