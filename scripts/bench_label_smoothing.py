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

from bench_common import first_trial_bench, paired_first_trials


def main() -> None:
    args, hp, data, warm = first_trial_bench(__doc__, lambda parser: parser.add_argument(
        "--amounts", type=float, nargs="+", default=[0.1]))
    configs = {f"ls={a:g}": warm.replace(label_smoothing=a) for a in [0.0, *args.amounts]}
    paired_first_trials(args, hp, data, configs, against="ls=0")


if __name__ == "__main__":
    main()
