"""Benchmark: is the main job's warm start a local optimum of its space? Its one-knob
neighbours beside it, paired fold by fold, over several seeds, in one run.

The best-trial target of issue 23 asks the main job's search to end on a config other than its
first trial (the default space's defaults). A search can only do that where a better config
exists within its reach. This measures the warm start's neighbours that the search's local
step proposes (another activation, layers twice or 1.5 times as wide, the learning rate
doubled, more dropout) with CV as the main job scores a trial (`--folds`, default 2, the same
folds for all, so differences pair fold by fold), and with `--refit` one refit of each tested
once. It prints each seed's scores and, per neighbour, the mean ± sample sd (ddof 1) of its
paired differences from the warm start and how many pairs are above it. Wider layers cost
time: with `--refit` each refit's seconds are printed.

    python scripts/bench_warm_neighbours.py --data-dir DIR             # full data, seeds 0-2
    python scripts/bench_warm_neighbours.py --data-dir DIR --only gelu wide-1024 --refit
"""

from __future__ import annotations

from bench_common import first_trial_bench, paired_first_trials


def neighbours(warm) -> dict:
    """The warm start and its one-knob neighbours, by name (a neighbour equal to the warm
    start, such as its own activation, is left out)."""
    width = len(warm.hidden)
    moves = {
        "relu": {"activation": "relu"}, "gelu": {"activation": "gelu"},
        "elu": {"activation": "elu"},
        "wide-768": {"hidden": (768,) * width}, "wide-1024": {"hidden": (1024,) * width},
        "lr-x2": {"learning_rate": warm.learning_rate * 2},
        "dropout+0.1": {"dropout_rate": round(warm.dropout_rate + 0.1, 3)},
    }
    configs = {"warm": warm}
    for name, change in moves.items():
        cfg = warm.with_overrides(change)
        if cfg != warm:
            configs[name] = cfg
    return configs


def main() -> None:
    def extra(parser) -> None:
        parser.add_argument("--only", nargs="+", default=None,
                            help="these neighbours only (names as printed)")
        parser.add_argument("--refit", action="store_true",
                            help="also refit each on all training images and test it once")

    args, hp, data, warm = first_trial_bench(__doc__, extra)
    configs = neighbours(warm)
    if args.only:
        unknown = sorted(set(args.only) - set(configs))
        if unknown:
            raise SystemExit(f"unknown neighbour(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(n for n in configs if n != 'warm')}")
        configs = {n: c for n, c in configs.items() if n == "warm" or n in args.only}
    paired_first_trials(args, hp, data, configs, against="warm", refit=args.refit)


if __name__ == "__main__":
    main()
