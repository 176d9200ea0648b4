"""Every private Keras Tuner member hpsearch touches, named once, with why.

Keras Tuner's public surface (a tuner's `run_trial`, an oracle's `populate_space`) covers most
of what we need; the rest (atomic state files, re-queueing an orphaned trial, one tuner
state file for chief and single process) needs members Keras Tuner does
not promise to keep. They are all here, in `PRIVATE_MEMBERS`, and used through the functions
below or overridden under exactly these names. `tests/test_kt_adapter.py` checks each against
the installed Keras Tuner, so an upgrade that moves one fails one named test instead of a
search half-way through.

This is also the one module that imports Keras Tuner for hpsearch: it applies TensorFlow's
settings (`hpsearch.training`) first, so every oracle and the tuner import `kt` from here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hpsearch.training import import_tensorflow_quietly

import_tensorflow_quietly()  # TensorFlow's settings and a quiet start, before Keras Tuner

import keras_tuner as kt  # noqa: E402
from keras_tuner.src import config as _kt_config  # noqa: E402
from keras_tuner.src.distribute import utils as _dist_utils  # noqa: E402

if TYPE_CHECKING:
    from keras_tuner.engine.oracle import Oracle
    from keras_tuner.engine.tuner import Tuner

__all__ = ["PRIVATE_MEMBERS", "PrivateMember", "kt", "missing_members"]


@dataclass(frozen=True)
class PrivateMember:
    """One private Keras Tuner member we rely on.

    Attributes:
        owner: where it lives: a class path ("keras_tuner.Oracle") or a module path.
        name: the member's name.
        kind: "method" (we call or override it), "attribute" (set in `__init__`; checked on
            an instance) or "module" (a `keras_tuner.src` module attribute).
        why: what hpsearch uses it for.
    """

    owner: str
    name: str
    kind: str
    why: str


# owner | name | kind | why hpsearch uses it (one member a line; `missing_members` checks each)
_TABLE = """
keras_tuner.Oracle | _random_values | method | overridden: the first trial is every knob's default (warm start)
keras_tuner.Oracle | _retry_queue | attribute | re-queue a trial orphaned by a kill or a dead worker
keras_tuner.Oracle | _get_oracle_fname | method | where oracle.json goes, for our atomic save
keras_tuner.Oracle | _save_trial | method | overridden: trial.json written atomically
keras_tuner.Oracle | _get_trial_dir | method | where trial.json goes, for our atomic save
keras_tuner.Tuner | _is_worker | method | a worker must not save the chief's oracle
keras_tuner.Tuner | _get_tuner_fname | method | overridden: one tuner0.json for chief or single process, so either resumes
keras_tuner.src.config | DEBUG | module | set off: Keras Tuner would print every failed trial's traceback
keras_tuner.src.distribute.utils | has_chief_oracle | module | is this process part of a distributed search
keras_tuner.src.distribute.utils | is_chief_oracle | module | is this process the chief
"""  # noqa: E501  (a table reads best one member a line)
PRIVATE_MEMBERS: tuple[PrivateMember, ...] = tuple(
    PrivateMember(*(cell.strip() for cell in line.split("|")))
    for line in _TABLE.strip().splitlines())


# ---------------------------------------------------------------------- the uses
def retry_queue(oracle: Oracle) -> list[str]:
    """The oracle's queue of trial ids to run again (mutable: append to re-queue)."""
    queue: list[str] = oracle._retry_queue
    return queue


def oracle_file(oracle: Oracle) -> str:
    """The path of the oracle's oracle.json."""
    return str(oracle._get_oracle_fname())


def trial_file(oracle: Oracle, trial_id: str) -> str:
    """The path of a trial's trial.json."""
    return os.path.join(oracle._get_trial_dir(trial_id), "trial.json")


def is_worker(tuner: Tuner) -> bool:
    """Whether this tuner is a worker of a distributed search."""
    return bool(tuner._is_worker())


def is_distributed_worker() -> bool:
    """Whether this process is a non-chief process of a distributed search."""
    return bool(_dist_utils.has_chief_oracle() and not _dist_utils.is_chief_oracle())


def quiet_failures() -> None:
    """Stop Keras Tuner printing each failed trial's traceback (our record has the reason)."""
    _kt_config.DEBUG = False


# ---------------------------------------------------------------------- the check
def _instance(owner: str) -> object:
    hps = kt.HyperParameters()
    hps.Int("units", 1, 4)
    objective = kt.Objective("val_accuracy", "max")
    if owner == "keras_tuner.Oracle":
        return kt.oracles.RandomSearchOracle(objective=objective, max_trials=1,
                                             hyperparameters=hps)
    if owner == "keras_tuner.oracles.BayesianOptimizationOracle":
        return kt.oracles.BayesianOptimizationOracle(objective=objective, max_trials=1,
                                                     hyperparameters=hps)
    raise ValueError(owner)


def _resolve(path: str) -> object:
    import importlib

    module, _, attr = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ImportError:
        return getattr(importlib.import_module(module), attr)


def missing_members() -> list[str]:
    """Every member of `PRIVATE_MEMBERS` the installed Keras Tuner lacks, with why we need it.

    Returns:
        One line per missing member (empty when this Keras Tuner has all of them).

    Example:
        >>> missing_members()
        []
    """
    missing = []
    for member in PRIVATE_MEMBERS:
        try:
            owner = _resolve(member.owner)
            if member.kind == "attribute":
                owner = _instance(member.owner)
        except (ImportError, AttributeError) as exc:
            missing.append(f"{member.owner} ({exc}); hpsearch uses its {member.name}: {member.why}")
            continue
        if not hasattr(owner, member.name):
            missing.append(f"{member.owner}.{member.name} is gone in keras-tuner "
                           f"{kt.__version__}; hpsearch uses it: {member.why}")
    return missing
