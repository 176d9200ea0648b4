"""Math functions as the site's JavaScript engine computes them.

Placeholder on libm; replaced by fdlibm ports (V8's ieee754) for bit-exact replay.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, vectorize


@njit(cache=True, inline="always")
def js_tanh(x: float) -> float:
    return math.tanh(x)


@njit(cache=True, inline="always")
def js_exp(x: float) -> float:
    return math.exp(x)


@njit(cache=True)
def js_sin(x: float) -> float:
    return math.sin(x)


@njit(cache=True)
def js_cos(x: float) -> float:
    return math.cos(x)


@njit(cache=True)
def js_log(x: float) -> float:
    return math.log(x)


@vectorize(["float64(float64)"], cache=True)
def sin_array(x):  # noqa: D103 - numpy ufunc of js_sin
    return js_sin(x)


@vectorize(["float64(float64)"], cache=True)
def cos_array(x):  # noqa: D103
    return js_cos(x)


@vectorize(["float64(float64)"], cache=True)
def tanh_array(x):  # noqa: D103
    return js_tanh(x)


@vectorize(["float64(float64)"], cache=True)
def exp_array(x):  # noqa: D103
    return js_exp(x)


def js_sqrt_array(x: np.ndarray) -> np.ndarray:
    """sqrt is correctly rounded everywhere (IEEE 754), so numpy's equals the engine's."""
    return np.sqrt(x)
