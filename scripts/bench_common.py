"""What the side-by-side benchmarks share: the data arguments, and timing a side's process.

Each benchmark runs every side in a fresh process of its own, so no side inherits another's
thread pools, caches or compiled programs; these helpers keep that one way everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--dataset and --data-dir (default $HPSEARCH_DATA_DIR), as every benchmark takes them."""
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=os.environ.get("HPSEARCH_DATA_DIR"),
                        help="IDX files of full Fashion-MNIST (default: $HPSEARCH_DATA_DIR)")


def first_trial_bench(doc: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
                      ) -> tuple[argparse.Namespace, Any, Any, Any]:
    """The set-up of the benchmarks that measure the main job's first trial over seeds: the
    data arguments, --seeds (default 0-2) and --folds (default 2, the main job's), then this
    checkout's hpsearch, the data and the first trial (`TuneSpec(folds).space().to_config({})`,
    the main job's own settings).

    Returns:
        (args, the hpsearch module, the Dataset, the first trial's ModelConfig).
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_data_arguments(parser)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--folds", type=int, default=2)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    import hpsearch as hp

    data = hp.load_dataset(args.dataset, data_dir=args.data_dir)
    return args, hp, data, hp.TuneSpec(folds=args.folds).space().to_config({})


def paired_first_trials(args: argparse.Namespace, hp: Any, data: Any, configs: dict[str, Any],
                        against: str, refit: bool = True) -> None:
    """Each config in `configs` beside `against`, paired fold by fold and seed by seed.

    Per seed (`args.seeds`), in this order: CV as the main job scores a trial (`args.folds`
    stratified folds, the same folds for every config, so differences pair fold by fold),
    then one refit of each on all training rows, tested once (the figure an export reports;
    the test set is read to report, never to pick). Prints each seed's fold scores, tests and
    refit times, then per config the mean ± sample sd (ddof 1) of its paired differences from
    `against`. With one CV of 2 folds no corrected t can say anything; the pairs over seeds
    are what a verdict counts. `refit=False` skips the refits (CV only, no test read).
    """
    cv_gain: dict[str, list[float]] = {name: [] for name in configs}
    test_gain: dict[str, list[float]] = {name: [] for name in configs}
    for seed in args.seeds:
        cv = hp.cross_validate(configs, data, folds=args.folds, seed=seed, quiet=True)
        scores = cv.scores()
        tests, seconds = {}, {}
        for name, cfg in configs.items() if refit else ():
            start = time.perf_counter()
            tests[name] = hp.train(cfg, data, seed=seed, quiet=True).test_accuracy
            seconds[name] = round(time.perf_counter() - start, 1)
        print(json.dumps({"seed": seed, "cv_folds": scores, "test": tests,
                          "refit_s": seconds}), flush=True)
        for name in configs:
            cv_gain[name] += [a - b for a, b in zip(scores[name], scores[against], strict=True)]
            if refit:
                test_gain[name].append(tests[name] - tests[against])
    summary = {name: {
        "cv_gain_per_fold": _mean_sd(cv_gain[name]),
        "cv_pairs_above": f"{sum(g > 0 for g in cv_gain[name])}/{len(cv_gain[name])}"}
        | ({"test_gain_per_seed": _mean_sd(test_gain[name]),
            "test_pairs_above": f"{sum(g > 0 for g in test_gain[name])}/"
                                f"{len(test_gain[name])}"} if refit else {})
        for name in configs if name != against}
    print(json.dumps({"config": configs[against].describe(), "epochs": configs[against].epochs,
                      "against": against, "std": "sample sd (ddof 1)", "gains": summary},
                     indent=2, ensure_ascii=False))


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return f"{statistics.mean(values):+.4f} ± {sd:.4f} (n={len(values)})"


def data_flags(args: argparse.Namespace) -> list[str]:
    """The data arguments again, to pass on to a side's process."""
    return ["--dataset", args.dataset] + (["--data-dir", args.data_dir] if args.data_dir else [])


def timed_run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run one side's process; -> (wall seconds, its stdout). A failing side stops the run
    with one line: the command and the last line it wrote to stderr."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        sys.exit(f"{Path(sys.argv[0]).name}: {' '.join(command)} failed: {last}")
    return wall, done.stdout


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a loop benchmark takes its configs: drawn from the default space, or a project's."""
    parser.set_defaults(dataset="fashion-mnist-sample")
    parser.add_argument("--configs", type=int, default=15)
    parser.add_argument("--folds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project", default=None,
                        help="take the configs of this tune project's trials (the first "
                             "--configs of them, every --every-th) instead of drawing them")
    parser.add_argument("--every", type=int, default=1)


