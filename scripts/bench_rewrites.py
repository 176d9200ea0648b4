"""Benchmark: hpsearch's passes with and without Grappler's graph rewrites, side by side.

`training.session.without_graph_rewrites` turns TensorFlow's Grappler meta-optimizer off
while hpsearch calls its own passes. This times every config both ways back to back in one
process (alternating which goes first; neither reuses the other's passes), each on the path
`loop.use_xla` picks for it, and compares their curves (Grappler's rewrites change float
rounding, not the arithmetic).

    python scripts/bench_rewrites.py                  # shipped sample, 15 configs, 2 folds
    python scripts/bench_rewrites.py --project tune-project     # the configs a search tried
    python scripts/bench_rewrites.py --data-dir DIR --dataset fashion-mnist --configs 6
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

from bench_common import add_config_arguments, add_data_arguments, trial_fits


def max_difference(curves: dict, key: str) -> float:
    """The largest |difference| of `key` between the two ways, over towers and epochs."""
    return max((abs(a - b) for one, two in zip(curves[True], curves[False], strict=True)
                for a, b in zip(one[key], two[key], strict=True)), default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    add_config_arguments(parser)
    args = parser.parse_args()
    data, rows, train, val, configs = trial_fits(args)
    import numpy as np

    from hpsearch.training import loop

    scoped = loop.without_graph_rewrites
    seeds = list(range(args.folds))

    def fit(cfg, rewrites: bool):
        loop.without_graph_rewrites = contextlib.nullcontext if rewrites else scoped
        loop._REUSABLE.clear()  # each fit traces its own passes, as a new trial's fit does
        start = time.perf_counter()
        out = loop.fit_towers(cfg, rows, data.y_train, train, val, seeds, data.num_classes)
        return time.perf_counter() - start, out

    fit(configs[0].replace(epochs=1), True)  # warm-up: TensorFlow's one-time start-up
    fits = []
    for i, cfg in enumerate(configs):
        times, curves, xla = {}, {}, None
        for rewrites in ((True, False) if i % 2 == 0 else (False, True)):
            times[rewrites], out = fit(cfg, rewrites)
            curves[rewrites] = [run.history for run in out.runs]
            xla = out.xla
        fits.append({"config": cfg.describe(), "compiled": xla,
                     "rewrites_s": round(times[True], 2), "without_s": round(times[False], 2),
                     "same_curves": curves[True] == curves[False],
                     "max_val_accuracy_difference": max_difference(curves, "val_accuracy")})
        print(f"{cfg.describe()} ({'compiled' if xla else 'traced'}): with rewrites "
              f"{times[True]:.2f} s, without {times[False]:.2f} s, largest val_accuracy "
              f"difference {fits[-1]['max_val_accuracy_difference']:.4f}", flush=True)
    with_s = float(np.sum([f["rewrites_s"] for f in fits]))
    without_s = float(np.sum([f["without_s"] for f in fits]))
    print(json.dumps({"dataset": data.name, "folds": args.folds, "configs": len(fits),
                      "with_rewrites_s": round(with_s, 1), "without_rewrites_s":
                      round(without_s, 1), "ratio": round(with_s / without_s, 3),
                      "same_curves": sum(f["same_curves"] for f in fits),
                      "max_val_accuracy_difference": max(f["max_val_accuracy_difference"]
                                                         for f in fits),
                      "fits": fits}, indent=2))


if __name__ == "__main__":
    main()
