"""The training rules: hand-computed update, L1 dead links, leftover carry-over, site replay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground import engine
from playground.config import PlaygroundConfig
from playground.network import Layout
from playground.trainer import Trainer, simulate

LINEAR = engine.ACT_CODES["linear"]


def _train(shape, w, b, xs, ys, *, lr, rr=0.0, reg="none", batch, epochs=1, act=LINEAR,
           out_act=LINEAR):
    """Run the kernel on one run (R = 1) from given weights; returns (w, b, dead, count, losses)."""
    lay = Layout.from_shape(shape)
    w = np.asarray(w, float)[:, None].copy()
    b = np.asarray(b, float)[:, None].copy()
    dead = np.zeros_like(w, dtype=bool)
    gw, gb = np.zeros_like(w), np.zeros_like(b)
    count = np.zeros(1, dtype=np.int64)
    x = np.asarray(xs, float)[:, :, None].copy()
    y = np.asarray(ys, float)[:, None].copy()
    losses = np.zeros((epochs, 2, 1))
    engine.train_block(x, y, x, y, lay.sizes, lay.noff, lay.woff, lay.boff, w, b, dead, gw, gb,
                       count, act, out_act, engine.REG_CODES[reg], lr, rr, batch, epochs, 1,
                       losses)
    return w[:, 0], b[:, 0], dead[:, 0], int(count[0]), losses[:, :, 0]


def test_hand_computed_batch_update_with_separate_l2_step():
    # x -> one linear hidden unit -> linear output; two examples in one batch of 2.
    # A: x=(1, 2), y=1: z_h = .1 + .5 - .5 = .1, out = .1 + 2*.1 = .3, dE/dout = -.7
    #    grads: v: -.7*.1 = -.07, b_o: -.7, delta_h = 2*-.7 = -1.4, w: (-1.4, -2.8), b_h: -1.4
    # B: x=(-1, 0), y=0: z_h = -.4, out = -.7, dE/dout = -.7
    #    grads: v: .28, b_o: -.7, delta_h = -1.4, w: (1.4, 0), b_h: -1.4
    # Averaged (n=2), lr .1: b_o = .1 + .07, b_h = .1 + .14 (biases never penalised);
    # then L2 (lambda .5) from the PRE-update weight: w -= lr*lambda*w_old.
    w, b, dead, count, losses = _train(
        (2, 1, 1), [0.5, -0.25, 2.0], [0.1, 0.1], [[1, 2], [-1, 0]], [1, 0],
        lr=0.1, rr=0.5, reg="l2", batch=2,
    )
    v_expected = (2.0 - 0.1 / 2 * 0.21) - 0.1 * 0.5 * 2.0  # 1.8895, not (1.9895)*(1-.05)
    w1_expected = (0.5 - 0.0) - 0.05 * 0.5
    w2_expected = (-0.25 - 0.05 * -2.8) - 0.05 * -0.25
    assert w == pytest.approx([w1_expected, w2_expected, v_expected], abs=1e-12)
    assert b == pytest.approx([0.24, 0.17], abs=1e-12)
    assert count == 0 and not dead.any()
    # Reported loss after the epoch: plain mean of 0.5*(out - y)^2, no penalty term.
    hid_a = 0.24 + w1_expected * 1 + w2_expected * 2
    hid_b = 0.24 + w1_expected * -1
    out_a, out_b = 0.17 + v_expected * hid_a, 0.17 + v_expected * hid_b
    expected_loss = (0.5 * (out_a - 1) ** 2 + 0.5 * out_b**2) / 2
    assert losses[0, 0] == pytest.approx(expected_loss, abs=1e-12)


def test_l1_kills_a_link_for_good_when_the_penalty_crosses_zero():
    # No hidden layer: out = b + w*x. x = 0 gives no gradient, so only the penalty moves w:
    # 0.001 - lr*lambda*sign(0.001) = -0.009 crosses zero -> w = 0 and the link is dead.
    w, b, dead, _, _ = _train((1, 1), [0.001], [0.1], [[0.0]], [1.0], lr=0.1, rr=0.1,
                              reg="l1", batch=1)
    assert w[0] == 0.0 and dead[0]
    # Later batches with a real gradient leave it at exactly 0; the bias still learns.
    lay = Layout.from_shape((1, 1))
    wa, ba, da = np.array([[0.0]]), b[:, None].copy(), np.array([[True]])
    gw, gb, cnt = np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1, dtype=np.int64)
    x, y = np.array([[[3.0]]]), np.array([[1.0]])
    losses = np.zeros((5, 2, 1))
    engine.train_block(x, y, x, y, lay.sizes, lay.noff, lay.woff, lay.boff, wa, ba, da, gw, gb,
                       cnt, LINEAR, LINEAR, 1, 0.1, 0.1, 1, 5, 1, losses)
    assert wa[0, 0] == 0.0 and da[0, 0]
    assert ba[0, 0] != b[0]


def test_l1_does_not_kill_when_the_gradient_step_crosses_zero():
    # Gradient alone takes 0.001 to -0.499; the penalty uses sign(old w) = +1, so the
    # weight moves further to -0.509 and stays alive (w' * w'' > 0).
    w, _, dead, _, _ = _train((1, 1), [0.001], [0.0], [[1.0]], [-4.999], lr=0.1, rr=0.1,
                              reg="l1", batch=1)
    assert not dead[0]
    assert w[0] == pytest.approx(0.001 - 0.1 * 5.0 - 0.1 * 0.1 * 1, abs=1e-12)  # -0.509


# --- an independent, plainly written copy of nn.ts / oneStep for cross-checks -------------

def _reference_train(w_layers, b_layers, xs, ys, lr, rr, reg, batch, epochs, flush=False):
    """Per-example site algorithm with Python floats (act tanh, output tanh)."""
    w = [[list(row) for row in layer] for layer in w_layers]
    b = [list(layer) for layer in b_layers]
    dead = [[[False] * len(row) for row in layer] for layer in w]
    gw = [[[0.0] * len(row) for row in layer] for layer in w]
    gb = [[0.0] * len(layer) for layer in b]
    n = 0
    for _ in range(epochs):
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            outs, zs = [list(x)], []
            for layer_w, layer_b in zip(w, b, strict=True):
                z = []
                for row, bias in zip(layer_w, layer_b, strict=True):
                    t = bias
                    for wt, src in zip(row, outs[-1], strict=True):
                        t += wt * src
                    z.append(t)
                zs.append(z)
                outs.append([math.tanh(v) for v in z])
            outder = [outs[-1][0] - y]
            for k in range(len(w) - 1, -1, -1):
                delta = [od * (1 - o * o) for od, o in zip(outder, outs[k + 1], strict=True)]
                for d, dl in enumerate(delta):
                    gb[k][d] += dl
                    for s, src in enumerate(outs[k]):
                        if not dead[k][d][s]:
                            gw[k][d][s] += dl * src
                outder = [sum((w[k][d][s] * delta[d] for d in range(len(delta))), 0.0)
                          for s in range(len(outs[k]))]
            n += 1
            if (i + 1) % batch == 0 or (flush and i == len(xs) - 1):
                for k in range(len(w)):
                    for d in range(len(w[k])):
                        b[k][d] -= lr * gb[k][d] / n
                        gb[k][d] = 0.0
                        for s in range(len(w[k][d])):
                            if dead[k][d][s]:
                                continue
                            old = w[k][d][s]
                            rder = {"l1": (old > 0) - (old < 0), "l2": old}.get(reg, 0.0)
                            stepped = old - (lr / n) * gw[k][d][s]
                            pen = stepped - (lr * rr) * rder
                            if reg == "l1" and stepped * pen < 0:
                                w[k][d][s], dead[k][d][s] = 0.0, True
                            else:
                                w[k][d][s] = pen
                            gw[k][d][s] = 0.0
                n = 0
    return w, b, n


def test_leftover_examples_carry_into_next_epochs_first_batch():
    config = PlaygroundConfig(dataset="xor", hidden=(3,), batch_size=7, reg_rate=0.0, seed=3)
    trainer = Trainer(config)
    data = trainer.data[0]
    assert len(data.train_y) == 250 and 250 % 7 == 5
    lay = trainer.layout
    w0 = [m.tolist() for m in lay.weight_matrices(trainer.weights()[0])]
    b0 = [v.tolist() for v in lay.bias_vectors(trainer.biases()[0])]
    trainer.train(1)
    assert int(trainer.count[0, 0]) == 5  # five examples wait for the next epoch
    trainer.train(1)
    got = [m.tolist() for m in lay.weight_matrices(trainer.weights()[0])]
    xs, ys = data.train_xy.tolist(), data.train_y.tolist()
    carried, _, left = _reference_train(w0, b0, xs, ys, 0.03, 0.0, "none", 7, 2)
    flushed, _, _ = _reference_train(w0, b0, xs, ys, 0.03, 0.0, "none", 7, 2, flush=True)
    # epoch 2's first update averaged 5 + 7 = 12 examples; 5 are left over again
    assert left == 5 and int(trainer.count[0, 0]) == 5
    np.testing.assert_allclose(np.concatenate([np.ravel(m) for m in got]),
                               np.concatenate([np.ravel(m) for m in carried]), rtol=0, atol=1e-13)
    diff = np.abs(np.concatenate([np.ravel(m) for m in got])
                  - np.concatenate([np.ravel(m) for m in flushed]))
    assert diff.max() > 1e-6  # flushing leftovers at the epoch end would be a different run


# --- exact replay of the site (vectors produced once by the site's code under node 20) -----

SITE_XOR_L1 = {  # seed "0.12345", xor, x1,x2, [3] tanh, L1 0.01, lr 0.03, batch 7, 20 epochs
    "train3": [[5.096362367914215, -2.1979115662055433, -1],
               [-4.318135686225865, -3.7382914485196705, 1],
               [2.66406993362824, 2.711786930305986, 1]],
    "test_last": [4.143540271921045, -5.061737650472769, -1],
    "init_w": [[[0.15119012045435498, 0.3395422448435659],
                [0.3346419187784071, -0.0657659669735432],
                [0.0776269630522124, 0.4299551389874775]],
               [[-0.00330857634290882, -0.04613467581924968, -0.4813670765940867]]],
    "train_loss": {0: 0.5723536487366654, 1: 0.4900100722928716, 10: 0.3721555920235183,
                   20: 0.23918897432764966},
    "test_loss": {0: 0.5138294433282714, 1: 0.4787938283057757, 10: 0.3798379594397682,
                  20: 0.25671635838868756},
    "weights": [[[0.37394171893627254, 0.41913568729258377], [0.1176508332273859, 0],
                 [0.41515933843962827, 0.40985568498545377]],
                [[0.9806710655937716, 0, -1.1152294026534555]]],
    "biases": [[-0.7356865243195722, 0.09037669742402375, 1.244364666206687],
               [0.6497881683407087]],
    "dead": [[[False, False], [False, True], [False, False]], [[False, True, False]]],
}


def test_site_seed_replays_the_site_number_for_number():
    ref = SITE_XOR_L1
    config = PlaygroundConfig(dataset="xor", hidden=(3,), activation="tanh", learning_rate=0.03,
                              regularization="l1", reg_rate=0.01, batch_size=7, epochs=20,
                              seed="0.12345")
    init = Trainer(config)
    lay = init.layout
    assert [m.tolist() for m in lay.weight_matrices(init.weights()[0])] == ref["init_w"]
    result = simulate(config)
    data = result.data
    assert np.column_stack([data.train_xy[:3], data.train_y[:3]]).tolist() == ref["train3"]
    assert [*data.test_xy[-1], data.test_y[-1]] == ref["test_last"]
    for epoch, value in ref["train_loss"].items():
        assert result.train_loss[epoch] == value  # exact, not approximate
    for epoch, value in ref["test_loss"].items():
        assert result.test_loss[epoch] == value
    assert result.weights == ref["weights"]
    assert result.biases == ref["biases"]
    assert result.dead == ref["dead"]
