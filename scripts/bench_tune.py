"""Benchmark: the same fixed random search by plain Keras Tuner vs. `hpsearch tune`.

(a) plain Keras Tuner `RandomSearch` with the usual hand-written StratifiedKFold loop in
    `HyperModel.fit` (one-hot labels, categorical cross-entropy, default `fit` settings);
(b) hpsearch's tuner as users run it (k-fold through `evaluate`, its defaults, pruning on),
    and (c) the same search with pruning off, which must never be faster than (b). All
    oracles get the same space and seed, so they sample the same configs.
Each side runs in a fresh process of its own (imports and data loading not timed), with the
settings it would have alone: hpsearch's defaults include TF_ENABLE_ONEDNN_OPTS=1, plain Keras
Tuner gets TensorFlow's (`--plain-onednn` also times plain with that setting).

Prints the wall times, their ratio, both best mean CV accuracies and every trial's score, the
epochs each hpsearch side ran (pruned trials stop early), and where hpsearch's time went:
steady epochs, each new trial's first-epoch extra (tracing, compiling), and outside the fits;
`speedup_if_only_steady_epochs` is the ratio hpsearch would reach with no fixed costs at all.

    python scripts/bench_tune.py --data-dir DIR      # the issue's setting: 8 x 3 x 2, full data
    python scripts/bench_tune.py --dataset fashion-mnist-sample --trials 3 --folds 2 --epochs 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_common import plain_keras_model, time_split


def plain_keras_tuner(space, data, trials: int, folds: int, epochs: int, seed: int,
                      directory: Path) -> tuple[float, list[float], dict[str, float]]:
    """What a user typically writes; returns (wall seconds, mean val accuracy per trial, {}:
    no records to split its time by)."""
    import keras
    import keras_tuner as kt
    from sklearn.model_selection import StratifiedKFold

    from hpsearch.search.oracles.base import oracle_seed

    x, y = data.x_train, keras.utils.to_categorical(data.y_train, data.num_classes)

    class KFoldHyperModel(kt.HyperModel):
        def build(self, hp):
            return plain_keras_model(space.to_config(hp.values, epochs=epochs), data)

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
    trials_by_id = sorted(tuner.oracle.trials.values(), key=lambda t: int(t.trial_id))
    return wall, [float(t.score) for t in trials_by_id], {}


def hpsearch_tuner(space, data, trials: int, folds: int, epochs: int, seed: int,
                   directory: Path, prune: bool = True, workers: int = 0,
                   data_dir: str | None = None) -> tuple[float, list[float], dict[str, float]]:
    """`hpsearch tune`'s search (in process, or chief + `workers` worker processes)."""
    # Keras Tuner, Keras and TensorFlow are imported before the clock starts, as on the plain
    # side (build_tuner would otherwise import them inside the timed search: ~8 s here).
    import keras_tuner  # noqa: F401

    from hpsearch.search.project import Project
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import build_tuner, run_search

    # warm start off: sample exactly what plain RandomSearch samples
    settings = TuneSpec(tuner="random", max_trials=trials, folds=folds, seed=seed,
                            prune=prune, warm_start=False)
    project = Project(directory / "hpsearch")
    project.open({"fingerprint": space.fingerprint(), "tuner": "random", "folds": folds,
                  "dataset": data.name, "data_dir": data_dir, "seed": seed,
                  "prune": prune, "max_trials": trials, "space": space.to_dict(),
                  "settings": settings.__dict__}, resume=False, overwrite=False)
    start = time.perf_counter()
    if workers:
        from hpsearch.search.distributed import run_distributed

        run_distributed(space, settings, project, workers, "127.0.0.1", 0, quiet=True)
    else:
        run_search(build_tuner(space, settings, project), data)
    wall = time.perf_counter() - start
    rows = project.write_results(folds).rows
    rows = sorted(rows, key=lambda r: int(r["trial_id"]))
    return wall, [r["mean_val_accuracy"] if r["status"] == "ok" else float("nan")
                  for r in rows], time_split(project, wall)


SIDES = {"plain": "plain Keras Tuner, TensorFlow's own settings",
         "plain-onednn": "plain Keras Tuner with TF_ENABLE_ONEDNN_OPTS=1",
         "hpsearch": "hpsearch tune as users run it (pruning on)",
         "hpsearch-unpruned": "hpsearch tune --no-prune (the same search, every epoch run)",
         "hpsearch-workers": "hpsearch tune --workers N (chief + N worker processes)"}


