"""The site's 100x100 heatmap grid and every node's output on it (no matplotlib here).

The maps come from the training kernel itself: one forward pass with the 10,000 grid points
as lanes, so they use the same arithmetic (and js_tanh) as training, and no other compiled
function has to be loaded.
"""

from __future__ import annotations

import numpy as np

from . import engine
from .features import build_features

DENSITY = 100
DOMAIN = 6.0


def grid_points() -> np.ndarray:
    """The site's heatmap grid: x = -6 + 12 i/99 per column, y = 6 - 12 j/99 per row."""
    axis = -DOMAIN + 2 * DOMAIN * np.arange(DENSITY) / (DENSITY - 1)
    xs, ys = np.meshgrid(axis, axis[::-1])
    return np.column_stack([xs.ravel(), ys.ravel()])


def grid_maps(result) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(feature maps, node maps) over the grid, each (100, 100), in the site's node order.

    One forward pass of the training kernel with the 10,000 grid points as lanes (the
    run's weights repeated per lane): the same arithmetic, and the same js_tanh, as training.
    """
    cfg, lay = result.config, result.layout
    feats = build_features(grid_points(), cfg.features)
    n = feats.shape[0]
    x = np.ascontiguousarray(feats.T[None])  # one "example", (1, features, lanes)
    w = np.ascontiguousarray(np.repeat(result.flat_weights[:, None], n, axis=1))
    b = np.ascontiguousarray(np.repeat(result.flat_biases[:, None], n, axis=1))
    out = np.zeros((int(lay.noff[-1]), n))
    act = engine.ACT_CODES[cfg.activation]
    out_act = engine.ACT_CODES["linear" if cfg.is_regression else "tanh"]
    engine.mean_loss(x, np.zeros((1, n)), lay.sizes, lay.noff, lay.woff, lay.boff, w, b, out,
                     np.zeros_like(out), act, out_act, np.zeros(n))
    maps = [row.reshape(DENSITY, DENSITY) for row in out]
    first = int(lay.noff[1])
    return maps[:first], maps[first:]


def node_maps(result) -> list[np.ndarray]:
    """Every non-input node's output over the grid, each (100, 100), in node order."""
    return grid_maps(result)[1]


def thumbnail(field: np.ndarray) -> np.ndarray:
    """The site's neuron thumbnail: the 100x100 map averaged over 10x10 blocks."""
    return field.reshape(10, 10, 10, 10).mean(axis=(1, 3))
