"""Pictures like the site's: decision boundary, per-neuron maps, network diagram, losses.

matplotlib with the Agg backend (no display needed). Colours follow the site: 31 steps from
orange #f59322 (-1) through grey #e8eaeb (0) to blue #0877bd (+1), heatmap alpha 160/255.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

from .features import build_features  # noqa: E402
from .jsmath import exp_array, tanh_array  # noqa: E402

DENSITY = 100
DOMAIN = 6.0
_ORANGE, _GREY, _BLUE = (np.array([0xF5, 0x93, 0x22]), np.array([0xE8, 0xEA, 0xEB]),
                         np.array([0x08, 0x77, 0xBD]))


def color_of(values: np.ndarray) -> np.ndarray:
    """RGB in [0,1] for values in [-1, 1] (clipped), linear orange-grey-blue like d3's scale."""
    v = np.clip(np.asarray(values, dtype=float), -1.0, 1.0)[..., None]
    low = _ORANGE + (_GREY - _ORANGE) * (v + 1.0)
    high = _GREY + (_BLUE - _GREY) * v
    return np.where(v < 0, low, high) / 255.0


SITE_CMAP = ListedColormap(color_of(np.linspace(-1, 1, 31)), name="playground")


def grid_points() -> np.ndarray:
    """The site's heatmap grid: x = -6 + 12 i/99 per column, y = 6 - 12 j/99 per row."""
    axis = -DOMAIN + 2 * DOMAIN * np.arange(DENSITY) / (DENSITY - 1)
    xs, ys = np.meshgrid(axis, axis[::-1])
    return np.column_stack([xs.ravel(), ys.ravel()])


def node_maps(result) -> list[np.ndarray]:
    """Every non-input node's output over the grid, each (100, 100), in node order."""
    cfg, lay = result.config, result.layout
    acts = {"tanh": tanh_array, "relu": lambda z: np.maximum(z, 0.0),
            "sigmoid": lambda z: 1.0 / (1.0 + exp_array(-z)), "linear": lambda z: z}
    values = build_features(grid_points(), cfg.features)
    maps = []
    mats = lay.weight_matrices(result.flat_weights)
    for k, (w, b) in enumerate(zip(mats, lay.bias_vectors(result.flat_biases), strict=True)):
        last = k == len(mats) - 1
        act = acts[("linear" if cfg.is_regression else "tanh") if last else cfg.activation]
        values = act(values @ w.T + b)
        maps.extend(values[:, d].reshape(DENSITY, DENSITY) for d in range(values.shape[1]))
    return maps


def _heatmap(ax, field: np.ndarray, discretize: bool = False) -> None:
    shown = np.where(field >= 0, 1.0, -1.0) if discretize else field
    ax.imshow(shown, cmap=SITE_CMAP, vmin=-1, vmax=1, alpha=160 / 255,
              extent=(-DOMAIN, DOMAIN, -DOMAIN, DOMAIN), interpolation="nearest")
    ax.set_xlim(-DOMAIN, DOMAIN)
    ax.set_ylim(-DOMAIN, DOMAIN)


def _points(ax, xy: np.ndarray, labels: np.ndarray, edge: str) -> None:
    ax.scatter(xy[:, 0], xy[:, 1], c=color_of(labels), s=14, edgecolors=edge, linewidths=0.6)


def plot_boundary(result, path: Path, show_test: bool = False) -> Path:
    """Output node over [-6, 6]^2 with the train points (and test points, black-edged)."""
    fig, ax = plt.subplots(figsize=(5, 5))
    _heatmap(ax, node_maps(result)[-1])
    data = result.data
    _points(ax, data.train_xy, data.train_y, "white")
    if show_test:
        _points(ax, data.test_xy, data.test_y, "black")
    ax.set_title(f"epoch {result.epoch[-1]:,}  train {result.train_loss[-1]:.3f}  "
                 f"test {result.test_loss[-1]:.3f}", fontsize=9)
    return _save(fig, path)


def plot_neurons(result, path: Path) -> Path:
    """Each hidden and output neuron's own map, one panel per node (site order)."""
    maps = node_maps(result)
    sizes = list(result.layout.sizes[1:])
    cols = max(sizes)
    fig, axes = plt.subplots(cols, len(sizes), figsize=(1.6 * len(sizes), 1.6 * cols),
                             squeeze=False)
    index = 0
    for col, size in enumerate(sizes):
        for row in range(cols):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if row < size:
                _heatmap(ax, maps[index])
                name = "output" if col == len(sizes) - 1 else f"layer {col + 1} #{row + 1}"
                ax.set_title(name, fontsize=7)
                index += 1
            else:
                ax.axis("off")
    return _save(fig, path)


