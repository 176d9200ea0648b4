"""The speed-ups keep the results: branch-free tanh = plain fdlibm, one kernel specialisation."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
from typer.testing import CliRunner

from playground import engine
from playground.cli import app
from playground.config import PlaygroundConfig
from playground.jsmath import tanh_array
from playground.sweep import run_sweep
from playground.trainer import Trainer, run_jobs, simulate


def _high(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0] >> 32


def _plain_expm1(x: float) -> float:
    """fdlibm s_expm1.c, transcribed with its branches and high-word tricks (finite x <= 44)."""
    hx = _high(x)
    negative = bool(hx & 0x80000000)
    hx &= 0x7FFFFFFF
    c = 0.0
    if hx > 0x3FD62E42:  # |x| > 0.5 ln2
        if hx < 0x3FF0A2B2:  # and |x| < 1.5 ln2
            hi, lo, k = ((x + 6.93147180369123816490e-01, -1.90821492927058770002e-10, -1)
                         if negative else
                         (x - 6.93147180369123816490e-01, 1.90821492927058770002e-10, 1))
        else:
            k = int(1.44269504088896338700e00 * x + (-0.5 if negative else 0.5))
            hi = x - k * 6.93147180369123816490e-01
            lo = k * 1.90821492927058770002e-10
        x = hi - lo
        c = (hi - x) - lo
    elif hx < 0x3C900000:
        return x
    else:
        k = 0
    hfx = 0.5 * x
    hxs = x * hfx
    r1 = 1.0 + hxs * (-3.33333333333331316428e-02 + hxs * (1.58730158725481460165e-03 + hxs * (
        -7.93650757867487942473e-05 + hxs * (4.00821782732936239552e-06
                                             + hxs * -2.01099218183624371326e-07))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - x * t))
    if k == 0:
        return x - (x * e - hxs)
    e = (x * (e - c) - c) - hxs
    if k == -1:
        return 0.5 * (x - e) - 0.5
    if k == 1:
        return -2.0 * (e - (x + 0.5)) if x < -0.25 else 1.0 + 2.0 * (x - e)
    if k <= -2 or k > 56:
        return math.ldexp(1.0 - (e - x), k) - 1.0
    if k < 20:
        return math.ldexp((1.0 - math.ldexp(1.0, -k)) - (e - x), k)
    return math.ldexp((x - (e + math.ldexp(1.0, -k))) + 1.0, k)


def _plain_tanh(x: float) -> float:
    """V8's ieee754::tanh (FreeBSD msun s_tanh.c) with branches."""
    if math.isnan(x):
        return x
    if math.isinf(x):
        return math.copysign(1.0, x)
    ax = abs(x)
    if ax < 22.0:
        if ax < 2.0**-28:
            return x
        if ax >= 1.0:
            z = 1.0 - 2.0 / (_plain_expm1(2.0 * ax) + 2.0)
        else:
            t = _plain_expm1(-2.0 * ax)
            z = -t / (t + 2.0)
    else:
        z = 1.0
    return z if x >= 0 else -z


def test_branch_free_tanh_equals_plain_fdlibm_bit_for_bit():
    rng = np.random.default_rng(7)
    edges = [2.0**-28, 0.5 * 0.3465735912322998, 0.5 * 1.0397205352783203, 1.0,
             20 * 0.6931471805599453 / 2, 56 * 0.6931471805599453 / 2, 22.0]
    near = [e + k * np.spacing(e) for e in edges for k in range(-40, 41)]
    xs = np.concatenate([rng.normal(0, 1.5, 6000), rng.uniform(-25, 25, 6000),
                         np.exp(rng.uniform(-40, 3.2, 3000)), near,
                         [0.0, -0.0, 1e-300, math.inf, -math.inf]])
    xs = np.concatenate([xs, -xs])
    got = tanh_array(xs)
    want = np.array([_plain_tanh(float(x)) for x in xs])
    assert np.array_equal(got.view(np.int64), want.view(np.int64))


