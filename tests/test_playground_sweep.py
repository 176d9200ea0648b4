"""Sweeps: equal to single runs, and the 2-vs-3-neuron behaviour on the circle."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from playground.config import PlaygroundConfig
from playground.sweep import TASK6_CONFIGS, run_sweep
from playground.trainer import Trainer, simulate


def test_sweep_runs_equal_single_runs_with_the_same_seeds():
    base = PlaygroundConfig(dataset="circle", hidden=(3,), epochs=30)
    rows = run_sweep(base, [(3, "l1", 0.003)], seeds=5, epochs=30)
    for seed in range(5):
        single = simulate(replace(base, regularization="l1", reg_rate=0.003, seed=seed))
        assert rows[0].train_loss[seed] == single.train_loss[-1]
        assert rows[0].test_loss[seed] == single.test_loss[-1]


def test_blocked_parallel_training_equals_one_block():
    config = PlaygroundConfig(dataset="xor", hidden=(4, 2), activation="relu", epochs=20)
    one = Trainer(config, range(20), blocks=1)
    two = Trainer(config, range(20), blocks=2)
    a, b = one.train(20, record_every=5), two.train(20, record_every=5)
    assert a.shape == (20, 4, 2)
    assert np.array_equal(a, b)
    assert np.array_equal(one.weights(), two.weights())


def test_two_neurons_cannot_enclose_the_disc_three_can():
    base = PlaygroundConfig(dataset="circle", hidden=(2,), epochs=400)
    two, three = run_sweep(base, [(2, "none", 0.0), (3, "none", 0.0)], seeds=12, epochs=400)
    assert np.all(two.test_loss > 0.1)  # stuck on every seed: an unbounded region
    assert np.median(three.test_loss) < 0.05
    assert three.summary()["separated_fraction"] >= 0.5
    assert np.median(three.train_loss) < np.median(two.train_loss) / 5


def test_task6_configs_and_summary_keys():
    assert TASK6_CONFIGS == ((2, "none", 0.0), (3, "none", 0.0), (4, "l1", 0.003),
                             (4, "l2", 0.003))
    base = PlaygroundConfig(dataset="circle", hidden=(2,), epochs=5)
    row = run_sweep(base, [(4, "l1", 0.003)], seeds=3, epochs=5)[0]
    summary = row.summary()
    for key in ("nodes", "reg", "reg_rate", "train_loss_median", "test_loss_median",
                "train_loss_q10", "train_loss_q90", "test_loss_q10", "test_loss_q90",
                "separated_fraction"):
        assert key in summary
    assert summary["train_loss_q10"] <= summary["train_loss_median"] <= summary["train_loss_q90"]


def test_task6_texts_quote_this_runs_numbers():
    from playground.sweep import SweepRow, lab_versus_run, task6_explanation

    two = SweepRow(2, "none", 0.0, np.array([0.15, 0.18, 0.2, 0.22, 0.25]),
                   np.array([0.01, 0.24, 0.27, 0.3, 0.33]), np.zeros(5))
    text = task6_explanation([two])
    assert "median 0.270" in text and "80% of seeds stay above 0.05" in text
    assert "0.2-0.3 on every seed" not in text
    line = lab_versus_run([two])  # the lab's 2-neuron site run: train 0.167, test 0.282
    q10 = np.quantile(two.train_loss, 0.1)
    assert line.startswith("2 neurons, no reg: train 0.167 ")
    assert ("inside" if q10 <= 0.167 else "below") in line.split(";")[0]
    assert "test 0.282 inside" in line
