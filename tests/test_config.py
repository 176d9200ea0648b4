"""ModelConfig validation, round trips, presets and overrides."""

from __future__ import annotations

import json
import tomllib

import pytest

from hpsearch.config import PRESETS, ModelConfig, load_config_file, resolve_config
from hpsearch.errors import ConfigError


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_through_json_and_toml(name, tmp_path):
    cfg = PRESETS[name]
    assert ModelConfig.from_dict(json.loads(cfg.to_json())) == cfg
    assert ModelConfig.from_dict(tomllib.loads(cfg.to_toml())) == cfg
    for suffix in (".json", ".toml"):
        path = tmp_path / f"cfg{suffix}"
        path.write_text(cfg.to_json() if suffix == ".json" else cfg.to_toml())
        assert load_config_file(path) == cfg


def test_lab_presets_match_the_lab():
    assert PRESETS["model1"].hidden == (64, 32) and PRESETS["model1"].optimizer == "sgd"
    assert PRESETS["model2"].hidden == (128, 64, 32) and PRESETS["model2"].activation == "tanh"
    assert PRESETS["model3"].optimizer == "rmsprop" and PRESETS["model3"].learning_rate == 0.01
    assert PRESETS["model_d"].hidden == (128,) * 4 and PRESETS["model_d"].learning_rate is None
    assert all(cfg.output_activation == "softmax" for cfg in PRESETS.values())


@pytest.mark.parametrize("overrides, message", [
    ({"hidden": []}, "at least one layer"),
    ({"hidden": [64, 0]}, "must be positive"),
    ({"activation": "relux"}, "activation 'relux' is not supported"),
    ({"optimizer": "adamm"}, "optimizer 'adamm'"),
    ({"learning_rate": -1}, "learning_rate must be > 0"),
    ({"batch_size": 0}, "batch_size must be positive"),
    ({"epochs": -3}, "epochs must be positive"),
    ({"dropout": "dropout", "dropout_rate": 1.5}, "dropout_rate must be in"),
    ({"kernel_regularizer": "l2"}, "kernel_rate is 0"),
    ({"activity_regularizer": "l1", "activity_rate": 0.001, "activity_layers": [5]},
     "activity_layers \\[5\\] do not exist"),
    ({"loss": "hinge"}, "loss 'hinge' is not supported"),
    ({"output_activation": "relu"}, "output_activation 'relu' is not supported"),
    ({"epochs": "ten"}, "epochs must be a whole number"),
    ({"colour": "red"}, "unknown field\\(s\\) colour"),
])
def test_invalid_configs_explain_themselves(overrides, message):
    with pytest.raises(ConfigError, match=message):
        PRESETS["model1"].with_overrides(overrides)


def test_string_overrides_are_coerced():
    cfg = resolve_config("model1", None, ["hidden=256,128", "learning_rate=default",
                                         "dropout=gaussian", "epochs=3"])
    assert cfg.hidden == (256, 128) and cfg.learning_rate is None
    assert cfg.dropout == "gaussian" and cfg.epochs == 3
    with pytest.raises(ConfigError, match="key=value"):
        resolve_config("model1", None, ["epochs"])


def test_config_files_are_data_not_code(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("hidden = [64, 32\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config_file(bad)
    code = tmp_path / "code.json"
    code.write_text('{"activation": "__import__(\'os\').system(\'true\')"}')
    with pytest.raises(ConfigError, match="activation .* is not supported"):
        load_config_file(code)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="either --preset or --config"):
        resolve_config("model1", bad)


def test_the_lab_vocabulary_is_accepted_and_the_binary_trap_is_a_note():
    from hpsearch.config import notes

    for output in ("linear", "sigmoid", "softmax"):
        for loss in ("mean_squared_error", "binary_crossentropy", "categorical_crossentropy"):
            cfg = ModelConfig(output_activation=output, loss=loss)
            assert (cfg.output_activation, cfg.loss) == (output, loss)
    lab_default = ModelConfig(output_activation="sigmoid", loss="binary_crossentropy")
    assert any("argmax accuracy" in n and "binary accuracy" in n for n in notes(lab_default))
    assert notes(ModelConfig()) == []