def test_one_kernel_specialisation_serves_every_caller():
    config = PlaygroundConfig(dataset="circle", hidden=(3,), epochs=3, seed="0.12345")
    simulate(config)
    Trainer(config, range(20), blocks=2).train(2, record_every=1)
    run_sweep(config, [(2, "none", 0.0), (4, "l1", 0.003)], seeds=9, epochs=2)
    assert len(engine.train_block.signatures) == 1
    assert len(engine.mean_loss.signatures) == 1


def test_jobs_on_threads_equal_jobs_in_turn():
    config = PlaygroundConfig(dataset="spiral", hidden=(5, 3), activation="sigmoid",
                              regularization="l1", reg_rate=0.01, batch_size=7)
    a, b = Trainer(config, range(24), blocks=3), Trainer(config, range(24), blocks=3)
    jobs_a, finish_a = a.train_jobs(12, record_every=4)
    jobs_b, finish_b = b.train_jobs(12, record_every=4)
    run_jobs(jobs_a, workers=1)
    run_jobs(jobs_b[::-1], workers=3)
    assert np.array_equal(finish_a(), finish_b())
    assert np.array_equal(a.weights(), b.weights()) and a.epoch == b.epoch == 12


def test_every_command_takes_quiet_and_json():
    runner = CliRunner()
    for command in (["--epochs", "3"], ["sweep", "--nodes", "2", "--seeds", "2", "--epochs", "3"],
                    ["task6", "--seeds", "2", "--epochs", "3"]):
        quiet = runner.invoke(app, [*command, "--quiet"])
        assert quiet.exit_code == 0, quiet.output
        assert quiet.stderr == ""
        as_json = runner.invoke(app, [*command, "--json", "--quiet"])
        assert as_json.exit_code == 0, as_json.output
        assert isinstance(json.loads(as_json.stdout), dict)


def test_grid_maps_from_the_kernel_equal_a_plain_forward_pass():
    from playground.features import build_features
    from playground.grid import grid_maps, grid_points, thumbnail

    result = simulate(PlaygroundConfig(dataset="xor", hidden=(3, 2), features="x1,x2,x1*x2",
                                       epochs=5, seed=4))
    inputs, maps = grid_maps(result)
    values = build_features(grid_points(), result.config.features)
    assert [m.shape for m in inputs] == [(100, 100)] * 3 and len(maps) == 3 + 2 + 1
    assert np.array_equal(inputs[2].ravel(), values[:, 2])
    plain = []
    for w, b in zip(result.layout.weight_matrices(result.flat_weights),
                    result.layout.bias_vectors(result.flat_biases), strict=True):
        values = np.tanh(values @ w.T + b)
        plain.extend(values.T)
    for got, want in zip(maps, plain, strict=True):
        np.testing.assert_allclose(got.ravel(), want, rtol=0, atol=1e-12)
    assert np.allclose(thumbnail(maps[0]), maps[0].reshape(10, 10, 10, 10).mean(axis=(1, 3)))
    assert inputs[0][0, 0] == -6.0 and inputs[1][0, 0] == 6.0  # top-left corner of the grid


def test_pictures_drawn_in_process_and_by_the_cli_child(tmp_path):
    from playground.plots import plot_run

    result = simulate(PlaygroundConfig(dataset="circle", hidden=(2,), regularization="l1",
                                       reg_rate=0.3, epochs=20, seed=1))
    paths = plot_run(result, tmp_path / "here", show_test=True)
    assert [p.name for p in paths] == ["boundary.png", "neurons.png", "network.png", "loss.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    shown = CliRunner().invoke(app, ["--nodes", "2", "--epochs", "5", "--out",
                                     str(tmp_path / "cli"), "--json"])
    assert shown.exit_code == 0, shown.output
    assert [p.rsplit("/", 1)[-1] for p in json.loads(shown.stdout)["pictures"]] == [
        p.name for p in paths]
    assert all((tmp_path / "cli" / p.name).stat().st_size > 1000 for p in paths)
