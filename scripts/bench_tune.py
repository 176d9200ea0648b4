"""Benchmark: the same fixed random search by plain Keras Tuner vs. `hpsearch tune`.

(a) plain Keras Tuner `RandomSearch` with the usual hand-written StratifiedKFold loop in
    `HyperModel.fit` (one-hot labels, categorical cross-entropy, default `fit` settings);
(b) hpsearch's tuner (k-fold through `evaluate`, its speed defaults), pruning off so both do
    the same work. Both oracles get the same space and seed, so they sample the same configs.

Prints both wall times, their ratio and both best mean CV accuracies.

    python scripts/bench_tune.py --data-dir DIR      # the issue's setting: 8 x 3 x 2, full data
    python scripts/bench_tune.py --dataset fashion-mnist-sample --trials 3 --folds 2 --epochs 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def plain_keras_tuner(space, data, trials: int, folds: int, epochs: int, seed: int,
                      directory: Path) -> tuple[float, float]:
    """What a user typically writes; returns (wall seconds, best mean val accuracy)."""
    import keras
    import keras_tuner as kt
    from sklearn.model_selection import StratifiedKFold

    from hpsearch.tuner import oracle_seed

    x, y = data.x_train, keras.utils.to_categorical(data.y_train, data.num_classes)

    class KFoldHyperModel(kt.HyperModel):
        def build(self, hp):
            cfg = space.to_config(hp.values, epochs=epochs)
            model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Flatten()])
            for units in cfg.hidden:
                reg = None
                if cfg.kernel_regularizer != "none":
                    reg = {"l1": keras.regularizers.L1, "l2": keras.regularizers.L2}.get(
                        cfg.kernel_regularizer, lambda r: keras.regularizers.L1L2(r, r))(
                        cfg.kernel_rate)
                model.add(keras.layers.Dense(units, activation=cfg.activation,
                                             kernel_regularizer=reg))
            if cfg.dropout == "dropout":
                model.add(keras.layers.Dropout(cfg.dropout_rate))
            elif cfg.dropout == "gaussian":
                model.add(keras.layers.GaussianDropout(cfg.dropout_rate))
            model.add(keras.layers.Dense(data.num_classes, activation="softmax"))
            optimizer = keras.optimizers.get(cfg.optimizer)
            optimizer = type(optimizer)(learning_rate=cfg.learning_rate)
            model.compile(optimizer=optimizer, loss="categorical_crossentropy",
                          metrics=["accuracy"])
            return model

        def fit(self, hp, model, *args, **kwargs):
            cfg = space.to_config(hp.values, epochs=epochs)
            scores = []
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
            for train, val in splitter.split(x, data.y_train):
                model = self.build(hp)  # a fresh model per fold
                history = model.fit(x[train], y[train], batch_size=cfg.batch_size,
                                    epochs=epochs, validation_data=(x[val], y[val]),
                                    verbose=0)
                scores.append(history.history["val_accuracy"][-1])
            return float(np.mean(scores))

    tuner = kt.RandomSearch(KFoldHyperModel(), objective=kt.Objective("val_accuracy", "max"),
                            max_trials=trials, seed=oracle_seed(seed),
                            hyperparameters=space.declare(),
                            directory=str(directory), project_name="plain", overwrite=True)
    start = time.perf_counter()
    tuner.search(verbose=0)
    wall = time.perf_counter() - start
    best = tuner.oracle.get_best_trials(1)[0].score
    return wall, float(best)


def hpsearch_tuner(space, data, trials: int, folds: int, epochs: int, seed: int,
                   directory: Path, stack_folds: bool = True) -> tuple[float, float]:
    from hpsearch.trials import Project
    from hpsearch.tuner import TuneSettings, make_oracle, make_tuner_class, run_search

    settings = TuneSettings(tuner="random", max_trials=trials, folds=folds, seed=seed,
                            prune=False, stack_folds=stack_folds)
    project = Project(directory / ("hpsearch" if stack_folds else "hpsearch-sequential"))
    project.open({"fingerprint": space.fingerprint(), "tuner": "random", "folds": folds,
                  "dataset": data.name, "seed": seed, "prune": False, "max_trials": trials},
                 resume=False, overwrite=False)
    oracle = make_oracle(space, settings)
    oracle.warm_start = False  # sample exactly what plain RandomSearch samples
    tuner = make_tuner_class()(oracle, space, settings, project)
    start = time.perf_counter()
    run_search(tuner, data)
    wall = time.perf_counter() - start
    rows = project.write_results(folds)
    return wall, max(r["mean_val_accuracy"] for r in rows if r["status"] == "ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=None,
                        help="IDX files of full Fashion-MNIST (default: $HPSEARCH_DATA_DIR)")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=1,
                        help="run both searches this many times, side by side (noisy CPU)")
    parser.add_argument("--sequential", action="store_true",
                        help="also time hpsearch with stacked folds off (one fold at a time)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    from hpsearch.data import load_dataset
    from hpsearch.space import build_space

    data = load_dataset(args.dataset, args.data_dir)
    # A constant rate on both sides: the plain loop below trains the way users write it.
    space = build_space(fixes=[f"epochs={args.epochs}", "patience=0", "lr_schedule=constant"])
    runs = []
    for repeat in range(args.repeats):
        load_before = os.getloadavg()
        with tempfile.TemporaryDirectory() as tmp:
            plain = plain_keras_tuner(space, data, args.trials, args.folds, args.epochs,
                                      args.seed, Path(tmp))
            ours = hpsearch_tuner(space, data, args.trials, args.folds, args.epochs,
                                  args.seed, Path(tmp))
            one_by_one = hpsearch_tuner(space, data, args.trials, args.folds, args.epochs,
                                        args.seed, Path(tmp), stack_folds=False) \
                if args.sequential else None
        runs.append({"repeat": repeat, "plain_keras_tuner_s": round(plain[0], 1),
                     "hpsearch_s": round(ours[0], 1), "speedup": round(plain[0] / ours[0], 2),
                     "plain_best_cv": round(plain[1], 4), "hpsearch_best_cv": round(ours[1], 4),
                     "best_cv_difference": round(ours[1] - plain[1], 4),
                     **({"hpsearch_sequential_s": round(one_by_one[0], 1),
                         "hpsearch_sequential_best_cv": round(one_by_one[1], 4)}
                        if one_by_one else {}),
                     "loadavg_before": [round(v, 2) for v in load_before],
                     "loadavg_after": [round(v, 2) for v in os.getloadavg()]})
        print(json.dumps(runs[-1]), flush=True)
    result = {"dataset": data.name, "n_train": len(data.y_train), "trials": args.trials,
              "folds": args.folds, "epochs": args.epochs, "seed": args.seed,
              "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
              "runs": runs,
              "median_speedup": float(np.median([r["speedup"] for r in runs]))}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
