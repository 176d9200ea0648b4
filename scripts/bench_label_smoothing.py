"""Benchmark: label smoothing on the main job's warm start, side by side over several seeds.

The main job's first trial (`hpsearch tune`'s default space and settings: [512, 512] relu,
adam 1e-3 cosine, batch 128, dropout 0.2, 15 epochs) with label smoothing off and at each
`--amounts` value, in one run. Per seed, in this order:

- CV as the main job scores a trial (`--folds` stratified folds, default 2, the same folds
  for every amount, so the differences are paired fold by fold);
- one refit of each on all training images, tested once: the figure a user's export would
  report. The test set is read to report, never to pick.

It prints each seed's fold scores and test accuracies, then per amount the mean ± sample sd
(ddof 1) over the pairs of its difference from "off". With one CV of 2 folds no corrected t
can say anything; the pairs over seeds are what the verdict counts.

    python scripts/bench_label_smoothing.py --data-dir DIR             # full data, seeds 0-2
    python scripts/bench_label_smoothing.py --dataset fashion-mnist-sample --seeds 0
"""

from __future__ import annotations

import json
import statistics

from bench_common import first_trial_bench


def main() -> None:
    args, hp, data, warm = first_trial_bench(__doc__, lambda parser: parser.add_argument(
        "--amounts", type=float, nargs="+", default=[0.1]))
    amounts = [0.0, *args.amounts]
    configs = {f"ls={a:g}": warm.replace(label_smoothing=a) for a in amounts}
    cv_gain: dict[str, list[float]] = {name: [] for name in configs}
    test_gain: dict[str, list[float]] = {name: [] for name in configs}
    for seed in args.seeds:
        cv = hp.cross_validate(configs, data, folds=args.folds, seed=seed, quiet=True)
        scores = cv.scores()
        tests = {name: hp.train(cfg, data, seed=seed, quiet=True).test_accuracy
                 for name, cfg in configs.items()}
        print(json.dumps({"seed": seed, "cv_folds": scores, "test": tests}), flush=True)
        for name in configs:
            cv_gain[name] += [a - b for a, b in zip(scores[name], scores["ls=0"], strict=True)]
            test_gain[name].append(tests[name] - tests["ls=0"])
    summary = {}
    for name in configs:
        if name == "ls=0":
            continue
        summary[name] = {
            "cv_gain_per_fold": _mean_sd(cv_gain[name]),
            "test_gain_per_seed": _mean_sd(test_gain[name]),
            "cv_pairs_above_off": f"{sum(g > 0 for g in cv_gain[name])}/{len(cv_gain[name])}",
            "test_pairs_above_off":
                f"{sum(g > 0 for g in test_gain[name])}/{len(test_gain[name])}"}
    print(json.dumps({"config": warm.replace(label_smoothing=0.0).describe(),
                      "epochs": warm.epochs, "against": "ls=0", "std": "sample sd (ddof 1)",
                      "gains": summary}, indent=2, ensure_ascii=False))


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):+.4f} ± {sd:.4f} (n={len(values)})"


if __name__ == "__main__":
    main()
