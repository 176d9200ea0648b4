"""Set up runs the way the site does at page load, and train them with the kernel.

Page-load order on the site: seed the stream, generate the data set, shuffle and split it,
then draw the network's weights from the same stream. ``Trainer`` holds the state of one or
many runs of the same configuration (one per seed) so sweeps and single runs share one path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from . import engine
from .config import PlaygroundConfig
from .datasets import Dataset, generate
from .features import build_features
from .network import Layout, init_weights
from .rng import make_stream


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
    """R independent runs of one configuration that differ only in their seed."""

    def __init__(self, config: PlaygroundConfig, seeds: Sequence[str | int] | None = None):
        self.config = config
        seeds = [config.seed] if seeds is None else list(seeds)
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
        feats = config.features
        self.xtr = np.stack([build_features(d.train_xy, feats) for d in self.data])
        self.ytr = np.stack([d.train_y for d in self.data])
        self.xte = np.stack([build_features(d.test_xy, feats) for d in self.data])
        self.yte = np.stack([d.test_y for d in self.data])
        self.w = np.stack(weights)
        self.b = np.stack(biases)
        runs = len(seeds)
        self.dead = np.zeros_like(self.w, dtype=np.bool_)
        self.gw = np.zeros_like(self.w)
        self.gb = np.zeros_like(self.b)
        self.count = np.zeros(runs, dtype=np.int64)  # examples accumulated since last update
        self.epoch = 0
        self._codes = (
            engine.ACT_CODES[config.activation],
            engine.ACT_CODES["linear" if config.is_regression else "tanh"],
            engine.REG_CODES[config.regularization],
        )

    @property
    def runs(self) -> int:
        return self.w.shape[0]

    def losses(self) -> np.ndarray:
        """Current (train, test) loss per run, shape (R, 2)."""
        lay = self.layout
        n_nodes = int(lay.noff[-1])
        out, z = np.zeros(n_nodes), np.zeros(n_nodes)
        act, out_act, _ = self._codes
        result = np.empty((self.runs, 2))
        for r in range(self.runs):  # evaluation only; training never loops per run in Python
            for col, (xs, ys) in enumerate(((self.xtr[r], self.ytr[r]),
                                            (self.xte[r], self.yte[r]))):
                result[r, col] = engine.mean_loss(xs, ys, lay.sizes, lay.noff, lay.woff,
                                                  lay.boff, self.w[r], self.b[r], out, z, act,
                                                  out_act)
        return result

    def train(self, epochs: int, record_every: int = 1, parallel: bool | None = None
              ) -> np.ndarray:
        """Advance every run ``epochs`` epochs; returns losses (R, records, 2)."""
        lay, cfg = self.layout, self.config
        record_every = max(1, int(record_every))
        losses = np.zeros((self.runs, engine.n_records(epochs, record_every), 2))
        if epochs <= 0:
            return losses
        act, out_act, reg = self._codes
        kernel = engine.train_many if (parallel if parallel is not None else self.runs > 1) \
            else _train_serial
        kernel(self.xtr, self.ytr, self.xte, self.yte, lay.sizes, lay.noff, lay.woff, lay.boff,
               self.w, self.b, self.dead, self.gw, self.gb, self.count, act, out_act, reg,
               float(cfg.learning_rate), float(cfg.reg_rate), int(cfg.batch_size), int(epochs),
               record_every, losses)
        self.epoch += epochs
        return losses


def _train_serial(xtr, ytr, xte, yte, sizes, noff, woff, boff, w, b, dead, gw, gb, count,
                  act, out_act, reg, lr, rr, batch, epochs, record_every, losses):
    """Single-run path without the thread pool start-up (what one CLI run needs)."""
    for r in range(w.shape[0]):
        engine.train_one(xtr[r], ytr[r], xte[r], yte[r], sizes, noff, woff, boff, w[r], b[r],
                         dead[r], gw[r], gb[r], count[r:r + 1], act, out_act, reg, lr, rr,
                         batch, epochs, record_every, losses[r])


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
        losses = trainer.train(step, parallel=False)[0]
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
    w, b, dead = trainer.w[run].copy(), trainer.b[run].copy(), trainer.dead[run].copy()
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
