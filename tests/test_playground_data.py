"""Each data generator's geometry, the shuffle/split, features and config validation."""

from __future__ import annotations

import numpy as np
import pytest

from playground.config import PlaygroundConfig, parse_layers
from playground.datasets import generate
from playground.errors import (
    InvalidValueError,
    NetworkShapeError,
    PlaygroundError,
    UnknownActivationError,
    UnknownDatasetError,
    UnknownFeatureError,
)
from playground.features import build_features, parse_features
from playground.rng import NumpyStream, SeedRandom


def _all(name, noise=0, seed=1):
    data = generate(name, NumpyStream(seed), noise=noise)
    return (np.concatenate([data.train_xy, data.test_xy]),
            np.concatenate([data.train_y, data.test_y]), data)


def test_circle_disc_gap_and_ring():
    xy, y, data = _all("circle")
    r = np.hypot(xy[:, 0], xy[:, 1])
    assert len(data.train_y) == 250 and len(data.test_y) == 250
    assert np.all(r[y == 1] < 2.5) and np.sum(y == 1) == 250
    assert np.all((r[y == -1] >= 3.5) & (r[y == -1] <= 5.0))
    assert not np.any((r > 2.5) & (r < 3.5))  # the empty gap


def test_circle_noise_flips_labels_but_not_points():
    xy0, _, _ = _all("circle", noise=0, seed=5)
    xy, y, _ = _all("circle", noise=50, seed=5)
    r = np.hypot(xy[:, 0], xy[:, 1])
    assert r.max() <= 5.0  # points stay where they were drawn
    assert np.any((r < 2.5) & (y == -1)) or np.any((r > 3.5) & (y == 1))
    assert xy0.shape == xy.shape


def test_xor_padding_and_quadrant_labels():
    xy, y, _ = _all("xor")
    assert np.all(np.abs(xy) >= 0.3) and np.all(np.abs(xy) <= 5.3)
    assert np.array_equal(y, np.where(xy[:, 0] * xy[:, 1] >= 0, 1.0, -1.0))


def test_gauss_two_clusters():
    xy, y, _ = _all("gauss")
    assert np.allclose(xy[y == 1].mean(axis=0), [2, 2], atol=0.2)
    assert np.allclose(xy[y == -1].mean(axis=0), [-2, -2], atol=0.2)
    assert np.var(xy[y == 1][:, 0]) == pytest.approx(0.5, rel=0.25)  # variance 0.5 at noise 0


def test_spiral_arms_are_opposite():
    xy, y, _ = _all("spiral")
    r = np.hypot(xy[:, 0], xy[:, 1])
    assert r.max() < 5.0 and np.sum(y == 1) == 250
    pos = xy[y == 1][np.argsort(r[y == 1])]
    neg = xy[y == -1][np.argsort(r[y == -1])]
    np.testing.assert_allclose(pos, -neg, atol=1e-12)  # arm delta=pi is the point reflection


def test_regression_plane_and_gauss_labels():
    xy, y, data = _all("reg-plane")
    assert len(data.train_y) == 600 and len(y) == 1200
    np.testing.assert_allclose(y, (xy[:, 0] + xy[:, 1]) / 10, atol=1e-12)
    xy, y, _ = _all("reg-gauss")
    assert np.all(np.abs(y) <= 1.0)
    near = np.hypot(xy[:, 0] + 4, xy[:, 1] - 2.5) < 0.5  # centre (-4, 2.5) is positive
    assert near.any() and np.all(y[near] > 0.7)
    far = np.min(np.stack([np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)
                           for cx in (-4, 0, 4) for cy in (-2.5, 2.5)]), axis=0) > 2
    assert np.all(y[far] == 0)


def test_ratio_split_and_site_stream():
    data = generate("circle", SeedRandom("0.5"), ratio=30)
    assert len(data.train_y) == 150 and len(data.test_y) == 350
    again = generate("circle", SeedRandom("0.5"), ratio=30)
    assert np.array_equal(data.train_xy, again.train_xy)


def test_features_in_site_order():
    assert parse_features("sin(x2), x1, X1^2") == ("x1", "x1^2", "sin(x2)")
    feats = build_features(np.array([[2.0, 3.0]]), parse_features("x1,x2,x1^2,x2^2,x1*x2"))
    assert feats.tolist() == [[2.0, 3.0, 4.0, 9.0, 6.0]]


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"dataset": "moons"}, UnknownDatasetError),
    ({"features": "x3"}, UnknownFeatureError),
    ({"activation": "gelu"}, UnknownActivationError),
    ({"hidden": (9,)}, NetworkShapeError),
    ({"hidden": (0,)}, NetworkShapeError),
    ({"hidden": (1,) * 7}, NetworkShapeError),
    ({"learning_rate": -0.1}, InvalidValueError),
    ({"reg_rate": -1}, InvalidValueError),
    ({"batch_size": 0}, InvalidValueError),
    ({"ratio": 100}, InvalidValueError),
])
def test_bad_settings_raise_typed_errors(kwargs, error):
    with pytest.raises(error) as info:
        PlaygroundConfig(**kwargs)
    assert isinstance(info.value, PlaygroundError) and isinstance(info.value, ValueError)


def test_layers_text():
    assert parse_layers("4,2") == (4, 2) and parse_layers("none") == ()
    with pytest.raises(NetworkShapeError):
        parse_layers("4,x")