def trial_fits(args: argparse.Namespace):
    """(data, rows, train sets, validation sets, configs): the fits a search's trials make,
    k folds as towers, with configs drawn the way the random search draws them (the default
    space, seeded) or read from `--project`."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    from hpsearch.data import load_dataset
    from hpsearch.search.budget import sample_values
    from hpsearch.search.space import build_space
    from hpsearch.training.evaluate import Protocol, split_indices

    data = load_dataset(args.dataset, args.data_dir)
    rows = data.x_train.reshape(len(data.x_train), -1)
    splits = split_indices(Protocol.kfold(args.folds), data.y_train, args.seed)
    train, val = [s[0] for s in splits], [s[1] for s in splits]
    if args.project is not None:
        from hpsearch.config import ModelConfig
        from hpsearch.search.project import Project

        configs = [ModelConfig.from_dict(r.config) for r in Project(Path(args.project)).records()
                   if r.config][::args.every][:args.configs]
    else:
        space = build_space(fixes=["patience=0"])
        configs = [space.to_config(v) for v in sample_values(space, args.configs, args.seed)]
    return data, rows, train, val, configs


def trial_fits_from_command_line(description: str):
    """(args, data, rows, train sets, validation sets, configs) of a loop benchmark: its
    command line (`add_data_arguments`, `add_config_arguments`) parsed, then `trial_fits`."""
    parser = argparse.ArgumentParser(description=description)
    add_data_arguments(parser)
    add_config_arguments(parser)
    args = parser.parse_args()
    return (args, *trial_fits(args))


def trial_compiles(cfg, rows, train, num_classes: int) -> bool:
    """Whether a trial of `cfg` over the folds `train` compiles its pass (`loop.use_xla`),
    decided by its full length, as `fit_towers` decides it."""
    from hpsearch.training.loop import use_xla

    return use_xla(cfg, max(len(t) for t in train), len(train), rows.shape[1], num_classes)


def time_split(project, wall: float) -> dict[str, float]:
    """Where an hpsearch search's wall time went, from its records: the fits' steady epochs
    (the arithmetic: each fold's recorded `steady_time_s`, every epoch at the speed of its later
    epochs), the fits' first-epoch extra (building, tracing and compiling each new trial's
    passes), and everything outside the fits (oracle, records, start-up). Each fold's times are
    its share of its stack."""
    folds = [f for record in project.records() for f in record.folds]
    fits = sum(f["fit_time_s"] for f in folds)
    steady = sum(f["steady_time_s"] for f in folds)
    return {"steady_epochs_s": round(steady, 1), "first_epoch_extra_s": round(fits - steady, 1),
            "outside_fits_s": round(wall - fits, 1),
            "epochs_run": sum(f["epochs_run"] for f in folds)}


def plain_keras_model(cfg, data):
    """The network hpsearch builds for `cfg` (regularizers and dropout where the config puts
    them), written the way a user writes it: a `Sequential`, unseeded weights, softmax and
    one-hot labels with categorical cross-entropy, the optimizer by name at the config's rate.
    The plain sides of the benchmarks train it with `Model.fit`."""
    import keras

    from hpsearch.training.towers import regularizer  # the same penalty objects

    if cfg.input_scaling != "none":  # it would need each fold's own statistics
        raise ValueError("plain_keras_model reads the rows as given: pin input_scaling=none "
                         "in the benchmark's space")
    model = keras.Sequential([keras.Input(data.input_shape), keras.layers.Flatten()])
    kernel_reg = regularizer(cfg.kernel_regularizer, cfg.kernel_rate)
    for index, units in enumerate(cfg.hidden):
        activity = (regularizer(cfg.activity_regularizer, cfg.activity_rate)
                    if index in cfg.activity_layers else None)
        model.add(keras.layers.Dense(units, activation=cfg.activation,
                                     kernel_regularizer=kernel_reg,
                                     activity_regularizer=activity))
        if cfg.dropout != "none" and (cfg.dropout_position == "every_hidden"
                                      or index == len(cfg.hidden) - 1):
            model.add(keras.layers.GaussianDropout(cfg.dropout_rate)
                      if cfg.dropout == "gaussian" else keras.layers.Dropout(cfg.dropout_rate))
    model.add(keras.layers.Dense(data.num_classes, activation=cfg.output_activation,
                                 kernel_regularizer=kernel_reg))
    optimizer = keras.optimizers.get(cfg.optimizer)
    optimizer = type(optimizer)(learning_rate=cfg.learning_rate)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model
