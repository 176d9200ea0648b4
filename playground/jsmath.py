"""Transcendental functions as the site's JavaScript engine computes them.

The site's numbers depend on the browser's Math library. V8 (node 20, Chrome of the spec's
time) and Firefox use fdlibm for Math.tanh / Math.exp, so we port those two (the training
path) from fdlibm and pin them bit for bit against node's output in the tests. ``js_tanh``
is written without data-dependent branches so the run-vectorized kernel can use SIMD.
sin/cos/log only shape the data sets; engines differ there (fdlibm vs. correctly rounded
libraries), so we use the C library's, which agrees with them to the last bit for ~98 % of
points and within one unit in the last place otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INVLN2 = 1.44269504088896338700e00
# Bounds equivalent to fdlibm's high-word tests (a double with that high word, low word 0).
_HALF_LN2 = 0.3465735912322998  # hx > 0x3FD62E42
_THREE_HALF_LN2 = 1.0397205352783203  # hx < 0x3FF0A2B2
_TWO_M28 = 3.725290298461914e-09  # 2**-28
# expm1's rational coefficients (scaled Q's)
_Q1 = -3.33333333333331316428e-02
_Q2 = 1.58730158725481460165e-03
_Q3 = -7.93650757867487942473e-05
_Q4 = 4.00821782732936239552e-06
_Q5 = -2.01099218183624371326e-07


@intrinsic
def _bits_of(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (an LLVM bitcast: free, SIMD-friendly)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float_of(typingctx, bits):
    """The float64 whose IEEE-754 bits are ``bits`` (inverse of _bits_of)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_POW2_MAGIC = 6755399441055744.0 + 1023.0  # 1.5 * 2**52 + exponent bias


@njit(cache=True, inline="always")
def _pow2(kf: float) -> float:
    """2**k, exactly, for an integral float -1022 <= k <= 1023, without branches or tables.

    Adding 1.5 * 2**52 puts k + 1023 in the low mantissa bits; shifting them into the
    exponent field gives the power of two (fdlibm's "add k to the exponent", as a factor).
    """
    return _float_of(_bits_of(kf + _POW2_MAGIC) << 52)


@njit(cache=True, inline="always", error_model="numpy")
def _expm1_tanh_range(x: float) -> float:
    """fdlibm expm1 for the arguments tanh passes: -2 < x <= 0 or 2 <= x <= 44.

    Every case is computed and the right one selected, so a loop over runs can use SIMD;
    each case does exactly fdlibm's operations, so the selected value is fdlibm's. In this
    range k is 0, -1, -2, -3 (x <= 0) or 3..63 (x >= 2); fdlibm's k == 1 case cannot occur.
    """
    ax = abs(x)
    negative = x < 0.0
    small = ax < _HALF_LN2  # k = 0
    near = ax < _THREE_HALF_LN2  # k = -1 here (x is never in (0, 2))
    t_k = np.trunc(_INVLN2 * x + (-0.5 if negative else 0.5))  # C's (int) cast, as a float
    k = 0.0 if small else (-1.0 if near else t_k)
    hi = x if small else (x + _LN2_HI if near else x - t_k * _LN2_HI)
    lo = 0.0 if small else (-_LN2_LO if near else t_k * _LN2_LO)
    r = hi - lo
    c = 0.0 if small else (hi - r) - lo
    hfx = 0.5 * r
    hxs = r * hfx
    r1 = 1.0 + hxs * (_Q1 + hxs * (_Q2 + hxs * (_Q3 + hxs * (_Q4 + hxs * _Q5))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - r * t))
    res_k0 = r - (r * e - hxs)
    e2 = (r * (e - c) - c) - hxs
    res_km1 = 0.5 * (r - e2) - 0.5
    twopk = _pow2(k)  # k is -3..63 here (0 for the small case)
    twomk = _pow2(-k)
    res_big = (1.0 - (e2 - r)) * twopk - 1.0  # k <= -2 or k > 56
    res_mid = ((1.0 - twomk) - (e2 - r)) * twopk  # 2 <= k < 20
    res_high = ((r - (e2 + twomk)) + 1.0) * twopk  # 20 <= k <= 56
    general = res_big if (k <= -2.0 or k > 56.0) else (res_mid if k < 20.0 else res_high)
    return res_k0 if small else (res_km1 if k == -1.0 else general)


@njit(cache=True, inline="always", error_model="numpy")
def js_tanh(x: float) -> float:
    """fdlibm tanh (Math.tanh in V8's ieee754 and Firefox), bit for bit, branch-free."""
    ax = abs(x)
    big = ax >= 1.0
    y = 2.0 * ax if big else -2.0 * ax
    y = y if y < 44.0 else 44.0  # keeps the discarded lanes (|x| >= 22, NaN) in range
    t = _expm1_tanh_range(y)
    q = (2.0 if big else -t) / (t + 2.0)  # 1 - 2/(t+2) for |x| >= 1, else -t/(t+2)
    z = 1.0 - q if big else q
    z = 1.0 if ax >= 22.0 else z
    z = math.copysign(z, x)  # z >= 0 here; the same as -z for x < 0, with two bit operations
    return x if (ax < _TWO_M28 or x != x) else z  # tiny (and +-0) or NaN: x itself


_EXP_HI = 709.782096862793  # hx >= 0x40862E42
_O_THRESHOLD = 7.09782712893383973096e02
_U_THRESHOLD = -7.45133219101941108420e02
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_E = 2.718281828459045


@njit(cache=True, inline="always", error_model="numpy")
def js_exp(x: float) -> float:
    """fdlibm exp (V8's Math.exp), used by the sigmoid activation."""
    if x != x:
        return x
    ax = abs(x)
    if ax >= _EXP_HI:
        if x > _O_THRESHOLD:
            return math.inf
        if x < _U_THRESHOLD:
            return 0.0
    negative = x < 0.0
    lo = 0.0
    hi = 0.0
    k = 0
    if ax >= _HALF_LN2:
        if ax < _THREE_HALF_LN2:
            if x == 1.0:
                return _E
            hi = x + _LN2_HI if negative else x - _LN2_HI
            lo = -_LN2_LO if negative else _LN2_LO
            k = -1 if negative else 1
        else:
            k = int(_INVLN2 * x + (-0.5 if negative else 0.5))
            t = float(k)
            hi = x - t * _LN2_HI
            lo = t * _LN2_LO
        x = hi - lo
    elif ax < _TWO_M28:
        return 1.0 + x
    t = x * x
    c = x - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    if k == 0:
        return 1.0 - ((x * c) / (c - 2.0) - x)
    y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi)
    if k >= -1021:
        if k == 1024:
            return y * 2.0 * 8.98846567431158e307
        return y * 2.0**k
    return y * 2.0 ** (k + 1000) * 9.33263618503218878990e-302


@njit(cache=True, error_model="numpy")
def _map_tanh(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.size):
        out.flat[i] = js_tanh(x.flat[i])


@njit(cache=True, error_model="numpy")
def _map_exp(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.size):
        out.flat[i] = js_exp(x.flat[i])


def tanh_array(x) -> np.ndarray:
    """Elementwise js_tanh (compiled lazily: importing this module stays cheap)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _map_tanh(x.ravel(), out.ravel())
    return out


def exp_array(x) -> np.ndarray:
    """Elementwise js_exp."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _map_exp(x.ravel(), out.ravel())
    return out


# Data sets only: engines disagree in the last bit here (see the module docstring).
sin_array = np.sin
cos_array = np.cos
