"""Pictures like the site's: decision boundary, per-neuron maps, network diagram, losses.

matplotlib's object API with the Agg canvas (no pyplot, no display). Colours follow the
site: 31 steps from orange #f59322 (-1) through grey #e8eaeb (0) to blue #0877bd (+1),
heatmap alpha 160/255. For speed every picture is one Axes with few artists (one image per
map, one collection per kind of mark) and fixed margins (no tight_layout, which draws twice).
The grid maps come from ``grid.py`` (the training kernel itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from .grid import DENSITY, DOMAIN, grid_maps, grid_points, node_maps, thumbnail  # noqa: E402

__all__ = ["DENSITY", "DOMAIN", "SITE_CMAP", "color_of", "grid_maps", "grid_points",
           "node_maps", "plot_run", "plot_sweep", "thumbnail"]
ALPHA = 160 / 255
_ORANGE, _GREY, _BLUE = (np.array([0xF5, 0x93, 0x22]), np.array([0xE8, 0xEA, 0xEB]),
                         np.array([0x08, 0x77, 0xBD]))


def color_of(values: np.ndarray) -> np.ndarray:
    """RGB in [0,1] for values in [-1, 1] (clipped), linear orange-grey-blue like d3's scale."""
    v = np.clip(np.asarray(values, dtype=float), -1.0, 1.0)[..., None]
    low = _ORANGE + (_GREY - _ORANGE) * (v + 1.0)
    high = _GREY + (_BLUE - _GREY) * v
    return np.where(v < 0, low, high) / 255.0


SITE_CMAP = ListedColormap(color_of(np.linspace(-1, 1, 31)), name="playground")


