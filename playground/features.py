"""The site's seven input features, in the site's order (which fixes node and weight order)."""

from __future__ import annotations

import numpy as np

from .errors import UnknownFeatureError

#: Site order: X1, X2, X1^2, X2^2, X1*X2, sin(X1), sin(X2).
FEATURES: tuple[str, ...] = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")

_ALIASES = {
    "x": "x1", "y": "x2", "x1^2": "x1^2", "x1**2": "x1^2", "x1sq": "x1^2", "x2**2": "x2^2",
    "x2sq": "x2^2", "x1x2": "x1*x2", "x1*x2": "x1*x2", "sinx1": "sin(x1)", "sinx2": "sin(x2)",
    "sin(x1)": "sin(x1)", "sin(x2)": "sin(x2)",
}


def parse_features(names: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Normalise a list like "x1,x2,sin(x1)" into the site's order; unknown names raise."""
    items = names.split(",") if isinstance(names, str) else list(names)
    chosen: set[str] = set()
    for raw in items:
        name = raw.strip().lower().replace(" ", "")
        if not name:
            continue
        name = _ALIASES.get(name, name)
        if name not in FEATURES:
            raise UnknownFeatureError(
                f"unknown feature {raw.strip()!r}; choose from {', '.join(FEATURES)}"
            )
        chosen.add(name)
    if not chosen:
        raise UnknownFeatureError(f"no input feature selected; choose from {', '.join(FEATURES)}")
    return tuple(f for f in FEATURES if f in chosen)


def build_features(xy: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Feature matrix (n, len(names)) from raw points (n, 2); raw values, no normalisation."""
    from .jsmath import sin_array  # numba: imported on first use, not at start-up

    x = xy[:, 0]
    y = xy[:, 1]
    columns = {
        "x1": lambda: x,
        "x2": lambda: y,
        "x1^2": lambda: x * x,
        "x2^2": lambda: y * y,
        "x1*x2": lambda: x * y,
        "sin(x1)": lambda: sin_array(x),
        "sin(x2)": lambda: sin_array(y),
    }
    out = np.empty((xy.shape[0], len(names)), dtype=np.float64)
    for k, name in enumerate(names):
        out[:, k] = columns[name]()
    return out