def run_side(side: str, args: argparse.Namespace) -> dict:
    """One side in a fresh process of its own: each gets the settings it would get alone
    (hpsearch.training sets TF_ENABLE_ONEDNN_OPTS when imported; plain Keras Tuner must not
    inherit it) and no side pays for or profits from the other's memory and traced graphs."""
    env = dict(os.environ)  # this parent never imports hpsearch, so nothing is added here
    if side == "plain-onednn":
        env["TF_ENABLE_ONEDNN_OPTS"] = "1"
    command = [sys.executable, __file__, "--side", side, "--dataset", args.dataset,
               "--trials", str(args.trials), "--folds", str(args.folds),
               "--epochs", str(args.epochs), "--seed", str(args.seed),
               "--workers", str(args.workers)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_tune: the {side} side failed: "
                 f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_side(args: argparse.Namespace) -> None:
    """Child process: time one side's search, print {"wall": s, "scores": [...]} as JSON."""
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset")  # before hpsearch sets it
    plain = args.side.startswith("plain")
    if plain:
        import tensorflow  # noqa: F401 - loaded before hpsearch, with TensorFlow's settings
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    from hpsearch.data import load_dataset
    from hpsearch.search.space import build_space

    data = load_dataset(args.dataset, args.data_dir)
    # A constant rate on both sides: the plain loop trains the way users write it.
    # pixels / 255 on both sides: the plain side's user does not standardise per fold
    space = build_space(fixes=[f"epochs={args.epochs}", "patience=0", "lr_schedule=constant",
                               "input_scaling=none"])
    search = plain_keras_tuner if plain else hpsearch_tuner
    extra = {} if plain else {
        "prune": args.side != "hpsearch-unpruned", "data_dir": args.data_dir,
        "workers": args.workers if args.side == "hpsearch-workers" else 0}
    with tempfile.TemporaryDirectory() as tmp:
        wall, scores, split = search(space, data, args.trials, args.folds, args.epochs, args.seed,
                              Path(tmp), **extra)
    import tensorflow as tf

    print(json.dumps({"wall": wall, "scores": scores, "split": split,
                      "onednn": onednn if plain else os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
                      "tensorflow": tf.__version__}))


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
                        help="run the sides this many times, interleaved (noisy CPU)")
    parser.add_argument("--plain-onednn", action="store_true",
                        help="also time plain Keras Tuner with TF_ENABLE_ONEDNN_OPTS=1, to "
                             "show how much of the gap that one setting makes")
    parser.add_argument("--workers", type=int, default=0,
                        help="also time hpsearch with its trials on N worker processes "
                             "(`tune --workers N`, not a default)")
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_side(args)
        return

    sides = ["plain", "hpsearch", "hpsearch-unpruned",
             *(["plain-onednn"] if args.plain_onednn else []),
             *(["hpsearch-workers"] if args.workers else [])]
    runs = []
    for repeat in range(args.repeats):
        load_before = os.getloadavg()
        out = {side: run_side(side, args) for side in sides}
        plain, ours = out["plain"], out["hpsearch"]
        best = {side: float(np.nanmax(r["scores"])) for side, r in out.items()}
        run = {"repeat": repeat, "plain_keras_tuner_s": round(plain["wall"], 1),
               "hpsearch_s": round(ours["wall"], 1),
               "speedup": round(plain["wall"] / ours["wall"], 2),
               "plain_best_cv": round(best["plain"], 4),
               "hpsearch_best_cv": round(best["hpsearch"], 4),
               "best_cv_difference": round(best["hpsearch"] - best["plain"], 4),
               # the same configs in the same order on every side: compare them pairwise
               "cv_per_trial": {side: [round(v, 4) for v in r["scores"]]
                                for side, r in out.items()},
               "onednn": {side: r["onednn"] for side, r in out.items()}}
        split = ours["split"]
        run["hpsearch_time_split"] = split
        # The ratio hpsearch would reach if every trial cost only its steady epochs: what
        # is left to win by cutting fixed costs, whatever the loop does per step.
        run["speedup_if_only_steady_epochs"] = round(plain["wall"] / split["steady_epochs_s"], 2)
        for side in sides[1:]:
            if out[side]["split"]:
                run[f"{side}_epochs_run"] = out[side]["split"]["epochs_run"]
        for side in sides[2:]:
            run[f"{side}_s"] = round(out[side]["wall"], 1)
            run[f"{side}_best_cv"] = round(best[side], 4)
        run |= {"loadavg_before": [round(v, 2) for v in load_before],
                "loadavg_after": [round(v, 2) for v in os.getloadavg()]}
        runs.append(run)
        print(json.dumps(run), flush=True)
    result = {"dataset": args.dataset, "trials": args.trials, "folds": args.folds,
              "epochs": args.epochs, "seed": args.seed, "cpus": os.cpu_count(),
              "machine": platform.processor() or platform.machine(),
              "tensorflow": plain["tensorflow"], "sides": {s: SIDES[s] for s in sides},
              "runs": runs, "median_speedup": float(np.median([r["speedup"] for r in runs]))}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
