"""What the oracle tests share: the bench's typical-user space, an oracle over it, a
synthetic problem with a known best, and a real small search on disk.

Its own module (like web_support.py) so test_tpe and test_surrogate use one copy, and
neither test module has to import the other (test_tpe skips itself without Optuna).
"""

from __future__ import annotations

import math

from script_support import script


def user_space(tmp_path, epochs=2):
    """The space a typical user writes (scripts/bench_search.py), with poor defaults (1 x 32
    tanh, sgd at 1e-4): a cold start."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return script("bench_search").load_space(tmp_path, cold=True, epochs=epochs)


def make_test_oracle(space, tmp_path, tuner, seed=0, max_trials=100):
    """A ready oracle of `tuner` over `space`, its state under `tmp_path`."""
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import make_oracle

    oracle = make_oracle(space, TuneSpec(tuner=tuner, max_trials=max_trials, seed=seed))
    oracle._set_project_dir(str(tmp_path / "kt"), "p")
    return oracle


def synthetic_score(values: dict) -> float:
    """A known best: 2 layers, relu, adam, batch 32, learning rate 3e-3 (units don't matter).
    Each wrong choice costs 0.1; the rate costs 0.05 per factor e away from 3e-3."""
    score = 1.0
    score -= 0.1 * (values["layers"] != 2) + 0.1 * (values["activation"] != "relu")
    score -= 0.1 * (values["optimizer"] != "adam") + 0.1 * (values["batch_size"] != 32)
    score -= 0.05 * abs(math.log(values["learning_rate"] / 3e-3))
    return score


def is_best(values: dict) -> bool:
    return (values["layers"], values["activation"], values["optimizer"],
            values["batch_size"]) == (2, "relu", "adam", 32) and \
        abs(math.log(values["learning_rate"] / 3e-3)) < math.log(2)


def run_synthetic(oracle, trials: int) -> int | None:
    """Drive the oracle as Keras Tuner's search loop does; the trial number (1-based) at
    which the known best was first proposed, or None."""
    for number in range(1, trials + 1):
        trial = oracle.create_trial("tuner0")
        values = trial.hyperparameters.values
        oracle.update_trial(trial.trial_id, {"val_accuracy": synthetic_score(values)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        if is_best(values):
            return number
    return None


def searched_project(tmp_path, data, space, settings):
    """A real search of `space` under `settings` on `data`, run to its end in a project
    under `tmp_path`; returns the project."""
    from hpsearch.search.project import Project
    from hpsearch.search.tuner import build_tuner, run_search

    project = Project(tmp_path / "p")
    project.open({"fingerprint": space.fingerprint(), "tuner": settings.tuner,
                  "folds": settings.folds, "dataset": data.name, "data_dir": None,
                  "seed": settings.seed, "prune": settings.prune,
                  "max_trials": settings.max_trials, "space": space.to_dict(),
                  "settings": settings.__dict__}, resume=False, overwrite=False)
    run_search(build_tuner(space, settings, project), data)
    return project
