"""The training kernel: the site's per-example forward/backprop and per-batch update.

Compiled with numba and written example by example in the site's own operation order
(sums start from the bias and run in link order, accumulators add one example at a time,
``w - (lr/n)*g`` then ``- (lr*lambda)*r``), so results equal the JavaScript bit for bit
given the same tanh/exp. A per-batch numpy version would be equal only up to rounding.
``train_many`` runs many independent runs of one shape in parallel (no Python loop per run).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .jsmath import js_exp, js_tanh

ACT_CODES = {"tanh": 0, "relu": 1, "sigmoid": 2, "linear": 3}
REG_CODES = {"none": 0, "l1": 1, "l2": 2}


@njit(cache=True, inline="always")
def _act(code: int, z: float) -> float:
    if code == 0:
        return js_tanh(z)
    if code == 1:
        return z if z > 0.0 else 0.0
    if code == 2:
        return 1.0 / (1.0 + js_exp(-z))
    return z


@njit(cache=True, inline="always")
def _der(code: int, z: float, out: float) -> float:
    # tanh' and sigmoid' recompute act(z) on the site, which equals the stored output.
    if code == 0:
        return 1.0 - out * out
    if code == 1:
        return 0.0 if z <= 0.0 else 1.0
    if code == 2:
        return out * (1.0 - out)
    return 1.0


@njit(cache=True)
def forward(x, sizes, noff, woff, boff, w, b, out, z, act, out_act):
    """One example forward; fills node outputs/inputs and returns the network output."""
    n_layers = sizes.shape[0] - 1
    for i in range(sizes[0]):
        out[i] = x[i]
    for k in range(n_layers):
        nin = sizes[k]
        code = out_act if k == n_layers - 1 else act
        for d in range(sizes[k + 1]):
            total = b[boff[k] + d]
            base = woff[k] + d * nin
            for s in range(nin):
                total += w[base + s] * out[noff[k] + s]
            z[noff[k + 1] + d] = total
            out[noff[k + 1] + d] = _act(code, total)
    return out[noff[n_layers]]


@njit(cache=True)
def _backward(target, sizes, noff, woff, boff, w, dead, out, z, outder, delta, gw, gb,
              act, out_act):
    """backProp(): add this example's dE/db and dE/dw (live links only) to the accumulators."""
    n_layers = sizes.shape[0] - 1
    outder[noff[n_layers]] = out[noff[n_layers]] - target
    for k in range(n_layers, 0, -1):
        code = out_act if k == n_layers else act
        nin = sizes[k - 1]
        for d in range(sizes[k]):
            j = noff[k] + d
            delta[j] = outder[j] * _der(code, z[j], out[j])
            gb[boff[k - 1] + d] += delta[j]
        for d in range(sizes[k]):
            base = woff[k - 1] + d * nin
            for s in range(nin):
                if not dead[base + s]:
                    gw[base + s] += delta[noff[k] + d] * out[noff[k - 1] + s]
        if k == 1:
            continue
        for s in range(nin):
            acc = 0.0
            for d in range(sizes[k]):
                acc += w[woff[k - 1] + d * nin + s] * delta[noff[k] + d]
            outder[noff[k - 1] + s] = acc


@njit(cache=True)
def update(sizes, woff, boff, w, b, dead, gw, gb, count, lr, rr, reg):
    """updateWeights(): averaged step, then the separate penalty step from the old weight."""
    if count == 0:
        return
    n_layers = sizes.shape[0] - 1
    for k in range(n_layers):
        nin = sizes[k]
        for d in range(sizes[k + 1]):
            bi = boff[k] + d
            b[bi] -= lr * gb[bi] / count
            gb[bi] = 0.0
            base = woff[k] + d * nin
            for s in range(nin):
                wi = base + s
                if dead[wi]:
                    continue
                old = w[wi]
                if reg == 1:
                    rder = -1.0 if old < 0.0 else (1.0 if old > 0.0 else 0.0)
                elif reg == 2:
                    rder = old
                else:
                    rder = 0.0
                stepped = old - (lr / count) * gw[wi]
                penalized = stepped - (lr * rr) * rder
                if reg == 1 and stepped * penalized < 0.0:
                    w[wi] = 0.0  # the penalty pushed it across zero: the link dies for good
                    dead[wi] = True
                else:
                    w[wi] = penalized
                gw[wi] = 0.0


@njit(cache=True)
def mean_loss(xs, ys, sizes, noff, woff, boff, w, b, out, z, act, out_act):
    """getLoss(): plain mean of 0.5*(out - label)^2, no penalty term."""
    total = 0.0
    for i in range(xs.shape[0]):
        diff = forward(xs[i], sizes, noff, woff, boff, w, b, out, z, act, out_act) - ys[i]
        total += 0.5 * (diff * diff)
    return total / xs.shape[0]


@njit(cache=True)
def train_one(xtr, ytr, xte, yte, sizes, noff, woff, boff, w, b, dead, gw, gb, count,
              act, out_act, reg, lr, rr, batch, epochs, record_every, losses):
    """Run ``epochs`` oneStep()s on one network; ``count[0]`` carries leftovers across epochs.

    ``losses[m] = (train, test)`` after every ``record_every``-th epoch and after the last.
    """
    n_nodes = noff[noff.shape[0] - 1]
    out = np.zeros(n_nodes)
    z = np.zeros(n_nodes)
    outder = np.zeros(n_nodes)
    delta = np.zeros(n_nodes)
    m = 0
    for epoch in range(1, epochs + 1):
        for i in range(xtr.shape[0]):
            forward(xtr[i], sizes, noff, woff, boff, w, b, out, z, act, out_act)
            _backward(ytr[i], sizes, noff, woff, boff, w, dead, out, z, outder, delta, gw, gb,
                      act, out_act)
            count[0] += 1
            if (i + 1) % batch == 0:
                update(sizes, woff, boff, w, b, dead, gw, gb, count[0], lr, rr, reg)
                count[0] = 0
        if epoch % record_every == 0 or epoch == epochs:
            losses[m, 0] = mean_loss(xtr, ytr, sizes, noff, woff, boff, w, b, out, z, act,
                                     out_act)
            losses[m, 1] = mean_loss(xte, yte, sizes, noff, woff, boff, w, b, out, z, act,
                                     out_act)
            m += 1


@njit(cache=True, parallel=True)
def train_many(xtr, ytr, xte, yte, sizes, noff, woff, boff, w, b, dead, gw, gb, count,
               act, out_act, reg, lr, rr, batch, epochs, record_every, losses):
    """``train_one`` for every run r (leading axis of all per-run arrays), runs in parallel."""
    for r in prange(w.shape[0]):
        train_one(xtr[r], ytr[r], xte[r], yte[r], sizes, noff, woff, boff, w[r], b[r],
                  dead[r], gw[r], gb[r], count[r:r + 1], act, out_act, reg, lr, rr, batch,
                  epochs, record_every, losses[r])


def n_records(epochs: int, record_every: int) -> int:
    """How many loss rows train_one writes for these settings."""
    if epochs <= 0:
        return 0
    return epochs // record_every + (1 if epochs % record_every else 0)
