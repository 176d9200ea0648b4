"""The resumable grid: every point once, in Keras Tuner's order, whatever trials exist already."""

from __future__ import annotations

import itertools
import json

import pytest

from hpsearch.config import ModelConfig
from hpsearch.search.oracles import make_oracle
from hpsearch.search.oracles.grid import grid_points, grid_progress, point_key
from hpsearch.search.space import build_space
from hpsearch.search.spec import TuneSpec

PINNED = {"optimizer": "adam", "learning_rate": 0.001, "activity_regularizer": "none",
          "dropout": "none"}


def _space(tmp_path, **knobs):
    lines = []
    for name, spec in {**{k: {"value": v} for k, v in PINNED.items()}, **knobs}.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in spec.items()]
    path = tmp_path / "grid.toml"
    path.write_text("\n".join(lines) + "\n")
    return build_space(str(path), [], ModelConfig())


def test_every_point_once_with_conditional_knobs(tmp_path) -> None:
    """layers 1-2 with per-layer units, and kernel_rate only where kernel_regularizer is on:
    1 layer: 2 units; 2 layers: 4 units; x 2 activations x (none + l2 x 2 rates) = 36."""
    space = _space(tmp_path, layers={"min": 1, "max": 2}, units={"values": [16, 32]},
                   activation={"values": ["relu", "tanh"]}, batch_size={"value": 256},
                   kernel_regularizer={"values": ["none", "l2"]},
                   kernel_rate={"values": [1e-5, 1e-4]})
    points = list(grid_points(space.declare()))
    assert len(points) == 36
    assert len({json.dumps(p, sort_keys=True) for p in points}) == 36
    assert points[0]["layers"] == 2 and points[0]["kernel_regularizer"] == "none"  # defaults
    assert all(("kernel_rate" in p) == (p["kernel_regularizer"] == "l2") for p in points)
    assert all(("units_1" in p) == (p["layers"] == 2) for p in points)
    assert grid_progress(space.declare(), points[:5] + points[:2]) == (5, 36)


def _trial(space, trial_id: str, values: dict, status: str):
    from keras_tuner.engine.trial import Trial

    hps = space.declare()
    hps.values = dict(values)
    return Trial(hyperparameters=hps, trial_id=trial_id, status=status)


@pytest.mark.parametrize("taken", [(0, 1), (0, 1, 3), (5, 2, 0)])
def test_the_oracle_hands_out_exactly_the_points_no_trial_holds(tmp_path, taken) -> None:
    """What `--resume` (or a worker joining late) meets: trials already hold some points, in
    any order (workers finish out of order); the rest come out once each, then the search
    waits for running trials (IDLE) or stops."""
    space = _space(tmp_path, units={"values": [16, 32, 64]},
                   activation={"values": ["relu", "tanh"]}, batch_size={"value": 256},
                   layers={"value": 1}, kernel_regularizer={"value": "none"})
    points = list(grid_points(space.declare()))
    assert len(points) == 6
    oracle = make_oracle(space, TuneSpec(tuner="grid", max_trials=30))
    for n, index in enumerate(taken):
        oracle.trials[f"{n:02d}"] = _trial(space, f"{n:02d}", points[index], "COMPLETED")
    handed = []
    for n in itertools.count(len(taken)):
        response = oracle.populate_space(f"{n:02d}")
        if response["status"] != "RUNNING":
            break
        handed.append(response["values"])
        oracle.trials[f"{n:02d}"] = _trial(space, f"{n:02d}", response["values"], "RUNNING")
        assert n < 10, "the grid never ends"
    scratch = space.declare()
    keys = [point_key(scratch, p) for p in points]
    assert [point_key(scratch, v) for v in handed] == [k for i, k in enumerate(keys)
                                                       if i not in taken]
    assert response["status"] == "STOPPED"
    oracle.ongoing_trials["worker0"] = oracle.trials["00"]
    assert oracle.populate_space("99")["status"] == "IDLE"


def test_resume_of_a_finished_grid_says_so_in_one_line(tmp_path, cli) -> None:
    space = tmp_path / "grid.toml"
    space.write_text('[layers]\nvalue = 1\n[units]\nvalues = [16, 32, 64]\n[activation]\n'
                     'values = ["relu", "tanh"]\n[optimizer]\nvalue = "adam"\n'
                     '[learning_rate]\nvalue = 0.001\n[batch_size]\nvalue = 256\n'
                     '[kernel_regularizer]\nvalue = "none"\n[activity_regularizer]\n'
                     'value = "none"\n[dropout]\nvalue = "none"\n')
    project = tmp_path / "p"
    code, _, err = cli("tune", "-o", str(project), "--tuner", "grid", "--space", str(space),
                       "--max-trials", "4", "-k", "2", "--epochs", "1", "--dataset",
                       "fashion-mnist-sample", "-q")
    assert code == 0, err
    code, out, err = cli("tune", "-o", str(project), "--resume", "-q")
    assert code == 0 and err == ("resume: all 4 trials of --max-trials 4 are done and the grid "
                                 "has 2 more of its 6 points; raise --max-trials to run them\n")
    code, _, err = cli("tune", "-o", str(project), "--resume", "--max-trials", "10", "-q")
    assert code == 0 and err == ""
    records = [json.loads(p.read_text()) for p in (project / "trials").glob("*.json")]
    assert len({(r["params"]["units_0"], r["params"]["activation"]) for r in records}) == 6
    assert len(records) == 6
    code, _, err = cli("tune", "-o", str(project), "--resume", "-q")
    assert code == 0 and err == (f"resume: the grid's 6 points are all done (6 trials in "
                                 f"{project}); nothing left to run\n")