def _figure(width: float, height: float, margins=(0.02, 0.02, 0.98, 0.98)):
    """A Figure on an Agg canvas with one Axes at fixed margins (left, bottom, right, top)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    left, bottom, right, top = margins
    return fig, fig.add_axes((left, bottom, right - left, top - bottom))


def _heatmap(ax, field: np.ndarray, extent=(-DOMAIN, DOMAIN, -DOMAIN, DOMAIN),
             discretize: bool = False, alpha: float = ALPHA) -> None:
    shown = np.where(field >= 0, 1.0, -1.0) if discretize else field
    ax.imshow(shown, cmap=SITE_CMAP, vmin=-1, vmax=1, alpha=alpha, extent=extent,
              interpolation="nearest")


def _points(ax, xy: np.ndarray, labels: np.ndarray, edge: str) -> None:
    ax.scatter(xy[:, 0], xy[:, 1], c=color_of(labels), s=14, edgecolors=edge, linewidths=0.6)


def plot_boundary(result, path: Path, show_test: bool = False, maps=None) -> Path:
    """Output node over [-6, 6]^2 with the train points (and test points, black-edged)."""
    output = (maps if maps is not None else node_maps(result))[-1]
    title = (f"epoch {result.epoch[-1]:,}  train {result.train_loss[-1]:.3f}  "
             f"test {result.test_loss[-1]:.3f}")
    return _save(_draw_boundary(output, result.data, show_test, title), path)


def _draw_boundary(output: np.ndarray, data, show_test: bool, title: str):
    fig, ax = _figure(5, 5, (0.09, 0.06, 0.97, 0.93))
    _heatmap(ax, output)
    _points(ax, data.train_xy, data.train_y, "white")
    if show_test:
        _points(ax, data.test_xy, data.test_y, "black")
    ax.set_xlim(-DOMAIN, DOMAIN)
    ax.set_ylim(-DOMAIN, DOMAIN)
    ax.set_title(title, fontsize=9)
    return fig


def plot_neurons(result, path: Path, maps=None) -> Path:
    """Each hidden and output neuron's own map, one column per layer (site order)."""
    maps = maps if maps is not None else node_maps(result)
    sizes = [int(s) for s in result.layout.sizes[1:]]
    rows = max(sizes)
    fig, ax = _figure(1.6 * len(sizes), 1.6 * rows)
    index = 0
    for col, size in enumerate(sizes):
        for row in range(size):
            x0, y0 = col * 1.25, -row * 1.25
            _heatmap(ax, maps[index], extent=(x0, x0 + 1, y0 - 1, y0))
            ax.add_patch(Rectangle((x0, y0 - 1), 1, 1, fill=False, lw=0.8, ec="black"))
            name = "output" if col == len(sizes) - 1 else f"layer {col + 1} #{row + 1}"
            ax.text(x0 + 0.5, y0 + 0.04, name, ha="center", va="bottom", fontsize=7)
            index += 1
    ax.set_xlim(-0.08, 1.25 * len(sizes) - 0.17)
    ax.set_ylim(-1.25 * rows + 0.17, 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return _save(fig, path)


def plot_network(result, path: Path, grids=None) -> Path:
    """Nodes in columns; link width 1 + 1.8|w| px (max 10), colour by w; dead links dotted."""
    lay, cfg = result.layout, result.config
    sizes = [int(s) for s in lay.sizes]
    names = list(cfg.features)
    inputs, maps = grids if grids is not None else grid_maps(result)
    height = max(sizes)
    pos = [[(2.0 * col, (height - 1) / 2 - row) for row in range(n)]
           for col, n in enumerate(sizes)]
    fig, ax = _figure(1.8 * len(sizes) + 1, 0.9 * height + 1, (0.01, 0.01, 0.99, 0.92))
    mats = lay.weight_matrices(result.flat_weights)
    dead = [np.asarray(d, dtype=bool) for d in result.dead]
    live_segs, live_colors, live_widths, dead_segs = [], [], [], []
    for k, w in enumerate(mats):
        for d in range(w.shape[0]):
            for s in range(w.shape[1]):
                segment = (pos[k][s], pos[k + 1][d])
                if dead[k][d, s]:
                    dead_segs.append(segment)
                else:
                    live_segs.append(segment)
                    live_colors.append(color_of(w[d, s]))
                    live_widths.append(min(1 + 1.8 * abs(w[d, s]), 10.0) * 0.75)
    ax.add_collection(LineCollection(live_segs, colors=live_colors, linewidths=live_widths,
                                     capstyle="round", zorder=1))
    if dead_segs:
        ax.add_collection(LineCollection(dead_segs, colors="0.55", linewidths=0.8,
                                         linestyles=":", zorder=1))
    fields = [*inputs, *maps]
    flat = [xy for column in pos for xy in column]
    for (x, y), field in zip(flat, fields, strict=True):
        ax.imshow(thumbnail(field), cmap=SITE_CMAP, vmin=-1, vmax=1, zorder=2,
                  interpolation="nearest", extent=(x - 0.35, x + 0.35, y - 0.35, y + 0.35))
    for row, (x, y) in enumerate(pos[0]):
        ax.text(x - 0.45, y, names[row], ha="right", va="center", fontsize=8)
    biases = np.concatenate([np.ravel(b) for b in lay.bias_vectors(result.flat_biases)])
    corners = np.array([(x - 0.44, y - 0.36) for column in pos[1:] for x, y in column])
    ax.scatter(corners[:, 0], corners[:, 1], marker="s", s=40, c=color_of(biases),
               edgecolors="black", linewidths=0.3, zorder=3)
    ax.set_xlim(-1.5, 2.0 * (len(sizes) - 1) + 1)
    ax.set_ylim(-(height - 1) / 2 - 0.8, (height - 1) / 2 + 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("links: width ~ |w|, blue > 0, orange < 0, dotted = dead (L1)", fontsize=8)
    return _save(fig, path)


def plot_losses(result, path: Path) -> Path:
    return _save(_draw_losses(result), path)


def _draw_losses(result):
    fig, ax = _figure(6, 3, (0.11, 0.15, 0.98, 0.97))
    ax.plot(result.epoch, result.train_loss, label="training loss", color="#777777")
    ax.plot(result.epoch, result.test_loss, label="test loss", color="black")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean 0.5(out-label)^2)")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return fig


def plot_run(result, out_dir: Path, show_test: bool = False, grids=None) -> list[Path]:
    """All four pictures of one run into ``out_dir``.

    ``grids`` = ``grid_maps(result)`` if already computed (it is computed once either way).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs, maps = grids if grids is not None else grid_maps(result)
    return [plot_boundary(result, out_dir / "boundary.png", show_test, maps=maps),
            plot_neurons(result, out_dir / "neurons.png", maps=maps),
            plot_network(result, out_dir / "network.png", grids=(inputs, maps)),
            plot_losses(result, out_dir / "loss.png")]


def plot_sweep(rows: Sequence, path: Path, title: str = "") -> Path:
    """Final train and test loss of every seed, per configuration (log scale)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = 1.9 * len(rows) + 2
    fig, ax = _figure(width, 4, (1.0 / width, 0.1, 1 - 0.15 / width, 0.93))
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


def warm_up() -> None:
    """Draw throwaway copies of the loss and boundary pictures so the real ones start warm.

    matplotlib's first drawing loads fonts, lays out tick labels and builds the PNG writer:
    ~0.2 s that a painter process can spend while the network is still training.
    """
    import io
    from types import SimpleNamespace

    epochs = list(range(501))
    losses = [0.5 / (1 + e) for e in epochs]
    run = SimpleNamespace(epoch=epochs, train_loss=losses, test_loss=losses)
    data = SimpleNamespace(train_xy=np.zeros((2, 2)), train_y=np.array([-1.0, 1.0]))
    for fig in (_draw_losses(run), _draw_boundary(np.zeros((DENSITY, DENSITY)), data, False,
                                                  "epoch 0  train 0.000  test 0.000")):
        fig.savefig(io.BytesIO(), dpi=100, format="png")


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
