"""One live Playground page: the site's page-state machine on top of the exact engine.

The site keeps one running Math.random stream per page: page load seeds it with the state's
seed, generates the data, then draws the first weights from it; "reset" draws new weights
from the same running stream, and new data takes its seed from it (``Math.random().toFixed(5)``).
``LiveSession`` follows that order, so a pasted site hash replays number for number, and it
trains with the engine's own kernel (``playground.engine.train_block``); the page never
computes a training rule itself.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from playground import engine
from playground.datasets import generate
from playground.features import build_features
from playground.network import Layout, init_weights
from playground.rng import SeedRandom

from .site_state import NEW_DATA, NO_RESET, SiteState, parse_pairs, to_hash

MAX_STEP = 1000  # epochs per request: keeps one request short, the page asks again


class LiveSession:
    """The state of one page: site state, running stream, data, network and loss history.

    Args:
        state: the page's SiteState; a missing seed is drawn like the site does at load.
        seed_source: where a missing seed comes from (the unseeded Math.random of the site).

    Example:
        >>> s = LiveSession(SiteState(seed="0.12345"))
        >>> s.step(10)[-1][0] < s.history[0][0]  # training loss fell over 10 epochs
        True
    """

    def __init__(self, state: SiteState, seed_source: np.random.Generator | None = None) -> None:
        if not state.seed:
            source = seed_source or np.random.default_rng()
            state = replace(state, seed=f"{source.random():.5f}")
        state.to_config()
        self.lock = threading.Lock()
        self.state = state
        self._generate(first_time=True)
        self._reset()

    # ------------------------------------------------------------ the site's page actions
    def _generate(self, first_time: bool = False) -> None:
        """generateData(): new seed from the running stream (except at load), reseed, draw."""
        if not first_time:
            self.state = replace(self.state, seed=f"{self.stream.random():.5f}")
        self.config = self.state.to_config()
        self.stream = SeedRandom(self.state.seed)
        self.data = generate(self.config.dataset, self.stream, self.config.noise,
                             self.config.ratio)
        feats = self.config.features
        self.xtr = np.ascontiguousarray(build_features(self.data.train_xy, feats)[..., None])
        self.ytr = np.ascontiguousarray(self.data.train_y[:, None])
        self.xte = np.ascontiguousarray(build_features(self.data.test_xy, feats)[..., None])
        self.yte = np.ascontiguousarray(self.data.test_y[:, None])

    def _reset(self) -> None:
        """reset(): a new network drawn from the running stream, epoch 0, fresh loss curve."""
        self.config = self.state.to_config()
        self.layout = Layout.from_shape(self.config.shape)
        w, b = init_weights(self.layout, self.stream)
        if self.state.initZero:  # the draw still happens, as on the site
            w, b = np.zeros_like(w), np.zeros_like(b)
        self.w, self.b = w[:, None].copy(), b[:, None].copy()
        self.dead = np.zeros_like(self.w, dtype=np.bool_)
        self.gw, self.gb = np.zeros_like(self.w), np.zeros_like(self.b)
        self.count = np.zeros(1, dtype=np.int64)
        self.epoch = 0
        self.history = [self.losses()]

    def reset(self) -> None:
        """The reset button: new weights, same data."""
        self._reset()

    def regenerate(self) -> None:
        """The regenerate button: new data (new seed), same weights and epoch."""
        self._generate()

    def apply(self, pairs: dict[str, str]) -> bool:
        """A control changed: apply site-named values with the site's consequences.

        Returns True when the network was rebuilt (epoch back to 0). A bad value raises
        SiteStateError and leaves the session untouched.
        """
        new = parse_pairs(pairs, self.state)
        changed = {f for f in pairs if getattr(new, f) != getattr(self.state, f)}
        self.state = new
        if "seed" in changed:  # a new seed is a new page load
            self._generate(first_time=True)
        elif changed & NEW_DATA:
            self._generate()
        if changed - NO_RESET:
            self._reset()
            return True
        self.config = self.state.to_config()  # e.g. a new learning rate, no reset
        return False

    # ------------------------------------------------------------ training and views
    def _codes(self) -> tuple[int, int, int]:
        out = "linear" if self.config.is_regression else "tanh"
        return (engine.ACT_CODES[self.config.activation], engine.ACT_CODES[out],
                engine.REG_CODES[self.config.regularization])

    def losses(self) -> tuple[float, float]:
        """(training loss, test loss) now: getLoss on both sets."""
        lay = self.layout
        act, out_act, _ = self._codes()
        result = np.zeros((2, 1))
        out = np.zeros((int(lay.noff[-1]), 1))
        for col, (xs, ys) in enumerate(((self.xtr, self.ytr), (self.xte, self.yte))):
            engine.mean_loss(xs, ys, lay.sizes, lay.noff, lay.woff, lay.boff, self.w, self.b,
                             out, np.zeros_like(out), act, out_act, result[col])
        return float(result[0, 0]), float(result[1, 0])

    def step(self, epochs: int = 1) -> list[tuple[float, float]]:
        """``epochs`` oneStep()s with the engine's kernel; returns (train, test) after each."""
        epochs = max(1, min(int(epochs), MAX_STEP))
        lay, cfg = self.layout, self.config
        act, out_act, reg = self._codes()
        losses = np.zeros((epochs, 2, 1))
        engine.train_block(self.xtr, self.ytr, self.xte, self.yte, lay.sizes, lay.noff,
                           lay.woff, lay.boff, self.w, self.b, self.dead, self.gw, self.gb,
                           self.count, act, out_act, reg, float(cfg.learning_rate),
                           float(cfg.reg_rate), int(cfg.batch_size), epochs, 1, losses)
        self.epoch += epochs
        new = [(float(tr), float(te)) for tr, te in losses[:, :, 0]]
        self.history.extend(new)
        return new

    def as_result(self) -> SimpleNamespace:
        """What ``playground.grid.grid_maps`` reads (config, layout, flat weights/biases)."""
        return SimpleNamespace(config=self.config, layout=self.layout,
                               flat_weights=self.w[:, 0].copy(), flat_biases=self.b[:, 0].copy())

    @property
    def hash(self) -> str:
        return to_hash(self.state)

    def export(self) -> dict:
        """The run as JSON: site hash, engine config, curves, weights, biases, dead links."""
        lay = self.layout
        return {
            "hash": self.hash, "config": self.config.to_dict(), "epoch": self.epoch,
            "train_loss": [h[0] for h in self.history], "test_loss": [h[1] for h in self.history],
            "weights": [m.tolist() for m in lay.weight_matrices(self.w[:, 0])],
            "biases": [v.tolist() for v in lay.bias_vectors(self.b[:, 0])],
            "dead_links": [m.tolist() for m in lay.weight_matrices(self.dead[:, 0])],
            "history_note": "index 0 is before training (or since the last reset)",
        }
