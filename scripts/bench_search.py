"""Benchmark: search quality per wall time, hpsearch vs Optuna vs Keras Tuner, side by side.

Every side searches the same space (the small one a typical user writes: 1-3 layers of 32-256
units on a log scale, relu or tanh, sgd/adam/rmsprop, learning rate 1e-4-1e-1 log and constant,
batch 32 or 128, no dropout or penalties), on the same stratified folds (hpsearch's own
`split_indices`, seeded), for the same epochs, and scores a trial the same way: the mean over
folds of each fold's **last-epoch** validation accuracy (`cv_score`; never the best epoch picked
on the validation fold). Each side gets one wall-time budget (`--budget`, default 300 s), and
only trials that finished inside it count.

Sides (each run in a fresh process of its own; imports and data loading are not timed):
- `hpsearch`: `hpsearch tune` as users run it (`--tuner`, default bayesian; pruning on), with
  its warm start: the first trial is every knob's default;
- `hpsearch-cold`: the same search from a poor first trial (a space file whose defaults are
  1 layer of 32 tanh units, sgd at 1e-4);
- variants named by suffix: `-tpe` (`--tuner tpe`), `-allpeers` (the median over every trial
  at the epoch), `-asha` (`--pruner asha`: successive halving);
- `optuna`: Optuna's TPE + MedianPruner (its defaults) with a plain Keras k-fold loop that
  reports every fold's every epoch as a step;
- `keras-tuner`: Keras Tuner's own `BayesianOptimization` (or `--kt-tuner hyperband`) with a
  hand-written k-fold loop in `HyperModel.fit`.

Seeds run interleaved (seed 0: every side, then seed 1, ...; the side order rotates per seed),
so the sides share the machine's conditions; the load average is printed with every run.
Prints each run's best-so-far trajectory, then per side the median over seeds of the best CV
at the budget and at a third of it, and for warm hpsearch how much of its best came from its
first trial.

    python scripts/bench_search.py --data-dir DIR                 # the issue's: 300 s x 3 seeds
    python scripts/bench_search.py --dataset fashion-mnist-sample --budget 60
    python scripts/bench_search.py --data-dir DIR --train-size 20000 --budget 120
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
from typing import Any

import numpy as np
from bench_common import plain_keras_model

# The space, as a space file: every side derives its own search from these knobs.
USER_SPACE = """
[layers]
min = 1
max = 3
default = {layers}
[units]
min = 32
max = 256
sampling = "log"
default = {units}
[activation]
values = ["relu", "tanh"]
default = "{activation}"
[optimizer]
values = ["sgd", "adam", "rmsprop"]
default = "{optimizer}"
[learning_rate]
min = 1e-4
max = 1e-1
sampling = "log"
default = {learning_rate}
[lr_schedule]
value = "constant"
[batch_size]
values = [32, 128]
default = 128
[kernel_regularizer]
value = "none"
[activity_regularizer]
value = "none"
[dropout]
value = "none"
[label_smoothing]
value = 0.0
[input_scaling]
value = "none"
"""
WARM = {"layers": 2, "units": 256, "activation": "relu", "optimizer": "adam",
        "learning_rate": 1e-3}  # hpsearch's own defaults, clamped into this space
COLD = {"layers": 1, "units": 32, "activation": "tanh", "optimizer": "sgd",
        "learning_rate": 1e-4}  # a poor first trial
SIDES = {"hpsearch": "hpsearch tune, warm start (first trial = the defaults)",
         "hpsearch-cold": "hpsearch tune from a poor first trial (1 x 32 tanh, sgd 1e-4)",
         "hpsearch-tpe": "hpsearch tune --tuner tpe, warm start",
         "hpsearch-tpe-cold": "hpsearch tune --tuner tpe from the poor first trial",
         "hpsearch-allpeers": "hpsearch, pruning median over every trial at the epoch",
         "hpsearch-cold-allpeers": "hpsearch-cold, pruning median over every trial",
         "hpsearch-tpe-allpeers": "hpsearch-tpe, pruning median over every trial",
         "hpsearch-tpe-cold-allpeers": "hpsearch-tpe-cold, pruning median over every trial",
         "hpsearch-asha": "hpsearch, successive halving (--pruner asha)",
         "hpsearch-cold-asha": "hpsearch-cold, successive halving (--pruner asha)",
         "hpsearch-tpe-asha": "hpsearch-tpe, successive halving (--pruner asha)",
         "hpsearch-tpe-cold-asha": "hpsearch-tpe-cold, successive halving (--pruner asha)",
         "optuna": "Optuna TPE + MedianPruner, plain Keras k-fold loop",
         "keras-tuner": "Keras Tuner's own oracle, hand-written k-fold loop"}


class DeadlinePassed(Exception):
    """The budget ran out inside a trial: the trial does not count."""


# ---------------------------------------------------------------- shared by every side
def cv_score(fold_histories: list[dict[str, list[float]]]) -> float:
    """A trial's score on every side: the mean over folds of each fold's last-epoch
    validation accuracy.

    Args:
        fold_histories: one Keras-style history per fold (`{"val_accuracy": [...], ...}`).

    Returns:
        The mean of the folds' last `val_accuracy`.

    Example:
        >>> cv_score([{"val_accuracy": [0.5, 0.8]}, {"val_accuracy": [0.6, 0.7]}])
        0.75
    """
    return float(np.mean([h["val_accuracy"][-1] for h in fold_histories]))


def trial_entry(start: float, status: str, histories: list[dict[str, list[float]]] | None,
                **extra: Any) -> dict[str, Any]:
    """One finished trial as every side records it: when it ended, its status, its score by
    `cv_score`, and what the score was made of (each fold's last val_accuracy, epochs run and
    validation size), so a test can check every side scored the same way."""
    entry = {"t": time.time() - start, "status": status, "score": None} | extra
    if histories:
        entry |= {"score": cv_score(histories),
                  "folds_last": [h["val_accuracy"][-1] for h in histories],
                  "epochs_run": [len(h["val_accuracy"]) for h in histories]}
    return entry


def write_space(directory: Path, cold: bool) -> Path:
    """The user space as a TOML file, with warm (hpsearch's) or cold (poor) defaults."""
    path = directory / ("cold.toml" if cold else "warm.toml")
    path.write_text(USER_SPACE.format(**(COLD if cold else WARM)), encoding="utf-8")
    return path


def load_space(directory: Path, cold: bool, epochs: int):
    from hpsearch.search.space import build_space

    return build_space(write_space(directory, cold), fixes=[f"epochs={epochs}", "patience=0"])


def subset(data, size: int | None, seed: int = 0):
    """A stratified `size`-image slice of the training set (all of it when None), so a
    scaled-down run keeps the class balance; the test set is never used here."""
    if not size or size >= len(data.y_train):
        return data
    from dataclasses import replace

    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(data.y_train)), train_size=size,
                               stratify=data.y_train, random_state=seed)
    keep = np.sort(keep)
    return replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])


