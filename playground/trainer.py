"""Set up runs the way the site does at page load, and train them with the kernel.

Page-load order on the site: seed the stream, generate the data set, shuffle and split it,
then draw the network's weights from the same stream. ``Trainer`` holds the state of one or
many runs of the same configuration (one per seed) so sweeps and single runs share one path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .config import PlaygroundConfig
from .datasets import Dataset, generate
from .errors import InvalidValueError
from .features import build_features
from .network import Layout, init_weights
from .rng import make_stream


def worker_count() -> int:
    """CPUs this process may use (threads for blocks of runs)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run_jobs(jobs: Sequence[Callable[[], None]], workers: int | None = None) -> None:
    """Run kernel calls on up to ``workers`` threads, taken in the given order.

    The kernels release the GIL, so plain threads run them in parallel. Give the biggest
    jobs first: each idle thread takes the next one (greedy longest-first balancing).
    """
    workers = min(workers or worker_count(), len(jobs))
    if workers <= 1:
        for job in jobs:
            job()
        return
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


@dataclass
class RunResult:
    """One run's history (epoch 0 = before training) and final parameters."""

    config: PlaygroundConfig
    data: Dataset
    epoch: list[int]
    train_loss: list[float]
    test_loss: list[float]
    weights: list[list[list[float]]]  # per layer: [dest][source]
    biases: list[list[float]]
    dead: list[list[list[bool]]]
    layout: Layout = field(repr=False)
    flat_weights: np.ndarray = field(repr=False)
    flat_biases: np.ndarray = field(repr=False)

    def to_json(self) -> dict:
        return {
            "config": self.config.to_dict(),
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "weights": self.weights,
            "biases": self.biases,
            "dead_links": self.dead,
        }


