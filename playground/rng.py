"""Random streams: an exact port of seedrandom 2.x (the site's Math.random) and numpy.

The site replaces Math.random with seedrandom 2.4 (ARC4 keyed by the seed string, first
256 bytes dropped), so a site seed such as "0.12345" fixes data and first weights. Our port
reproduces that stream bit for bit. Integer seeds use numpy's PCG64 instead: statistically
the same, much faster, and what sweeps use.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .errors import SeedError

_WIDTH = 256
_MASK = 255
_START_DENOM = 2**48  # six ARC4 bytes
_SIGNIFICANCE = 2**52
_OVERFLOW = 2**53


class RandomStream(Protocol):
    """What the generators need: uniform doubles in [0, 1) in the site's draw order."""

    def random(self) -> float: ...

    def randoms(self, n: int) -> np.ndarray: ...


def _mixkey(seed: str) -> list[int]:
    """seedrandom's mixkey: smear the seed's UTF-16 code units into a <=256-byte key."""
    units = seed.encode("utf-16-le")
    codes = [units[i] | (units[i + 1] << 8) for i in range(0, len(units), 2)]
    key: list[int] = []
    smear = 0
    for j, code in enumerate(codes):
        slot = j & _MASK
        old = key[slot] if slot < len(key) else 0  # JS: undefined*19 is NaN, and NaN ^ s == s
        smear ^= old * 19
        value = (smear + code) & _MASK
        if slot < len(key):
            key[slot] = value
        else:
            key.append(value)
    return key


class SeedRandom:
    """seedrandom 2.x ``Math.seedrandom(seed)`` followed by ``Math.random()`` calls."""

    def __init__(self, seed: str) -> None:
        key = _mixkey(seed) or [0]  # the empty key is treated as [0]
        s = list(range(_WIDTH))
        j = 0
        for i in range(_WIDTH):
            t = s[i]
            j = (j + key[i % len(key)] + t) & _MASK
            s[i] = s[j]
            s[j] = t
        self._s = s
        self._i = 0
        self._j = 0
        self._bytes(_WIDTH)  # RC4-drop[256]

    def _bytes(self, count: int) -> int:
        """ARC4 ``g(count)``: the next ``count`` output bytes as one big-endian integer."""
        s, i, j, r = self._s, self._i, self._j, 0
        for _ in range(count):
            i = (i + 1) & _MASK
            t = s[i]
            j = (j + t) & _MASK
            s[i] = s[j]
            s[j] = t
            r = r * _WIDTH + s[(s[i] + t) & _MASK]
        self._i, self._j = i, j
        return r

    def random(self) -> float:
        """A double in [0, 1) with all 52 mantissa bits random, exactly as seedrandom forms it."""
        n = self._bytes(6)
        d = _START_DENOM
        x = 0
        while n < _SIGNIFICANCE:
            n = (n + x) * _WIDTH
            d *= _WIDTH
            x = self._bytes(1)
        while n >= _OVERFLOW:
            n //= 2  # exact: n is a multiple of 256 here
            d //= 2
            x >>= 1
        return (n + x) / d  # n + x < 2**53 and d is a power of two: exact, as in JS

    def randoms(self, n: int) -> np.ndarray:
        return np.array([self.random() for _ in range(n)], dtype=np.float64)


class NumpyStream:
    """Integer seeds: numpy PCG64, drawn in the same order as the site would."""

    def __init__(self, seed: int) -> None:
        self._gen = np.random.default_rng(seed)

    def random(self) -> float:
        return float(self._gen.random())

    def randoms(self, n: int) -> np.ndarray:
        return self._gen.random(n)


def parse_seed(seed: str | int) -> str | int:
    """A seed as given by a user: digits only -> numpy integer seed, else a site seed string."""
    if isinstance(seed, int):
        if seed < 0:
            raise SeedError(
                f"seed {seed} is negative; use an integer >= 0 or a site seed like 0.12345"
            )
        return seed
    text = str(seed).strip()
    if not text:
        raise SeedError("empty seed; use an integer >= 0 or a site seed like 0.12345")
    if text.isdigit():
        return int(text)
    if text.startswith("site:"):
        return text[len("site:"):]
    return text


def make_stream(seed: str | int) -> RandomStream:
    """The stream for a parsed seed: site replay for strings, numpy for integers."""
    parsed = parse_seed(seed)
    if isinstance(parsed, int):
        return NumpyStream(parsed)
    return SeedRandom(parsed)
