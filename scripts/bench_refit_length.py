"""Benchmark: the export's refit length, the old rule against the length CV scored.

`export --from` refits the best trial on all training images with no validation split. It
used to train for the rounded mean of the folds' best *validation accuracy* epochs; it now
trains for the length CV scored (every epoch the folds trained; with early stopping, their
restored epoch). Per seed, on the main job's first trial (its own space and settings):

- CV as the main job scores a trial (`--folds`, default 2), which gives the old rule's length;
- a refit for that length and one for the trial's own length, each tested once, same seed.

It prints each seed's lengths and test accuracies, then the mean ± sample sd (ddof 1) over
the seeds of the difference (scored length minus old rule), with the seeds where the two
lengths were equal counted as 0. The test set is read to report, never to pick.

    python scripts/bench_refit_length.py --data-dir DIR                 # full data, seeds 0-2
    python scripts/bench_refit_length.py --dataset fashion-mnist-sample --seeds 0
"""

from __future__ import annotations

import json
import statistics

from bench_common import first_trial_bench


def main() -> None:
    args, hp, data, warm = first_trial_bench(__doc__)
    gains = []
    for seed in args.seeds:
        cv = hp.cross_validate({"warm": warm}, data, folds=args.folds, seed=seed, quiet=True)
        old = max(1, round(cv.results["warm"].mean_best_epoch))
        lengths = sorted({old, warm.epochs})
        tests = {n: hp.train(warm.replace(epochs=n), data, seed=seed, quiet=True).test_accuracy
                 for n in lengths}
        gains.append(tests[warm.epochs] - tests[old])
        print(json.dumps({"seed": seed, "old_rule_epochs": old, "scored_epochs": warm.epochs,
                          "test_by_epochs": tests}), flush=True)
    sd = statistics.stdev(gains) if len(gains) > 1 else float("nan")
    print(json.dumps({"config": warm.describe(), "folds": args.folds,
                      "gain_of_scored_length": f"{statistics.mean(gains):+.4f} ± {sd:.4f} "
                                               f"(sample sd, n={len(gains)})",
                      "seeds_above": f"{sum(g > 0 for g in gains)}/{len(gains)}",
                      "seeds_same_length": sum(g == 0 for g in gains)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
