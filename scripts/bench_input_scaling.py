"""Benchmark: standardised inputs on the main job's warm start, side by side over several seeds.

The main job's first trial (`hpsearch tune`'s default space and settings: [512, 512] relu,
adam 1e-3 cosine, batch 128, dropout 0.2, label smoothing 0.1, 15 epochs) with its inputs
as the data set gives them (`input_scaling="none"`: pixels / 255) and standardised
(`"standard"`: each input centred and scaled by its mean and floored sd over the fit's own
training rows), in one run. Per seed, in this order:

- CV as the main job scores a trial (`--folds` stratified folds, default 2, the same folds
  for both, so the differences are paired fold by fold; each fold learns its own scaling);
- one refit of each on all training images, tested once: the figure a user's export would
  report. The test set is read to report, never to pick.

It prints each seed's fold scores, test accuracies and refit times, then the mean ± sample sd
(ddof 1) over the pairs of "standard" minus "none".

    python scripts/bench_input_scaling.py --data-dir DIR             # full data, seeds 0-2
    python scripts/bench_input_scaling.py --dataset fashion-mnist-sample --seeds 0
"""

from __future__ import annotations

from bench_common import first_trial_bench, paired_first_trials


def main() -> None:
    args, hp, data, warm = first_trial_bench(__doc__)
    configs = {scaling: warm.replace(input_scaling=scaling) for scaling in ("none", "standard")}
    paired_first_trials(args, hp, data, configs, against="none")


if __name__ == "__main__":
    main()
