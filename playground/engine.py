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
from numba import njit, prange

from .jsmath import js_exp, js_tanh

ACT_CODES = {"tanh": 0, "relu": 1, "sigmoid": 2, "linear": 3}
REG_CODES = {"none": 0, "l1": 1, "l2": 2}
_OPTS = {"cache": True, "error_model": "numpy"}


@njit(inline="always", **_OPTS)
def _activate(code, zrow, outrow):
    if code == 0:
        for r in range(zrow.shape[0]):
            outrow[r] = js_tanh(zrow[r])
    elif code == 1:
        for r in range(zrow.shape[0]):
            outrow[r] = zrow[r] if zrow[r] > 0.0 else 0.0
    elif code == 2:
        for r in range(zrow.shape[0]):
            outrow[r] = 1.0 / (1.0 + js_exp(-zrow[r]))
    else:
        outrow[:] = zrow


@njit(inline="always", **_OPTS)
def _delta(code, outder, zrow, outrow, delta):
    """delta = dE/dout * act'(z); tanh'/sigmoid' reuse the output (the site recomputes it)."""
    if code == 0:
        for r in range(zrow.shape[0]):
            delta[r] = outder[r] * (1.0 - outrow[r] * outrow[r])
    elif code == 1:
        for r in range(zrow.shape[0]):
            delta[r] = outder[r] * (0.0 if zrow[r] <= 0.0 else 1.0)
    elif code == 2:
        for r in range(zrow.shape[0]):
            delta[r] = outder[r] * (outrow[r] * (1.0 - outrow[r]))
    else:
        for r in range(zrow.shape[0]):
            delta[r] = outder[r] * 1.0


@njit(**_OPTS)
def forward(x, sizes, noff, woff, boff, w, b, out, z, act, out_act):
    """forwardProp for every run: x (features, R) -> node outputs ``out`` (nodes, R)."""
    n_layers = sizes.shape[0] - 1
    out[: sizes[0]] = x
    for k in range(n_layers):
        nin = sizes[k]
        for d in range(sizes[k + 1]):
            j = noff[k + 1] + d
            zj = z[j]
            zj[:] = b[boff[k] + d]  # totalInput starts at the bias ...
            for s in range(nin):  # ... and adds w * source output in link order
                wrow = w[woff[k] + d * nin + s]
                src = out[noff[k] + s]
                for r in range(zj.shape[0]):
                    zj[r] += wrow[r] * src[r]
            _activate(out_act if k == n_layers - 1 else act, zj, out[j])


@njit(**_OPTS)
def backward(y, sizes, noff, woff, boff, w, out, z, outder, delta, gw, gb, act, out_act):
    """backProp: add this example's dE/db, dE/dw to the accumulators of every run.

    Dead links accumulate too; their sums are never read (updates skip dead links).
    """
    n_layers = sizes.shape[0] - 1
    last = noff[n_layers]
    for r in range(y.shape[0]):
        outder[last, r] = out[last, r] - y[r]
    for k in range(n_layers, 0, -1):
        nin = sizes[k - 1]
        code = out_act if k == n_layers else act
        for d in range(sizes[k]):
            j = noff[k] + d
            _delta(code, outder[j], z[j], out[j], delta[j])
            gbrow, drow = gb[boff[k - 1] + d], delta[j]
            for r in range(drow.shape[0]):
                gbrow[r] += drow[r]
            for s in range(nin):
                gwrow, src = gw[woff[k - 1] + d * nin + s], out[noff[k - 1] + s]
                for r in range(drow.shape[0]):
                    gwrow[r] += drow[r] * src[r]
        if k == 1:
            continue
        for s in range(nin):
            od = outder[noff[k - 1] + s]
            od[:] = 0.0
            for d in range(sizes[k]):
                wrow, drow = w[woff[k - 1] + d * nin + s], delta[noff[k] + d]
                for r in range(od.shape[0]):
                    od[r] += wrow[r] * drow[r]


@njit(**_OPTS)
def update(w, b, dead, gw, gb, count, lr, rr, reg):
    """updateWeights: averaged step, then the penalty step computed from the old weight.

    L1: if the penalty pushes the weight across zero it becomes 0 and the link dies for good.
    """
    for i in range(b.shape[0]):
        brow, grow = b[i], gb[i]
        for r in range(brow.shape[0]):
            brow[r] -= lr * grow[r] / count
            grow[r] = 0.0
    step = lr / count
    pen = lr * rr
    for i in range(w.shape[0]):
        wrow, grow, drow = w[i], gw[i], dead[i]
        for r in range(wrow.shape[0]):
            old = wrow[r]
            if reg == 1:
                rder = -1.0 if old < 0.0 else (1.0 if old > 0.0 else 0.0)
            elif reg == 2:
                rder = old
            else:
                rder = 0.0
            stepped = old - step * grow[r]
            penalized = stepped - pen * rder
            kill = reg == 1 and stepped * penalized < 0.0
            new = 0.0 if kill else penalized
            wrow[r] = old if drow[r] else new
            drow[r] = drow[r] or kill
            grow[r] = 0.0


@njit(**_OPTS)
def mean_loss(xs, ys, sizes, noff, woff, boff, w, b, out, z, act, out_act, result):
    """getLoss per run: plain mean of 0.5*(out - label)^2 over the set, no penalty."""
    last = noff[sizes.shape[0] - 1]
    result[:] = 0.0
    for i in range(xs.shape[0]):
        forward(xs[i], sizes, noff, woff, boff, w, b, out, z, act, out_act)
        for r in range(result.shape[0]):
            diff = out[last, r] - ys[i, r]
            result[r] += 0.5 * (diff * diff)
    result /= xs.shape[0]


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
            forward(xtr[i], sizes, noff, woff, boff, w, b, out, z, act, out_act)
            backward(ytr[i], sizes, noff, woff, boff, w, out, z, outder, delta, gw, gb, act,
                     out_act)
            count[0] += 1
            if (i + 1) % batch == 0:
                update(w, b, dead, gw, gb, count[0], lr, rr, reg)
                count[0] = 0
        if epoch % record_every == 0 or epoch == epochs:
            mean_loss(xtr, ytr, sizes, noff, woff, boff, w, b, out, z, act, out_act, losses[m, 0])
            mean_loss(xte, yte, sizes, noff, woff, boff, w, b, out, z, act, out_act, losses[m, 1])
            m += 1


@njit(parallel=True, **_OPTS)
def train_blocks(xtr, ytr, xte, yte, sizes, noff, woff, boff, w, b, dead, gw, gb, count,
                 act, out_act, reg, lr, rr, batch, epochs, record_every, losses):
    """``train_block`` on every block (leading axis), one thread per block."""
    for c in prange(w.shape[0]):
        train_block(xtr[c], ytr[c], xte[c], yte[c], sizes, noff, woff, boff, w[c], b[c],
                    dead[c], gw[c], gb[c], count[c], act, out_act, reg, lr, rr, batch, epochs,
                    record_every, losses[c])


def n_records(epochs: int, record_every: int) -> int:
    """How many loss rows train_block writes for these settings."""
    if epochs <= 0:
        return 0
    return epochs // record_every + (1 if epochs % record_every else 0)
