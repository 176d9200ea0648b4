"""The lab's Task 2 two ways, side by side: plain Keras + StratifiedKFold vs `hpsearch cv`.

- plain: what a user writes by hand: `StratifiedKFold(5)`, a fresh Keras model per fold built
  and compiled with Keras' defaults for the preset (layers, optimizer, lr 0.01), `fit` for the
  preset's epochs at batch 32, `evaluate` on the held-out fold;
- hpsearch: the command users type, `hpsearch cv --preset model1 --preset model2 --preset
  model3 --folds 5`, run as a subprocess and timed end to end (its imports included).

Both run as separate processes, one after the other, timed by wall clock; each prints the mean
and sample std of its fold accuracies per model, so the accuracies can be compared.

    python scripts/bench_cv.py --data-dir /path/to/fashion-mnist
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench_common import add_data_arguments, data_flags, timed_run

ROOT = Path(__file__).resolve().parent.parent
PRESETS = ("model1", "model2", "model3")


def plain_side(args: argparse.Namespace) -> dict:
    """The hand-written loop (runs in its own process)."""
    import keras
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    sys.path.insert(0, str(ROOT))
    from hpsearch.config import preset
    from hpsearch.data import load_dataset

    data = load_dataset(args.dataset, args.data_dir)
    scores: dict[str, list[float]] = {}
    for name in PRESETS:
        cfg = preset(name).with_overrides({"epochs": args.epochs} if args.epochs else {})
        folds = StratifiedKFold(args.folds, shuffle=True, random_state=0)
        for train, val in folds.split(data.x_train, data.y_train):
            layers = [keras.Input(data.input_shape), keras.layers.Flatten()]
            layers += [keras.layers.Dense(u, activation=cfg.activation) for u in cfg.hidden]
            model = keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])
            optimizer = keras.optimizers.get(cfg.optimizer)
            if cfg.learning_rate is not None:
                optimizer = type(optimizer)(learning_rate=cfg.learning_rate)
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(data.x_train[train], data.y_train[train], batch_size=cfg.batch_size,
                      epochs=cfg.epochs, verbose=0)
            _, accuracy = model.evaluate(data.x_train[val], data.y_train[val], verbose=0)
            scores.setdefault(name, []).append(float(accuracy))
    return {name: [float(np.mean(v)), float(np.std(v, ddof=1))] for name, v in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=0, help="0: the presets' own (10)")
    parser.add_argument("--side", choices=("both", "plain"), default="both")
    args = parser.parse_args()
    if args.side == "plain":
        print(json.dumps(plain_side(args)))
        return
    common = data_flags(args)
    plain_cmd = [sys.executable, __file__, "--side", "plain", "--folds", str(args.folds),
                 "--epochs", str(args.epochs), *common]
    ours_cmd = [sys.executable, "-m", "hpsearch", "cv", *[a for p in PRESETS
                                                          for a in ("--preset", p)],
                "--folds", str(args.folds), "--json", "-q", *common]
    if args.epochs:
        ours_cmd += ["--set", f"epochs={args.epochs}"]
    plain_s, plain_out = timed_run(plain_cmd)
    print(f"plain Keras + StratifiedKFold: {plain_s:.1f} s", flush=True)
    ours_s, ours_out = timed_run(ours_cmd)
    print(f"hpsearch cv: {ours_s:.1f} s", flush=True)
    plain = json.loads(plain_out.strip().splitlines()[-1])
    ours = json.loads(ours_out)
    by_name = {r.get("name", r.get("config_name")): r for r in ours.get("results", [])}
    summary = {"folds": args.folds, "epochs": args.epochs or "preset (10)",
               "plain_s": round(plain_s, 1), "hpsearch_s": round(ours_s, 1),
               "speedup": round(plain_s / ours_s, 2), "plain_accuracy": plain,
               "hpsearch_accuracy": {name: [r.get("mean_val_accuracy"),
                                            r.get("std_val_accuracy")]
                                     for name, r in by_name.items()},
               "hpsearch_verdict": ours.get("verdict")}
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
