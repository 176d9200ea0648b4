"""Benchmark: `loop.use_xla`'s choice vs always compiling vs never, on configs of the space.

Each config is drawn the way the random search draws it (the default space, seeded), then
fitted as a trial fits it (k folds as towers, its epochs) twice back to back: compiled and
traced, in alternating order, in one process. Prints each fit's wall time, which path the rule
picks, and the totals: all compiled, all traced, the rule, and the faster path of each config.

    python scripts/bench_xla_choice.py                 # shipped sample, 15 configs, 2 folds
    python scripts/bench_xla_choice.py --project tune-project   # the configs a search tried
    python scripts/bench_xla_choice.py --data-dir DIR --dataset fashion-mnist --configs 6
"""

from __future__ import annotations

import json
import time

from bench_common import trial_compiles, trial_fits_from_command_line


def main() -> None:
    args, data, rows, train, val, configs = trial_fits_from_command_line(
        __doc__.splitlines()[0])
    import numpy as np

    from hpsearch.training.loop import fit_towers

    seeds = list(range(args.folds))
    fit_towers(configs[0].replace(epochs=1), rows, data.y_train, train, val, seeds,
               data.num_classes, xla=False)  # warm-up: TensorFlow's one-time start-up
    rows_out = []
    for i, cfg in enumerate(configs):
        times = {}
        for xla in ((True, False) if i % 2 == 0 else (False, True)):  # alternate the order
            start = time.perf_counter()
            fit_towers(cfg, rows, data.y_train, train, val, seeds, data.num_classes, xla=xla)
            times[xla] = time.perf_counter() - start
        rule = trial_compiles(cfg, rows, train, data.num_classes)
        rows_out.append({"config": cfg.describe(), "compiled_s": round(times[True], 2),
                         "traced_s": round(times[False], 2), "rule_compiles": rule})
        print(f"{cfg.describe()}: compiled {times[True]:.2f} s, traced {times[False]:.2f} s, "
              f"rule: {'compiled' if rule else 'traced'}", flush=True)
    compiled = np.array([r["compiled_s"] for r in rows_out])
    traced = np.array([r["traced_s"] for r in rows_out])
    rule = np.where([r["rule_compiles"] for r in rows_out], compiled, traced)
    print(json.dumps({"dataset": data.name, "folds": args.folds, "configs": len(rows_out),
                      "all_compiled_s": round(float(compiled.sum()), 1),
                      "all_traced_s": round(float(traced.sum()), 1),
                      "rule_s": round(float(rule.sum()), 1),
                      "fastest_each_s": round(float(np.minimum(compiled, traced).sum()), 1),
                      "fits": rows_out}, indent=2))


if __name__ == "__main__":
    main()
