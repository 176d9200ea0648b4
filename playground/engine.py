"""The training kernel: the site's per-example forward/backprop and per-batch update.

Compiled with numba and written in the site's own operation order (sums start from the bias
and run in link order, accumulators add one example at a time, ``w - (lr/n)*g`` and then
``- (lr*lambda)*r``), so each run equals the JavaScript bit for bit. Many runs of one shape
train in lockstep: every per-run quantity has the run axis last and every inner loop runs
over runs, so numba turns it into SIMD code (no Python loop, no per-run branch). Blocks of
runs go to separate threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jsmath import js_exp, js_tanh

ACT_CODES = {"tanh": 0, "relu": 1, "sigmoid": 2, "linear": 3}
REG_CODES = {"none": 0, "l1": 1, "l2": 2}
_OPTS = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(**_OPTS)
def _activate(code, z, out, j):
    """out[j] = act(z[j]) for every run."""
    runs = z.shape[1]
    if code == 0:
        for r in range(runs):
            out[j, r] = js_tanh(z[j, r])
    elif code == 1:
        for r in range(runs):
            out[j, r] = z[j, r] if z[j, r] > 0.0 else 0.0
    elif code == 2:
        for r in range(runs):
            out[j, r] = 1.0 / (1.0 + js_exp(-z[j, r]))
    else:
        for r in range(runs):
            out[j, r] = z[j, r]


@njit(inline="always", **_OPTS)
def _delta(code, outder, z, out, delta, j):
    """delta = dE/dout * act'(z); tanh'/sigmoid' reuse the output (the site recomputes it)."""
    runs = z.shape[1]
    if code == 0:
        for r in range(runs):
            delta[j, r] = outder[j, r] * (1.0 - out[j, r] * out[j, r])
    elif code == 1:
        for r in range(runs):
            delta[j, r] = outder[j, r] * (0.0 if z[j, r] <= 0.0 else 1.0)
    elif code == 2:
        for r in range(runs):
            delta[j, r] = outder[j, r] * (out[j, r] * (1.0 - out[j, r]))
    else:
        for r in range(runs):
            delta[j, r] = outder[j, r] * 1.0


# Kernels index 2-D arrays as a[i, r] (no row views): views cost reference counting per use.

@njit(inline="always", **_OPTS)
def forward(x, i, sizes, noff, woff, boff, w, b, out, z, act, out_act):
    """forwardProp of example i for every run: x[i] (features, R) -> out (nodes, R)."""
    n_layers = sizes.shape[0] - 1
    runs = w.shape[1]
    for f in range(sizes[0]):
        for r in range(runs):
            out[f, r] = x[i, f, r]
    for k in range(n_layers):
        nin = sizes[k]
        for d in range(sizes[k + 1]):
            j = noff[k + 1] + d
            bi = boff[k] + d
            for r in range(runs):
                z[j, r] = b[bi, r]  # totalInput starts at the bias ...
            for s in range(nin):  # ... and adds w * source output in link order
                wi = woff[k] + d * nin + s
                src = noff[k] + s
                for r in range(runs):
                    z[j, r] += w[wi, r] * out[src, r]
            _activate(out_act if k == n_layers - 1 else act, z, out, j)


@njit(inline="always", **_OPTS)
def backward(y, i, sizes, noff, woff, boff, w, out, z, outder, delta, gw, gb, act, out_act):
    """backProp: add example i's dE/db, dE/dw to the accumulators of every run.

    Dead links accumulate too; their sums are never read (updates skip dead links).
    """
    n_layers = sizes.shape[0] - 1
    runs = w.shape[1]
    last = noff[n_layers]
    for r in range(runs):
        outder[last, r] = out[last, r] - y[i, r]
    for k in range(n_layers, 0, -1):
        nin = sizes[k - 1]
        code = out_act if k == n_layers else act
        for d in range(sizes[k]):
            j = noff[k] + d
            _delta(code, outder, z, out, delta, j)
            bi = boff[k - 1] + d
            for r in range(runs):
                gb[bi, r] += delta[j, r]
            for s in range(nin):
                wi = woff[k - 1] + d * nin + s
                src = noff[k - 1] + s
                for r in range(runs):
                    gw[wi, r] += delta[j, r] * out[src, r]
        if k == 1:
            continue
        for s in range(nin):
            src = noff[k - 1] + s
            for r in range(runs):
                outder[src, r] = 0.0
            for d in range(sizes[k]):
                wi = woff[k - 1] + d * nin + s
                j = noff[k] + d
                for r in range(runs):
                    outder[src, r] += w[wi, r] * delta[j, r]


