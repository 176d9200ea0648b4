"""The Typer app: output, --json shape, pictures, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from playground.cli import app

runner = CliRunner()


def test_single_run_prints_site_style_line():
    result = runner.invoke(app, ["--dataset", "xor", "--nodes", "3", "--epochs", "20",
                                 "--seed", "0.12345", "--quiet", "--no-plots"])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("Epoch 000,020  Test loss 0.") and "Training loss 0." in line


def test_json_output_shape():
    result = runner.invoke(app, ["--layers", "4,2", "--epochs", "15", "--seed", "7", "--json",
                                 "--reg", "l2", "--reg-rate", "0.01", "--no-plots"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["epoch"] == list(range(16))
    assert len(payload["train_loss"]) == len(payload["test_loss"]) == 16
    assert [len(m) for m in payload["weights"]] == [4, 2, 1]  # dest nodes per layer
    assert [len(m[0]) for m in payload["weights"]] == [2, 4, 2]  # incoming links
    assert [len(b) for b in payload["biases"]] == [4, 2, 1]
    assert payload["train_loss"][0] != payload["train_loss"][-1]
    assert payload["pictures"] == [] and payload["keras_model"] is None


def test_a_run_draws_by_default_into_a_run_folder(tmp_path, monkeypatch):
    """The design's own example draws its boundary and weights without --out (Task 6)."""
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--nodes", "3", "--reg", "l1", "--reg-rate", "0.003",
                                 "--epochs", "30"])
    assert result.exit_code == 0, result.output
    folder = Path("playground-runs") / "circle_h3_l1-0.003_e30_seed0.12345"
    names = ["boundary.png", "neurons.png", "network.png", "loss.png"]
    assert f"pictures: {folder / 'boundary.png'}" in result.stdout
    for name in names:
        assert (folder / name).stat().st_size > 1000, name
    other = runner.invoke(app, ["--nodes", "2", "--epochs", "30", "--no-plots"])
    assert other.exit_code == 0 and "pictures" not in other.stdout
    assert sorted(p.name for p in Path("playground-runs").iterdir()) == [folder.name]
    noted = runner.invoke(app, ["--nodes", "3", "--reg", "l1", "--epochs", "5", "--no-plots"])
    assert "--reg l1 with --reg-rate 0 changes nothing" in noted.stderr


@pytest.mark.parametrize("config", [
    dict(dataset="circle", hidden=(3,), regularization="l1", reg_rate=0.003, epochs=200),
    dict(dataset="spiral", hidden=(4, 2), activation="relu", epochs=40,
         features=("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")),
    dict(dataset="xor", hidden=(2,), activation="sigmoid", features=("x1*x2",), epochs=40),
    dict(dataset="reg-gauss", hidden=(), epochs=20, seed=3),
])
def test_exported_keras_model_predicts_what_the_simulator_does_on_the_grid(tmp_path, config):
    import keras

    from playground.config import PlaygroundConfig
    from playground.grid import grid_maps, grid_points
    from playground.keras_export import export_keras
    from playground.trainer import simulate

    result = simulate(PlaygroundConfig(**config))
    path = export_keras(result, tmp_path / "pg.keras")
    model = keras.saving.load_model(path, safe_mode=True)  # stock layers and ops only
    simulator = grid_maps(result)[1][-1].ravel()  # the output node over the site's grid
    points = grid_points()
    exact = keras.ops.convert_to_numpy(model(points))[:, 0]  # float64 all the way
    np.testing.assert_allclose(exact, simulator, rtol=0, atol=1e-12)
    predicted = model.predict(points, verbose=0)[:, 0]  # predict feeds float32 points
    np.testing.assert_allclose(predicted, simulator, rtol=0, atol=1e-5)
    if not result.config.is_regression:
        assert ((predicted > 0) == (simulator > 0)).mean() > 0.999


