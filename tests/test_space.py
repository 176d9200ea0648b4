"""The search space: KT declaration <-> ModelConfig, and space-file / --fix validation."""

from __future__ import annotations

import pytest

from hpsearch.cli import run
from hpsearch.errors import SpaceError
from hpsearch.search.space import (
    DEFAULT_SPACE,
    UNDECLARED_WHEN_PINNED,
    Space,
    build_space,
    make_knob,
)


def test_default_space_declares_every_knob_and_warm_starts_from_defaults() -> None:
    space = build_space()
    hp = space.declare()
    names = {p.name for p in hp.space}
    # pinned knobs added after searches existed are not declared (`Space.declare`)
    assert set(DEFAULT_SPACE) - {"units", *UNDECLARED_WHEN_PINNED} <= names
    assert {"units_0", "units_3"} <= names
    cfg = space.to_config(hp.values)
    assert cfg.hidden == (512, 512) and cfg.optimizer == "adam" and cfg.lr_schedule == "cosine"
    assert cfg.label_smoothing == 0.1 and cfg.input_scaling == "standard"
    assert cfg.kernel_regularizer == "none" and cfg.kernel_rate == 0.0


def test_to_config_uses_only_the_active_layers() -> None:
    space = build_space()
    values = {"layers": 1, "units_0": 64, "units_1": 512, "activity_regularizer": "l2",
              "activity_rate": 1e-4}
    cfg = space.to_config(values)
    assert cfg.hidden == (64,) and cfg.activity_layers == (0,)


def test_fix_pins_knobs_and_config_fields() -> None:
    space = build_space(fixes=["hidden=128,64", "optimizer=sgd", "epochs=3"])
    cfg = space.to_config(space.declare().values)
    assert cfg.hidden == (128, 64) and cfg.optimizer == "sgd" and cfg.epochs == 3
    assert "optimizer" not in space.searched()
    assert Space.from_dict(space.to_dict()).fingerprint() == space.fingerprint()


def test_space_file_narrows(tmp_path) -> None:
    path = tmp_path / "space.toml"
    path.write_text('[layers]\nmin = 1\nmax = 2\n[activation]\nvalues = ["relu", "elu"]\n'
                    '[learning_rate]\nmin = 1e-4\nmax = 1e-2\nsampling = "log"\n')
    space = build_space(path)
    assert space.knobs["activation"].values == ("relu", "elu")
    assert space.knobs["layers"].max == 2
    assert space.fingerprint() != build_space().fingerprint()


@pytest.mark.parametrize("text, fragment", [
    ("[colour]\nvalues = ['red']\n", "unknown knob 'colour'"),
    ("[activation]\nvalues = []\n", "non-empty list"),
    ("[units]\nmin = 512\nmax = 32\n", "min 512 > max 32"),
    ("[units]\nmin = 32\nmaks = 64\n", "unknown key(s) maks"),
    ("[activation]\nvalues = ['relu', 'swishy']\n", "'swishy' is not supported"),
    ("[learning_rate]\nmin = 0\nmax = 1\n", "learning_rate must be > 0"),
    ("[dropout_rate]\nmin = 0.1\nmax = 1.5\n", "dropout_rate must be in (0, 1)"),
    ("[layers]\nmin = 1.5\nmax = 3\n", "whole numbers"),
    ("[activation]\nmin = 1\nmax = 2\n", "is a choice"),
    ("[units]\nmin = 32\nmax = 64\nstep = 1\nsampling = 'log'\n", "step must be"),
    ("not toml at all [", "not valid TOML"),
])
def test_space_file_errors(tmp_path, text: str, fragment: str) -> None:
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(SpaceError) as info:
        build_space(path)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("fix, fragment", [
    ("optimizer", "write knob=value"),
    ("optimizer=adamx", "'adamx' is not supported"),
    ("hidden=a,b", "layer sizes"),
    ("epochs=0", "epochs values must be whole numbers >= 1"),
    ("colour=red", "unknown field"),
])
def test_bad_fix(fix: str, fragment: str) -> None:
    with pytest.raises(SpaceError) as info:
        build_space(fixes=[fix])
    assert fragment in str(info.value)


def test_make_knob_bare_value_pins() -> None:
    assert make_knob("batch_size", 64).fixed


def test_cli_bad_space_file_is_one_line_exit_2(tmp_path, capsys) -> None:
    path = tmp_path / "space.toml"
    path.write_text("[units]\nmin = 512\nmax = 32\n")
    code = run(["tune", "--space", str(path), "--dataset", "fashion-mnist-sample",
                "-o", str(tmp_path / "p")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "min 512 > max 32" in err
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("warm_start", [True, False])
def test_first_trial_is_the_defaults_unless_warm_start_is_off(tmp_path, warm_start) -> None:
    import keras_tuner as kt

    from hpsearch.search.oracles.base import oracle_seed
    from hpsearch.search.spec import TuneSpec
    from hpsearch.search.tuner import make_oracle

    space = build_space()
    ours = make_oracle(space, TuneSpec(tuner="random", max_trials=3, seed=4,
                                           warm_start=warm_start))
    plain = kt.oracles.RandomSearchOracle(objective=kt.Objective("val_accuracy", "max"),
                                          max_trials=3, seed=oracle_seed(4),
                                          hyperparameters=space.declare())
    for name, oracle in (("ours", ours), ("plain", plain)):
        oracle._set_project_dir(str(tmp_path), name)
    first = ours.create_trial("t").hyperparameters.values
    defaults = space.to_config(space.declare().values)
    if warm_start:
        assert space.to_config(first) == defaults
    else:  # the bench's premise: exactly the configs plain Keras Tuner samples
        assert first == plain.create_trial("t").hyperparameters.values
        assert space.to_config(first) != defaults


def test_the_output_head_is_an_opt_in_knob():
    from hpsearch.search.space import build_space

    default = build_space().to_config({})
    assert (default.output_activation, default.loss) == ("softmax", "categorical_crossentropy")
    lab = build_space(fixes=["head=sigmoid-bce"]).to_config({})
    assert (lab.output_activation, lab.loss) == ("sigmoid", "binary_crossentropy")
    searched = build_space(fixes=[]).knobs["head"]
    assert searched.fixed  # pinned unless the user opts in


def test_a_space_file_without_defaults_warm_starts_from_the_documented_ones(tmp_path):
    """Not the minimum of every range (which was [32] relu sgd lr=1e-4, the worst config):
    each knob's default from docs/TUNE.md, clamped into the user's range, or the first value
    of a choice that does not hold it."""
    path = tmp_path / "space.toml"
    path.write_text('[units]\nmin = 32\nmax = 256\n[learning_rate]\nmin = 1e-4\nmax = 1e-2\n'
                    'sampling = "log"\n[optimizer]\nvalues = ["sgd", "adam"]\n'
                    '[batch_size]\nvalues = [32, 64]\n[layers]\nmin = 1\nmax = 3\n')
    cfg = build_space(path).to_config({})
    assert cfg.hidden == (256, 256)  # layers 2 (default), units 512 clamped to 256
    assert (cfg.learning_rate, cfg.optimizer, cfg.batch_size) == (1e-3, "adam", 32)