@njit(inline="always", **_OPTS)
def update(w, b, dead, gw, gb, count, lr, rr, reg):
    """updateWeights: averaged step, then the penalty step computed from the old weight.

    L1: if the penalty pushes the weight across zero it becomes 0 and the link dies for good.
    """
    runs = w.shape[1]
    for i in range(b.shape[0]):
        for r in range(runs):
            b[i, r] -= lr * gb[i, r] / count
            gb[i, r] = 0.0
    step = lr / count
    pen = lr * rr
    for i in range(w.shape[0]):
        for r in range(runs):
            old = w[i, r]
            if reg == 1:
                rder = -1.0 if old < 0.0 else (1.0 if old > 0.0 else 0.0)
            elif reg == 2:
                rder = old
            else:
                rder = 0.0
            stepped = old - step * gw[i, r]
            penalized = stepped - pen * rder
            kill = reg == 1 and stepped * penalized < 0.0
            new = 0.0 if kill else penalized
            w[i, r] = old if dead[i, r] else new
            dead[i, r] = dead[i, r] or kill
            gw[i, r] = 0.0


@njit(**_OPTS)
def mean_loss(xs, ys, sizes, noff, woff, boff, w, b, out, z, act, out_act, result):
    """getLoss per run into result (runs,): mean of 0.5*(out - label)^2, no penalty.

    Takes a row, not (array, index) arguments: numba would compile one specialisation per
    literal index value.
    """
    last = noff[sizes.shape[0] - 1]
    runs = w.shape[1]
    for r in range(runs):
        result[r] = 0.0
    for i in range(xs.shape[0]):
        forward(xs, i, sizes, noff, woff, boff, w, b, out, z, act, out_act)
        for r in range(runs):
            diff = out[last, r] - ys[i, r]
            result[r] += 0.5 * (diff * diff)
    for r in range(runs):
        result[r] /= xs.shape[0]


@njit(**_OPTS)
def train_block(xtr, ytr, xte, yte, sizes, noff, woff, boff, w, b, dead, gw, gb, count,
                act, out_act, reg, lr, rr, batch, epochs, record_every, losses):
    """``epochs`` oneStep()s for a block of runs; ``count[0]`` carries leftovers across epochs.

    After every ``record_every``-th epoch and the last, losses[m] = (train, test) per run.
    """
    runs = w.shape[1]
    n_nodes = noff[noff.shape[0] - 1]
    out = np.zeros((n_nodes, runs))
    z = np.zeros((n_nodes, runs))
    outder = np.zeros((n_nodes, runs))
    delta = np.zeros((n_nodes, runs))
    m = 0
    for epoch in range(1, epochs + 1):
        for i in range(xtr.shape[0]):
            forward(xtr, i, sizes, noff, woff, boff, w, b, out, z, act, out_act)
            backward(ytr, i, sizes, noff, woff, boff, w, out, z, outder, delta, gw, gb, act,
                     out_act)
            count[0] += 1
            if (i + 1) % batch == 0:
                update(w, b, dead, gw, gb, count[0], lr, rr, reg)
                count[0] = 0
        if epoch % record_every == 0 or epoch == epochs:
            mean_loss(xtr, ytr, sizes, noff, woff, boff, w, b, out, z, act, out_act, losses[m, 0])
            mean_loss(xte, yte, sizes, noff, woff, boff, w, b, out, z, act, out_act, losses[m, 1])
            m += 1


def n_records(epochs: int, record_every: int) -> int:
    """How many loss rows train_block writes for these settings."""
    if epochs <= 0:
        return 0
    return epochs // record_every + (1 if epochs % record_every else 0)