def test_export_keras_from_the_command_line(tmp_path):
    path = tmp_path / "m" / "pg.keras"
    result = runner.invoke(app, ["--nodes", "3", "--epochs", "20", "--no-plots", "--json",
                                 "--export-keras", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["keras_model"] == str(path) and path.stat().st_size > 0
    bad = runner.invoke(app, ["--epochs", "5", "--no-plots", "--export-keras", "pg.h5"])
    assert bad.exit_code == 2 and "must end in .keras" in bad.stderr
    (tmp_path / "a-file").write_text("")
    blocked = runner.invoke(app, ["--epochs", "5", "--no-plots", "--export-keras",
                                  str(tmp_path / "a-file" / "pg.keras")])
    assert blocked.exit_code == 2 and "choose a writable place" in blocked.stderr
    assert "Epoch" not in blocked.stdout  # refused before training


def test_pictures_are_written(tmp_path):
    result = runner.invoke(app, ["--nodes", "2", "--epochs", "5", "--out", str(tmp_path),
                                 "--show-test", "--quiet"])
    assert result.exit_code == 0, result.output
    for name in ("boundary.png", "neurons.png", "network.png", "loss.png"):
        assert (tmp_path / name).stat().st_size > 1000


@pytest.mark.parametrize("args", [
    ["--dataset", "moons"],
    ["--features", "x1,z"],
    ["--activation", "softmax"],
    ["--nodes", "9"],
    ["--layers", "1,1,1,1,1,1,1"],
    ["--lr", "-0.1"],
    ["--reg-rate", "-1", "--reg", "l1"],
    ["--reg", "l3"],
    ["--batch-size", "0"],
    ["--nodes", "2", "--layers", "3"],
    ["sweep", "--nodes", "2,0"],
    ["sweep", "--reg", "l5"],
    ["sweep", "--seeds", "0"],
])
def test_bad_input_is_one_line_exit_2(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.output


def test_sweep_json_and_picture(tmp_path):
    result = runner.invoke(app, ["sweep", "--nodes", "2,3", "--reg", "none,l1", "--seeds", "4",
                                 "--epochs", "10", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)["runs"]
    assert [(r["nodes"], r["reg"], r["reg_rate"]) for r in runs] == [
        (2, "none", 0.0), (2, "l1", 0.003), (3, "none", 0.0), (3, "l1", 0.003)]
    assert all(0.0 <= r["separated_fraction"] <= 1.0 for r in runs)
    assert (tmp_path / "sweep.png").exists()


def test_task6_explains():
    result = runner.invoke(app, ["task6", "--seeds", "3", "--epochs", "20"])
    assert result.exit_code == 0, result.output
    assert "2 neurons, no reg" in result.stdout and "4 neurons, L1 0.003" in result.stdout
    assert "three half-planes can bound a region" in result.stdout


def test_startup_imports_neither_numba_nor_keras_until_training():
    """`hpsearch playground` parses and forks its painter before numba loads (start-up speed)."""
    import subprocess
    import sys

    code = ("import sys; import hpsearch.cli as c; c._register(['playground']); "
            "import playground.cli, playground.keras_export; "
            "print(sorted(m for m in ('numba', 'tensorflow', 'keras', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_painter_process_draws_the_same_pictures_as_in_process(tmp_path):
    from playground.cli import _Painter
    from playground.config import PlaygroundConfig
    from playground.plots import plot_run
    from playground.trainer import simulate

    result = simulate(PlaygroundConfig(dataset="xor", hidden=(3,), epochs=30, seed="0.5"))
    forked = _Painter().paint(result, tmp_path / "forked", show_test=True)
    local = plot_run(result, tmp_path / "local", show_test=True)
    assert [p.name for p in forked] == [p.name for p in local]
    for a, b in zip(forked, local, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("extra, code", [(["--nodes", "30"], 2), (["--nodes", "2"], 0)])
def test_entry_point_painter_never_outlives_the_command(tmp_path, extra, code):
    """The painter forked before parsing exits with the command, also after bad options.

    A lingering child would keep the captured stdout open and make this call time out.
    """
    import subprocess
    import sys

    args = [sys.executable, "-c", "from hpsearch.cli import main; main()", "playground",
            *extra, "--epochs", "5", "--out", str(tmp_path), "--quiet"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == code, done.stderr
    assert (tmp_path / "boundary.png").exists() == (code == 0)
