"""Benchmark: a new trial's first epoch with its validation pass traced in the background
(what `loop` does) against traced in the main thread after the first training pass.

A new set of towers traces its training pass, compiles or optimises it in its first call, then
traces its validation pass. `_Passes.prepare` moves that last trace into a background thread
that runs while the first training call is in C++ (the interpreter is free then, and one of
the two cores idle). Each config is drawn the way the random search draws it (the default
space, seeded) and fitted as a trial fits it (k folds as towers, compiled or traced as its
full length decides, 2 epochs here) twice, on
fresh towers each time, in alternating order, in one process: once as the loop does it and
once with the background trace switched off. Prints each pair's first epochs, the medians by
path (compiled or traced, as `use_xla` picks), and whether every pair's curves are equal.

    python scripts/bench_validation_trace.py              # shipped sample, 15 configs, 2 folds
    python scripts/bench_validation_trace.py --data-dir DIR --dataset fashion-mnist --configs 6
"""

from __future__ import annotations

import json
import statistics

from bench_common import trial_compiles, trial_fits_from_command_line


def main() -> None:
    args, data, rows, train, val, configs = trial_fits_from_command_line(
        __doc__.splitlines()[0])
    from hpsearch.training import loop

    seeds = list(range(args.folds))
    background = loop._Passes._trace_validation

    def fit(cfg, in_background: bool, xla: bool):
        loop._REUSABLE.clear()  # new towers: every fit traces its passes
        loop._Passes._trace_validation = background if in_background else (lambda self: None)
        try:
            return loop.fit_towers(cfg, rows, data.y_train, train, val, seeds,
                                   data.num_classes, xla=xla)
        finally:
            loop._Passes._trace_validation = background

    fit(configs[0].replace(epochs=1), False, False)  # warm-up: TensorFlow's start-up
    pairs, equal = [], True
    for i, cfg in enumerate(configs):
        xla = trial_compiles(cfg, rows, train, data.num_classes)  # the trial's own path
        cfg = cfg.replace(epochs=2)
        outcomes = {}
        for side in ((True, False) if i % 2 == 0 else (False, True)):  # alternate the order
            outcomes[side] = fit(cfg, side, xla)
        same = all(a.history == b.history for a, b in
                   zip(outcomes[True].runs, outcomes[False].runs, strict=True))
        equal &= same
        pair = {"config": cfg.describe(), "compiled": outcomes[True].xla,
                "background_s": round(outcomes[True].epoch_times[0], 3),
                "main_thread_s": round(outcomes[False].epoch_times[0], 3), "same_curves": same}
        pairs.append(pair)
        print(f"{pair['config']}: first epoch {pair['background_s']:.3f} s background, "
              f"{pair['main_thread_s']:.3f} s main thread "
              f"({'compiled' if pair['compiled'] else 'traced'}; same curves: {same})",
              flush=True)
    summary = {}
    for compiled in (True, False):
        mine = [p for p in pairs if p["compiled"] == compiled]
        if mine:
            summary["compiled" if compiled else "traced"] = {
                "fits": len(mine),
                "median_background_s": round(statistics.median(
                    p["background_s"] for p in mine), 3),
                "median_main_thread_s": round(statistics.median(
                    p["main_thread_s"] for p in mine), 3),
                "median_saving_s": round(statistics.median(
                    p["main_thread_s"] - p["background_s"] for p in mine), 3)}
    print(json.dumps({"dataset": data.name, "folds": args.folds, "configs": len(pairs),
                      "every_pair_same_curves": equal, **summary}, indent=2))


if __name__ == "__main__":
    main()