def folds_of(data, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds every side uses: hpsearch's own stratified, seeded split."""
    from hpsearch.training.evaluate import Protocol, split_indices

    return [(s[0], s[1]) for s in split_indices(Protocol.kfold(folds), data.y_train, seed)]


def plain_kfold(cfg, data, splits, epochs: int, deadline: float,
                on_epoch=None) -> list[dict[str, list[float]]]:
    """The k-fold loop a user writes: a fresh `Sequential` per fold, `Model.fit` with the
    fold's validation data; `on_epoch(fold, epoch, val_accuracy)` may raise to stop (a
    pruner). Raises DeadlinePassed when the budget runs out mid-trial."""
    import keras

    x, y = data.x_train, keras.utils.to_categorical(data.y_train, data.num_classes)

    class Hook(keras.callbacks.Callback):
        def __init__(self, fold: int) -> None:
            super().__init__()
            self.fold = fold

        def on_epoch_end(self, epoch, logs=None):
            if time.time() > deadline:
                raise DeadlinePassed
            if on_epoch is not None:
                on_epoch(self.fold, epoch, float(logs["val_accuracy"]))

    histories = []
    for fold, (train, val) in enumerate(splits):
        model = plain_keras_model(cfg, data)
        history = model.fit(x[train], y[train], batch_size=cfg.batch_size, epochs=epochs,
                            validation_data=(x[val], y[val]), verbose=0,
                            callbacks=[Hook(fold)])
        histories.append({k: [float(v) for v in vs] for k, vs in history.history.items()})
    return histories


# ---------------------------------------------------------------- the sides
def hpsearch_side(space, data, args, directory: Path, start: float) -> list[dict[str, Any]]:
    """`hpsearch tune` in process, with `--time-budget`: every trial's end time and score."""
    from hpsearch.search.project import Project
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import Hooks, build_tuner, run_search

    side = args.side or ""  # the side's name says its variant: -tpe, -cold, -allpeers, -asha
    tuner = "tpe" if "-tpe" in side else args.tuner
    peers = "all" if "-allpeers" in side else args.prune_peers
    pruner = "asha" if "-asha" in side else "median"
    settings = TuneSpec(tuner=tuner, max_trials=100_000, folds=args.folds, seed=args.seed,
                        prune=not args.no_prune, prune_peers=peers, pruner=pruner)
    project = Project(directory)
    project.open({"fingerprint": space.fingerprint(), "tuner": tuner,
                  "folds": args.folds, "dataset": data.name, "data_dir": args.data_dir,
                  "seed": args.seed, "prune": settings.prune, "max_trials": 100_000,
                  "space": space.to_dict(), "settings": settings.__dict__},
                 resume=False, overwrite=False)
    trials: list[dict[str, Any]] = []

    def ended(record) -> None:
        ok = record.status == "ok"
        trials.append(trial_entry(
            start, record.status, [f["history"] for f in record.folds] if ok else None,
            reported=record.mean if ok else None, n_val=[f["n_val"] for f in record.folds]))

    tuner = build_tuner(space, settings, project, Hooks(trial_end=ended))
    run_search(tuner, data, deadline=start + args.budget)
    return trials


def optuna_side(space, data, args, start: float) -> list[dict[str, Any]]:
    """Optuna's TPE + MedianPruner (defaults), `timeout=budget`, a plain Keras k-fold loop."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    splits = folds_of(data, args.folds, args.seed)
    deadline = start + args.budget
    trials: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        config = space.to_config(suggest(trial, space), epochs=args.epochs)

        def report(fold: int, epoch: int, value: float) -> None:
            trial.report(value, step=fold * args.epochs + epoch)
            if trial.should_prune():
                raise optuna.TrialPruned

        try:
            histories = plain_kfold(config, data, splits, args.epochs, deadline, report)
        except optuna.TrialPruned:
            trials.append(trial_entry(start, "pruned", None, number=trial.number))
            raise
        trials.append(trial_entry(start, "ok", histories, number=trial.number,
                                  n_val=[len(v) for _, v in splits]))
        return trials[-1]["score"]

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=args.seed),
                                pruner=optuna.pruners.MedianPruner())
    try:
        study.optimize(objective, timeout=args.budget)
    except DeadlinePassed:
        pass
    for entry in trials:  # what Optuna recorded as each trial's value
        entry["reported"] = study.trials[entry.pop("number")].value
    return trials


def suggest(trial, space) -> dict[str, Any]:
    """The space's knobs as Optuna's define-by-run calls (units per layer, as KT's units_i)."""
    values: dict[str, Any] = {}
    for name in space.searched():
        knob = space.knobs[name]
        if name == "units":
            continue
        if knob.values:
            values[name] = trial.suggest_categorical(name, list(knob.values))
        elif isinstance(knob.min, int) and isinstance(knob.max, int):
            values[name] = trial.suggest_int(name, knob.min, knob.max,
                                             log=knob.sampling == "log")
        else:
            values[name] = trial.suggest_float(name, knob.min, knob.max,
                                               log=knob.sampling == "log")
    units = space.knobs["units"]
    for index in range(int(values.get("layers", space.knobs["layers"].default))):
        values[f"units_{index}"] = trial.suggest_int(f"units_{index}", int(units.min),
                                                     int(units.max), log=True)
    return values


def keras_tuner_side(space, data, args, directory: Path, start: float) -> list[dict[str, Any]]:
    """Keras Tuner's own BayesianOptimization / Hyperband, hand-written k-fold in `fit`."""
    import keras_tuner as kt

    from hpsearch.search.oracles.base import oracle_seed

    splits = folds_of(data, args.folds, args.seed)
    deadline = start + args.budget
    trials: list[dict[str, Any]] = []

    class KFoldHyperModel(kt.HyperModel):
        def build(self, hp):
            return plain_keras_model(space.to_config(hp.values, epochs=args.epochs), data)

        def fit(self, hp, model, *fit_args, **kwargs):
            epochs = int(hp.values.get("tuner/epochs", args.epochs))
            config = space.to_config(hp.values, epochs=epochs)
            histories = plain_kfold(config, data, splits, epochs, deadline)
            # Hyperband's short rungs are not full-budget scores: only full ones count.
            status = "ok" if epochs == args.epochs else "rung"
            trials.append(trial_entry(start, status, histories, trial_id=running[0],
                                      n_val=[len(v) for _, v in splits]))
            return trials[-1]["score"]

    running = [""]

    class Timed:
        def pre_create_trial(self) -> None:
            if time.time() > deadline:
                raise DeadlinePassed

        def run_trial(self, trial, *fit_args, **kwargs):
            running[0] = trial.trial_id
            return super().run_trial(trial, *fit_args, **kwargs)

    common = {"objective": kt.Objective("val_accuracy", "max"), "seed": oracle_seed(args.seed),
              "hyperparameters": space.declare(), "directory": str(directory),
              "project_name": "kt", "overwrite": True}
    if args.kt_tuner == "hyperband":
        tuner = type("T", (Timed, kt.Hyperband), {})(
            KFoldHyperModel(), max_epochs=args.epochs, hyperband_iterations=1000, **common)
    else:
        tuner = type("T", (Timed, kt.BayesianOptimization), {})(
            KFoldHyperModel(), max_trials=100_000, **common)
    try:
        tuner.search(verbose=0)
    except DeadlinePassed:
        pass
    for entry in trials:  # what Keras Tuner's oracle recorded as each trial's score
        entry["reported"] = tuner.oracle.trials[entry.pop("trial_id")].score
    return trials


# ---------------------------------------------------------------- one side, one process
def one_side(args: argparse.Namespace) -> None:
    """Child process: run one side for one seed; print its trials as one JSON line."""
    if args.side in ("optuna", "keras-tuner"):
        import tensorflow  # noqa: F401 - loaded before hpsearch, with TensorFlow's settings
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench this checkout
    import keras_tuner  # noqa: F401 - imported before the clock starts, on every side

    from hpsearch.data import load_dataset

    data = subset(load_dataset(args.dataset, args.data_dir), args.train_size)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(args.keep) / f"{args.side}-seed{args.seed}" if args.keep \
            else Path(tmp) / "project"
        space = load_space(Path(tmp), "-cold" in args.side, args.epochs)
        start = time.time()
        if args.side.startswith("hpsearch"):
            trials = hpsearch_side(space, data, args, directory, start)
        elif args.side == "optuna":
            trials = optuna_side(space, data, args, start)
        else:
            trials = keras_tuner_side(space, data, args, directory, start)
        wall = time.time() - start
    print(json.dumps({"trials": trials, "wall": wall, "train_size": len(data.y_train)}))


def run_side(side: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--side", side, "--seed", str(seed),
               "--dataset", args.dataset, "--budget", str(args.budget),
               "--folds", str(args.folds), "--epochs", str(args.epochs),
               "--tuner", args.tuner, "--kt-tuner", args.kt_tuner,
               "--prune-peers", args.prune_peers]
    for flag, value in (("--data-dir", args.data_dir), ("--train-size", args.train_size),
                        ("--keep", args.keep)):
        if value:
            command += [flag, str(value)]
    if args.no_prune:
        command.append("--no-prune")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench_search: the {side} side (seed {seed}) failed: "
                 f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- summaries
def best_by(trials: list[dict[str, Any]], t: float) -> float | None:
    """Best full-budget score among trials finished by `t` seconds (None: none yet)."""
    scores = [x["score"] for x in trials if x["status"] == "ok" and x["t"] <= t]
    return max(scores) if scores else None


def trajectory(trials: list[dict[str, Any]], budget: float) -> list[list[float]]:
    """[seconds, best so far] at every improvement inside the budget."""
    points, best = [], None
    for trial in sorted(trials, key=lambda x: x["t"]):
        if trial["status"] == "ok" and trial["t"] <= budget and \
                (best is None or trial["score"] > best):
            best = trial["score"]
            points.append([round(trial["t"], 1), round(best, 4)])
    return points


def summarize_run(side: str, out: dict[str, Any], budget: float) -> dict[str, Any]:
    trials = [t for t in out["trials"] if t["t"] <= budget]
    row = {"side": side, "trials_finished": len(trials),
           "ok": sum(t["status"] == "ok" for t in trials),
           "pruned": sum(t["status"] == "pruned" for t in trials),
           "best_at_budget": best_by(out["trials"], budget),
           "best_at_third": best_by(out["trials"], budget / 3),
           "trajectory": trajectory(out["trials"], budget)}
    if side.startswith("hpsearch") and out["trials"]:
        first = min(out["trials"], key=lambda t: t["t"])
        row["first_trial"] = first["score"]
        row["first_trial_at"] = round(first["t"], 1)
        if row["best_at_budget"] is not None and first["score"] is not None:
            row["gain_over_first"] = round(row["best_at_budget"] - first["score"], 4)
    return row


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(float(np.median(known)), 4) if known else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=os.environ.get("HPSEARCH_DATA_DIR"),
                        help="IDX files of full Fashion-MNIST (default: $HPSEARCH_DATA_DIR)")
    parser.add_argument("--train-size", type=int, default=None,
                        help="a stratified slice of this many training images (scaled-down "
                             "runs; default: all)")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per side")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--sides", nargs="+", choices=sorted(SIDES),
                        default=["hpsearch", "hpsearch-cold", "optuna", "keras-tuner"])
    parser.add_argument("--tuner", default="bayesian", help="hpsearch's --tuner")
    parser.add_argument("--kt-tuner", choices=("bayesian", "hyperband"), default="bayesian")
    parser.add_argument("--no-prune", action="store_true", help="hpsearch with --no-prune")
    parser.add_argument("--prune-peers", choices=("finished", "all"), default="finished",
                        help="hpsearch's pruning median over finished trials only, or over "
                             "every trial that reached the epoch")
    parser.add_argument("--keep", default=None,
                        help="keep the hpsearch and Keras Tuner projects under this directory "
                             "(for scripts/study_search.py)")
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--side", choices=sorted(SIDES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_side(args)
        return

    runs = []
    for index, seed in enumerate(args.seeds):
        order = args.sides[index % len(args.sides):] + args.sides[:index % len(args.sides)]
        for side in order:
            load_before = os.getloadavg()[0]
            out = run_side(side, seed, args)
            row = summarize_run(side, out, args.budget) | {
                "seed": seed, "loadavg_1min_before": round(load_before, 2),
                "loadavg_1min_after": round(os.getloadavg()[0], 2),
                "train_size": out["train_size"]}
            runs.append(row)
            print(json.dumps(row), flush=True)
    summary: dict[str, Any] = {}
    for side in args.sides:
        rows = [r for r in runs if r["side"] == side]
        summary[side] = {
            "median_best_at_budget": median([r["best_at_budget"] for r in rows]),
            "median_best_at_third": median([r["best_at_third"] for r in rows]),
            "best_at_budget_per_seed": [r["best_at_budget"] for r in rows],
            "median_trials": median([r["trials_finished"] for r in rows]),
            "median_pruned": median([r["pruned"] for r in rows])}
        if side.startswith("hpsearch"):
            summary[side]["gain_over_first_per_seed"] = [r.get("gain_over_first")
                                                         for r in rows]
            summary[side]["seeds_whose_best_is_the_first_trial"] = sum(
                r.get("gain_over_first") == 0 for r in rows)
    result = {"dataset": args.dataset, "train_size": runs[0]["train_size"] if runs else None,
              "budget_s": args.budget, "folds": args.folds, "epochs": args.epochs,
              "seeds": args.seeds, "hpsearch_tuner": args.tuner, "kt_tuner": args.kt_tuner,
              "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
              "sides": {s: SIDES[s] for s in args.sides}, "summary": summary}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
