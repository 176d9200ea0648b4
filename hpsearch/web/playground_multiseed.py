"""The page's multi-seed mode: N seeds of the current settings, trained at once, summarised.

Uses the sweep's vectorized path (``playground.Trainer`` over many seeds, blocks on threads via
``run_jobs``), with integer seeds 0..N-1 as ``hpsearch playground sweep`` does, so run k here
equals ``hpsearch playground --seed k`` with the same settings.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from playground.config import PlaygroundConfig
from playground.errors import InvalidValueError
from playground.grid import grid_maps
from playground.sweep import SEPARATED_BELOW
from playground.trainer import Trainer, run_jobs

MAX_SEEDS, MAX_EPOCHS = 500, 5000
CURVE_POINTS = 200  # loss rows kept per run: enough for a smooth band


def multi_seed(config: PlaygroundConfig, seeds: int, epochs: int) -> dict:
    """Train ``seeds`` runs for ``epochs`` epochs; loss bands, separated share, positive map.

    Args:
        config: the settings (the page's current state); its seed is ignored.
        seeds: runs with numpy seeds 0..seeds-1 (1..500).
        epochs: epochs per run (1..5000).

    Returns:
        ``epoch`` (x values), ``train``/``test`` dicts of ``median``, ``q10``, ``q90``
        lists, ``final`` per-run losses, ``separated`` (share of runs with test loss under
        0.05, classification only), ``positive`` (100x100 share of runs classifying each grid
        point positive, row 0 at the top) and ``seconds``.

    Example:
        >>> out = multi_seed(PlaygroundConfig(hidden=(3,)), seeds=4, epochs=20)
        >>> len(out["final"]["test"])
        4
    """
    import time

    if not 1 <= seeds <= MAX_SEEDS:
        raise InvalidValueError(f"seeds={seeds}: choose 1..{MAX_SEEDS}")
    if not 1 <= epochs <= MAX_EPOCHS:
        raise InvalidValueError(f"epochs={epochs}: choose 1..{MAX_EPOCHS}")
    started = time.perf_counter()
    trainer = Trainer(replace(config, seed=0, epochs=epochs), list(range(seeds)))
    every = max(1, epochs // CURVE_POINTS)
    first = trainer.losses()
    jobs, finish = trainer.train_jobs(epochs, record_every=every)
    run_jobs(jobs)
    curves = np.concatenate([first[:, None, :], finish()], axis=1)  # (runs, records, 2)
    xs = [0, *range(every, epochs + 1, every)]
    if xs[-1] != epochs:
        xs.append(epochs)
    weights, biases = trainer.weights(), trainer.biases()
    positive = np.zeros((100, 100))
    for run in range(seeds):
        result = SimpleNamespace(config=trainer.config, layout=trainer.layout,
                                 flat_weights=weights[run], flat_biases=biases[run])
        positive += grid_maps(result)[1][-1] >= 0
    final = curves[:, -1, :]

    def band(column: int) -> dict:
        values = curves[:, :, column]
        return {k: np.quantile(values, q, axis=0).round(6).tolist()
                for k, q in (("median", 0.5), ("q10", 0.1), ("q90", 0.9))}

    return {
        "seeds": seeds, "epochs": epochs, "epoch": xs, "train": band(0), "test": band(1),
        "final": {"train": final[:, 0].tolist(), "test": final[:, 1].tolist()},
        "separated": None if config.is_regression
        else float(np.mean(final[:, 1] < SEPARATED_BELOW)),
        "separated_below": SEPARATED_BELOW,
        "positive": (positive / seeds).round(3).ravel().tolist(),
        "seconds": round(time.perf_counter() - started, 3),
    }
