"""The site's six data sets, drawn in the site's exact order, then shuffled and split.

Each generator consumes uniforms from a :class:`~playground.rng.RandomStream` in the same
order as src/dataset.ts, and does the arithmetic in the same order (``u*(b-a)+a``, d3's
``a*(1-t)+b*t`` scales), so a site seed reproduces the site's points bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InvalidValueError, UnknownDatasetError
from .rng import RandomStream

CLASSIFICATION = ("circle", "xor", "gauss", "spiral")
REGRESSION = ("reg-plane", "reg-gauss")
DATASETS = CLASSIFICATION + REGRESSION
NUM_SAMPLES_CLASSIFY = 500
NUM_SAMPLES_REGRESS = 1200


@dataclass(frozen=True)
class Dataset:
    """Shuffled points split like the site: train = first floor(N*ratio/100) points."""

    name: str
    train_xy: np.ndarray  # (n_train, 2)
    train_y: np.ndarray  # (n_train,)
    test_xy: np.ndarray
    test_y: np.ndarray

    @property
    def is_regression(self) -> bool:
        return self.name in REGRESSION


def _uniform(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """randUniform(a, b) = Math.random() * (b - a) + a, in that operation order."""
    return u * (b - a) + a


def _d3_linear(value: np.ndarray, d0: float, d1: float, r0: float, r1: float,
               clamp: bool = False) -> np.ndarray:
    """d3 v3 scale.linear: t = (x - d0) / (d1 - d0), result r0*(1-t) + r1*t."""
    t = (value - d0) / (d1 - d0)
    if clamp:
        t = np.maximum(0.0, np.minimum(1.0, t))
    return r0 * (1 - t) + r1 * t


def _circle(rng: RandomStream, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    from .jsmath import cos_array, sin_array  # numba: imported on first use, not at start-up

    radius = 5.0
    half = n // 2
    parts = []
    for r_lo, r_hi in ((0.0, radius * 0.5), (radius * 0.7, radius)):
        u = rng.randoms(4 * half).reshape(half, 4)  # r, angle, noiseX, noiseY per point
        r = _uniform(u[:, 0], r_lo, r_hi)
        angle = _uniform(u[:, 1], 0.0, 2 * math.pi)
        x = r * sin_array(angle)
        y = r * cos_array(angle)
        nx = _uniform(u[:, 2], -radius, radius) * noise
        ny = _uniform(u[:, 3], -radius, radius) * noise
        dx, dy = x + nx, y + ny
        label = np.where(np.sqrt(dx * dx + dy * dy) < radius * 0.5, 1.0, -1.0)
        parts.append((x, y, label))
    return _stack(parts)


def _xor(rng: RandomStream, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    u = rng.randoms(4 * n).reshape(n, 4)  # x, y, noiseX, noiseY per point
    x = _uniform(u[:, 0], -5.0, 5.0)
    x = x + np.where(x > 0, 0.3, -0.3)
    y = _uniform(u[:, 1], -5.0, 5.0)
    y = y + np.where(y > 0, 0.3, -0.3)
    nx = _uniform(u[:, 2], -5.0, 5.0) * noise
    ny = _uniform(u[:, 3], -5.0, 5.0) * noise
    label = np.where((x + nx) * (y + ny) >= 0, 1.0, -1.0)
    return np.column_stack([x, y]), label


def _normal(rng: RandomStream, mean: float, variance: float) -> float:
    """Marsaglia polar method exactly as normalRandom in dataset.ts (v2 is thrown away)."""
    while True:
        v1 = 2 * rng.random() - 1
        v2 = 2 * rng.random() - 1
        s = v1 * v1 + v2 * v2
        if not s > 1:
            break
    result = math.sqrt(-2 * math.log(s) / s) * v1
    return mean + math.sqrt(variance) * result


def _gauss(rng: RandomStream, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    variance = float(_d3_linear(np.float64(noise), 0.0, 0.5, 0.5, 4.0))
    pts = []
    labels = []
    for cx, cy, label in ((2.0, 2.0, 1.0), (-2.0, -2.0, -1.0)):
        for _ in range(n // 2):
            x = _normal(rng, cx, variance)
            y = _normal(rng, cy, variance)
            pts.append((x, y))
            labels.append(label)
    return np.array(pts, dtype=np.float64), np.array(labels, dtype=np.float64)


def _spiral(rng: RandomStream, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    from .jsmath import cos_array, sin_array  # numba: imported on first use

    m = n // 2
    i = np.arange(m, dtype=np.float64)
    parts = []
    for delta, label in ((0.0, 1.0), (math.pi, -1.0)):
        u = rng.randoms(2 * m).reshape(m, 2)  # noise for x, then for y
        r = i / m * 5
        t = 1.75 * i / m * 2 * math.pi + delta
        x = r * sin_array(t) + _uniform(u[:, 0], -1.0, 1.0) * noise
        y = r * cos_array(t) + _uniform(u[:, 1], -1.0, 1.0) * noise
        parts.append((x, y, np.full(m, label)))
    return _stack(parts)


def _reg_points(rng: RandomStream, n: int, noise: float):
    radius = 6.0
    u = rng.randoms(4 * n).reshape(n, 4)  # x, y, noiseX, noiseY per point
    x = _uniform(u[:, 0], -radius, radius)
    y = _uniform(u[:, 1], -radius, radius)
    nx = _uniform(u[:, 2], -radius, radius) * noise
    ny = _uniform(u[:, 3], -radius, radius) * noise
    return x, y, x + nx, y + ny


def _reg_plane(rng: RandomStream, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x, y, xn, yn = _reg_points(rng, n, noise)
    return np.column_stack([x, y]), _d3_linear(xn + yn, -10.0, 10.0, -1.0, 1.0)


_GAUSSIANS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
              (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def _reg_gauss(rng: RandomStream, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    x, y, xn, yn = _reg_points(rng, n, noise)
    label = np.zeros(n)
    for cx, cy, sign in _GAUSSIANS:
        dx, dy = xn - cx, yn - cy
        value = sign * _d3_linear(np.sqrt(dx * dx + dy * dy), 0.0, 2.0, 1.0, 0.0, clamp=True)
        label = np.where(np.abs(value) > np.abs(label), value, label)  # first wins ties
    return np.column_stack([x, y]), label


def _stack(parts):
    xy = np.concatenate([np.column_stack([x, y]) for x, y, _ in parts])
    return xy, np.concatenate([lab for _, _, lab in parts])


GENERATORS: dict[str, Callable[[RandomStream, int, float], tuple[np.ndarray, np.ndarray]]] = {
    "circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral,
    "reg-plane": _reg_plane, "reg-gauss": _reg_gauss,
}


def check_dataset(name: str) -> str:
    """The canonical name, or a typed error listing the choices."""
    key = name.strip().lower().replace("_", "-")
    key = {"plane": "reg-plane", "multigauss": "reg-gauss", "regplane": "reg-plane",
           "reggauss": "reg-gauss", "two-gauss": "gauss"}.get(key, key)
    if key not in GENERATORS:
        raise UnknownDatasetError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return key


def shuffle_order(rng: RandomStream, n: int) -> np.ndarray:
    """Fisher-Yates as in dataset.ts: for c = n..1, k = floor(rand*c), swap items c-1 and k."""
    u = rng.randoms(n)
    counters = np.arange(n, 0, -1)
    picks = np.floor(u * counters).astype(np.int64)
    order = list(range(n))
    for c, k in zip(counters.tolist(), picks.tolist(), strict=True):
        order[c - 1], order[k] = order[k], order[c - 1]
    return np.array(order, dtype=np.int64)


def generate(name: str, rng: RandomStream, noise: int | float = 0, ratio: int | float = 50,
             num_samples: int | None = None) -> Dataset:
    """generateData(): make the points, shuffle them in place, split at floor(N*ratio/100)."""
    key = check_dataset(name)
    if not 0 <= noise <= 100:
        raise InvalidValueError(f"noise {noise} is outside 0..100 (the site's slider is 0..50)")
    if not 0 < ratio < 100:
        raise InvalidValueError(f"train ratio {ratio} must be between 1 and 99 percent")
    n = num_samples or (NUM_SAMPLES_REGRESS if key in REGRESSION else NUM_SAMPLES_CLASSIFY)
    xy, label = GENERATORS[key](rng, n, noise / 100)
    order = shuffle_order(rng, len(label))
    xy, label = xy[order], label[order]
    split = math.floor(len(label) * ratio / 100)
    if split < 1 or split >= len(label):
        raise InvalidValueError(f"train ratio {ratio} leaves an empty train or test set")
    return Dataset(key, xy[:split].copy(), label[:split].copy(), xy[split:].copy(),
                   label[split:].copy())
