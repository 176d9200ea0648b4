"""Grid search that resumes after any interruption: its place is rebuilt from the trials.

Keras Tuner's `GridSearchOracle` keeps its place in the grid in two in-memory structures (a
linked list of trial ids and a queue of trials to expand) that it never saves. After a restart
the first finished trial it expands is missing from them, and `--resume` died with
`KeyError: '02'` (keras-team/keras-tuner#1055, open on 1.4.8). `GridOracle` keeps no place at
all: it walks the grid in Keras Tuner's own order and hands out the first point that no trial
holds. The oracle's trials are reloaded from their `trial.json` files on every resume, so after
Ctrl-C, SIGTERM or `kill -9`, in one process or with workers, the search continues where it
was: a trial that was running is retried under its own id (the retry queue, `CVOracle.reload`),
a point a trial holds is never handed out again, and none is skipped. Only Keras Tuner's public
surface is used (`trials`, `ongoing_trials`, `get_space`, `HyperParameters`), so nothing here
is in `kt_adapter`.

Every knob must be discrete (a continuous range makes the constructor refuse, which `build`
turns into a one-line error).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from hpsearch.search.kt_adapter import kt
from hpsearch.search.oracles.base import CVOracle


def grid_points(space: Any) -> Iterator[dict[str, Any]]:
    """Every point of a discrete Keras Tuner space once, in `GridSearchOracle`'s order.

    The first point is every knob's default; then the last knob moves fastest, through its
    default first and then its other values in order; a conditional knob takes part only
    where its parent makes it active. A point holds only its active knobs.

    Args:
        space: a `keras_tuner.HyperParameters` whose knobs all have finite `values`.

    Returns:
        An iterator over the points (dicts of knob name -> value).

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> _ = hp.Choice("units", [16, 32]), hp.Choice("activation", ["relu", "tanh"])
        >>> [tuple(p.values()) for p in grid_points(hp)]
        [(16, 'relu'), (16, 'tanh'), (32, 'relu'), (32, 'tanh')]
    """
    hps = space.copy()
    knobs = list(hps.space)
    order = {hp.name: _ordered(hp) for hp in knobs}
    hps.values = {hp.name: hp.default for hp in knobs}
    while True:
        yield {hp.name: hps.values[hp.name] for hp in knobs if hps.is_active(hp)}
        for hp in reversed(knobs):  # the odometer: bump the last active knob that can move
            values = order[hp.name]
            if hps.is_active(hp):
                index = values.index(hps.values[hp.name])
                if index + 1 < len(values):
                    hps.values[hp.name] = values[index + 1]
                    break
            hps.values[hp.name] = hp.default
        else:
            return


def _ordered(hp: Any) -> list[Any]:
    values = list(hp.values)
    if hp.default in values:
        values.remove(hp.default)
    return [hp.default, *values]


def point_key(space: Any, values: Mapping[str, Any]) -> str:
    """One string per grid point: its active knobs (others and `tuner/` entries ignored).

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> _ = hp.Choice("units", [16, 32])
        >>> point_key(hp, {"units": 32, "tuner/epochs": 3})
        '{"units": 32}'
    """
    return _key(space.copy(), values)


def _key(scratch: Any, values: Mapping[str, Any]) -> str:
    """`point_key` on a scratch copy of the space (its values are overwritten)."""
    names = {hp.name for hp in scratch.space}
    scratch.values = {hp.name: hp.default for hp in scratch.space} | {
        k: v for k, v in values.items() if k in names}
    active = {hp.name: values[hp.name] for hp in scratch.space
              if hp.name in values and scratch.is_active(hp)}
    return json.dumps(active, sort_keys=True, default=str)


def grid_progress(space: Any, done: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    """(distinct grid points among `done`, points in the grid).

    Args:
        space: the search's `keras_tuner.HyperParameters` (`Space.declare()`).
        done: the values of the finished trials.

    Returns:
        How many different points the finished trials cover, and the grid's size.

    Example:
        >>> import keras_tuner as kt
        >>> hp = kt.HyperParameters()
        >>> _ = hp.Choice("units", [16, 32, 64])
        >>> grid_progress(hp, [{"units": 16}, {"units": 16}, {"units": 64}])
        (2, 3)
    """
    size = sum(1 for _ in grid_points(space))
    scratch = space.copy()
    return len({_key(scratch, values) for values in done}), size


class GridOracle(CVOracle, kt.oracles.GridSearchOracle):
    """Walks the grid of the discrete knobs in order, up to `max_trials` points.

    The next point is the first one in grid order that no trial of `self.trials` holds. A
    cursor skips the points already known to be taken (trials are never removed, so a taken
    point stays taken); a new oracle, e.g. on `--resume`, starts it from the top and skips
    every point the reloaded trials hold.
    """

    name = "grid"

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        status = kt.engine.trial.TrialStatus
        space = self.get_space()
        scratch = space.copy()
        taken = {_key(scratch, t.hyperparameters.values) for t in self.trials.values()}
        walk = self.__dict__.setdefault("_grid_walk", {"points": grid_points(space),
                                                       "point": None})
        while True:
            if walk["point"] is None:
                walk["point"] = next(walk["points"], None)
                if walk["point"] is None:
                    break
            if _key(scratch, walk["point"]) not in taken:
                return {"status": status.RUNNING, "values": dict(walk["point"])}
            walk["point"] = None
        if self.ongoing_trials:  # the rest is running; a failed worker's trial comes back
            return {"status": status.IDLE, "values": None}
        return {"status": status.STOPPED, "values": None}