class Trainer:
    """R independent runs of one configuration that differ only in their seed.

    Per-run arrays are stored as (blocks, ..., runs_per_block) so the kernel's inner loops
    run over contiguous runs; blocks can train on separate threads (see ``run_jobs``).
    """

    def __init__(self, config: PlaygroundConfig, seeds: Sequence[str | int] | None = None,
                 blocks: int | None = None):
        self.config = config
        seeds = [config.seed] if seeds is None else list(seeds)
        if not seeds:
            raise InvalidValueError("no seeds to run; give at least one")
        self.layout = Layout.from_shape(config.shape)
        self.data: list[Dataset] = []
        weights, biases = [], []
        for seed in seeds:
            stream = make_stream(seed)
            data = generate(config.dataset, stream, config.noise, config.ratio)
            w, b = init_weights(self.layout, stream)  # drawn right after the data, as at load
            self.data.append(data)
            weights.append(w)
            biases.append(b)
        self.runs = len(seeds)
        if blocks is None:
            blocks = min(worker_count(), max(1, self.runs // 8))
        self.blocks = max(1, min(blocks, self.runs))
        self.per_block = -(-self.runs // self.blocks)
        feats = config.features
        self.xtr = self._pack([build_features(d.train_xy, feats) for d in self.data])
        self.ytr = self._pack([d.train_y for d in self.data])
        self.xte = self._pack([build_features(d.test_xy, feats) for d in self.data])
        self.yte = self._pack([d.test_y for d in self.data])
        self.w = self._pack(weights)
        self.b = self._pack(biases)
        self.dead = np.zeros_like(self.w, dtype=np.bool_)
        self.gw = np.zeros_like(self.w)
        self.gb = np.zeros_like(self.b)
        self.count = np.zeros((self.blocks, 1), dtype=np.int64)  # examples since last update
        self.epoch = 0
        self._codes = (
            engine.ACT_CODES[config.activation],
            engine.ACT_CODES["linear" if config.is_regression else "tanh"],
            engine.REG_CODES[config.regularization],
        )

    def _pack(self, per_run: list[np.ndarray]) -> np.ndarray:
        """Stack per-run arrays to (blocks, ..., per_block), padding with copies of the last."""
        padded = per_run + [per_run[-1]] * (self.blocks * self.per_block - len(per_run))
        stacked = np.stack(padded).reshape(self.blocks, self.per_block, *per_run[0].shape)
        return np.ascontiguousarray(np.moveaxis(stacked, 1, -1))

    def _unpack(self, packed: np.ndarray) -> np.ndarray:
        """Inverse of _pack: (runs, ...) without the padding."""
        moved = np.moveaxis(packed, -1, 1)
        return moved.reshape(self.blocks * self.per_block, *moved.shape[2:])[: self.runs]

    def weights(self) -> np.ndarray:
        """Flat weights per run, (runs, n_weights)."""
        return self._unpack(self.w)

    def biases(self) -> np.ndarray:
        return self._unpack(self.b)

    def dead_links(self) -> np.ndarray:
        return self._unpack(self.dead)

    def losses(self) -> np.ndarray:
        """Current (train, test) loss per run, shape (runs, 2)."""
        lay = self.layout
        n_nodes = int(lay.noff[-1])
        act, out_act, _ = self._codes
        result = np.empty((self.blocks, 1, 2, self.per_block))
        for c in range(self.blocks):
            out = np.zeros((n_nodes, self.per_block))
            z = np.zeros_like(out)
            for col, (xs, ys) in enumerate(((self.xtr[c], self.ytr[c]),
                                            (self.xte[c], self.yte[c]))):
                engine.mean_loss(xs, ys, lay.sizes, lay.noff, lay.woff, lay.boff, self.w[c],
                                 self.b[c], out, z, act, out_act, result[c, 0, col])
        return self._unpack(result)[:, 0]

    def train(self, epochs: int, record_every: int = 1) -> np.ndarray:
        """Advance every run ``epochs`` epochs; returns losses (runs, records, 2)."""
        jobs, finish = self.train_jobs(epochs, record_every)
        run_jobs(jobs)
        return finish()

    @property
    def block_cost(self) -> int:
        """Relative work of one block per epoch (links plus activations, tanh dominates)."""
        return self.per_block * (self.layout.n_weights + 4 * self.layout.n_biases)

    def train_jobs(self, epochs: int, record_every: int = 1
                   ) -> tuple[list[Callable[[], None]], Callable[[], np.ndarray]]:
        """The work of ``train`` as one job per block, for ``run_jobs``, and ``finish``.

        Run every job (in any order, on any threads), then call ``finish()`` once: it
        advances the epoch counter and returns the losses (runs, records, 2).
        """
        lay, cfg = self.layout, self.config
        record_every = max(1, int(record_every))
        rows = engine.n_records(epochs, record_every)
        losses = np.zeros((self.blocks, rows, 2, self.per_block))
        jobs: list[Callable[[], None]] = []
        if epochs > 0:
            act, out_act, reg = self._codes
            args = (lay.sizes, lay.noff, lay.woff, lay.boff)
            rest = (act, out_act, reg, float(cfg.learning_rate), float(cfg.reg_rate),
                    int(cfg.batch_size), int(epochs), record_every)

            def job(c: int) -> Callable[[], None]:
                return lambda: engine.train_block(
                    self.xtr[c], self.ytr[c], self.xte[c], self.yte[c], *args, self.w[c],
                    self.b[c], self.dead[c], self.gw[c], self.gb[c], self.count[c], *rest,
                    losses[c])

            jobs = [job(c) for c in range(self.blocks)]

        def finish() -> np.ndarray:
            self.epoch += max(0, epochs)
            return self._unpack(losses)

        return jobs, finish


def simulate(config: PlaygroundConfig, on_progress=None, chunk: int = 50) -> RunResult:
    """Train one network for ``config.epochs`` epochs, recording both losses every epoch.

    ``on_progress(epoch, train_loss, test_loss)`` is called after each chunk of epochs.
    """
    trainer = Trainer(config)
    start = trainer.losses()[0]
    train_hist, test_hist = [float(start[0])], [float(start[1])]
    done = 0
    while done < config.epochs:
        step = min(chunk, config.epochs - done)
        losses = trainer.train(step)[0]
        train_hist.extend(losses[:, 0].tolist())
        test_hist.extend(losses[:, 1].tolist())
        done += step
        if on_progress is not None:
            on_progress(done, train_hist[-1], test_hist[-1])
    return result_of(trainer, 0, train_hist, test_hist)


def result_of(trainer: Trainer, run: int, train_hist: list[float], test_hist: list[float]
              ) -> RunResult:
    """Package run ``run`` of a trainer as a RunResult."""
    lay = trainer.layout
    w = trainer.weights()[run].copy()
    b = trainer.biases()[run].copy()
    dead = trainer.dead_links()[run].copy()
    return RunResult(
        config=trainer.config,
        data=trainer.data[run],
        epoch=list(range(len(train_hist))),
        train_loss=train_hist,
        test_loss=test_hist,
        weights=[m.tolist() for m in lay.weight_matrices(w)],
        biases=[v.tolist() for v in lay.bias_vectors(b)],
        dead=[m.tolist() for m in lay.weight_matrices(dead)],
        layout=lay,
        flat_weights=w,
        flat_biases=b,
    )