def plot_network(result, path: Path) -> Path:
    """Nodes in columns; link width 1 + 1.8|w| px (max 10), colour by w; dead links dashed."""
    lay, cfg = result.layout, result.config
    sizes = [int(s) for s in lay.sizes]
    names = list(cfg.features)
    maps = node_maps(result)
    height = max(sizes)
    pos = [[(2.0 * col, (height - 1) / 2 - row) for row in range(n)]
           for col, n in enumerate(sizes)]
    fig, ax = plt.subplots(figsize=(1.8 * len(sizes) + 1, 0.9 * height + 1))
    mats = lay.weight_matrices(result.flat_weights)
    dead = [np.asarray(d, dtype=bool) for d in result.dead]
    for k, w in enumerate(mats):
        for d in range(w.shape[0]):
            for s in range(w.shape[1]):
                (x0, y0), (x1, y1) = pos[k][s], pos[k + 1][d]
                width_px = min(1 + 1.8 * abs(w[d, s]), 10.0)
                if dead[k][d, s]:
                    ax.plot([x0, x1], [y0, y1], ls=":", color="0.55", lw=0.8, zorder=1)
                else:
                    ax.plot([x0, x1], [y0, y1], color=color_of(w[d, s]), lw=width_px * 0.75,
                            zorder=1, solid_capstyle="round")
    thumbs = iter(maps)
    biases = iter(np.concatenate([np.ravel(b) for b in lay.bias_vectors(result.flat_biases)]))
    for col, column in enumerate(pos):
        for row, (x, y) in enumerate(column):
            if col == 0:
                ax.text(x - 0.45, y, names[row], ha="right", va="center", fontsize=8)
                box = np.full((2, 2), 0.0)
            else:
                box = next(thumbs)[::10, ::10]
                bias = next(biases)
                ax.add_patch(plt.Rectangle((x - 0.5, y - 0.42), 0.12, 0.12, color=color_of(bias),
                                           zorder=3, ec="black", lw=0.3))
            ax.imshow(box, cmap=SITE_CMAP, vmin=-1, vmax=1, zorder=2,
                      extent=(x - 0.35, x + 0.35, y - 0.35, y + 0.35))
    ax.set_xlim(-1.5, 2.0 * (len(sizes) - 1) + 1)
    ax.set_ylim(-(height - 1) / 2 - 0.8, (height - 1) / 2 + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("links: width ~ |w|, blue > 0, orange < 0, dotted = dead (L1)", fontsize=8)
    return _save(fig, path)


def plot_losses(result, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(result.epoch, result.train_loss, label="training loss", color="#777777")
    ax.plot(result.epoch, result.test_loss, label="test loss", color="black")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean 0.5(out-label)^2)")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_run(result, out_dir: Path, show_test: bool = False) -> list[Path]:
    """All four pictures of one run into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [plot_boundary(result, out_dir / "boundary.png", show_test),
            plot_neurons(result, out_dir / "neurons.png"),
            plot_network(result, out_dir / "network.png"),
            plot_losses(result, out_dir / "loss.png")]


def plot_sweep(rows: Sequence, path: Path, title: str = "") -> Path:
    """Final train and test loss of every seed, per configuration (log scale)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(1.9 * len(rows) + 2, 4))
    rng = np.random.default_rng(0)
    for i, row in enumerate(rows):
        for shift, values, colour in ((-0.18, row.train_loss, "#777777"),
                                      (0.18, row.test_loss, "black")):
            jitter = rng.uniform(-0.07, 0.07, size=values.size)
            ax.scatter(i + shift + jitter, np.maximum(values, 1e-5), s=6, color=colour, alpha=0.5)
            ax.boxplot(np.maximum(values, 1e-5), positions=[i + shift], widths=0.25,
                       showfliers=False)
    ax.axhline(0.05, color="#f59322", lw=0.8, ls="--", label="test loss 0.05")
    ax.set_yscale("log")
    ax.set_xticks(range(len(rows)), [row.label for row in rows], fontsize=8)
    ax.set_ylabel("final loss (grey: train, black: test)")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
