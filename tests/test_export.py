"""export: refit on all training data, test once, and a model that reloads identically."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hpsearch.config import PRESETS
from hpsearch.errors import ProjectError
from hpsearch.training.export import export_model, load_model

TINY = PRESETS["model1"].with_overrides({"hidden": [16], "epochs": 1, "batch_size": 64})


@pytest.mark.parametrize("scaling", ["none", "standard"])
def test_export_round_trip_gives_same_predictions(small_data, tmp_path, scaling):
    # standardised inputs are folded into the first layer: the file reads pixels / 255
    config = TINY.replace(input_scaling=scaling)
    card = export_model(config, small_data, tmp_path / "out", seed=0, cv={"mean": 0.5})
    on_disk = json.loads((tmp_path / "out" / "model_card.json").read_text())
    assert on_disk["config"] == config.to_dict() and on_disk["cv"] == {"mean": 0.5}
    assert on_disk["dataset"]["n_train"] == len(small_data.y_train)
    assert on_disk["dataset"]["sha256"] == small_data.checksum()
    assert {"keras", "python"} <= set(on_disk["versions"])
    assert 0 < card["test"]["accuracy"] <= 1

    model = load_model(tmp_path / "out" / "model.keras")
    predictions = model.predict(small_data.x_test, verbose=0)
    assert predictions.shape == (len(small_data.y_test), 10)
    accuracy = float(np.mean(predictions.argmax(axis=1) == small_data.y_test))
    assert accuracy == pytest.approx(card["test"]["accuracy"], abs=1e-6)
    again = load_model(tmp_path / "out" / "model.keras").predict(small_data.x_test, verbose=0)
    np.testing.assert_allclose(again, predictions, rtol=1e-6)


def test_export_refuses_to_overwrite(small_data, tmp_path):
    export_model(TINY, small_data, tmp_path, seed=0)
    before = (tmp_path / "model_card.json").read_text()
    with pytest.raises(ProjectError, match="--overwrite"):
        export_model(TINY, small_data, tmp_path, seed=1)
    assert (tmp_path / "model_card.json").read_text() == before


def test_load_model_errors(tmp_path):
    with pytest.raises(ProjectError, match="does not exist"):
        load_model(tmp_path / "nope.keras")
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ProjectError, match="not a loadable"):
        load_model(junk)


def test_an_ensemble_export_saves_the_mean_of_its_members_and_each_members_score(
        small_data, tmp_path):
    card = export_model(TINY, small_data, tmp_path / "ens", seed=3, ensemble=3)
    members = card["ensemble"]
    assert members["seeds"] == [3, 4, 5] and len(members["member_test_accuracy"]) == 3
    assert members["member_test_accuracy_std"] == pytest.approx(
        np.std(members["member_test_accuracy"], ddof=1))
    # each member is the single export of its seed: the same test accuracy
    alone = export_model(TINY, small_data, tmp_path / "one", seed=4)
    assert members["member_test_accuracy"][1] == pytest.approx(alone["test"]["accuracy"])
    model = load_model(tmp_path / "ens" / "model.keras")  # safe mode: stock layers only
    x = small_data.x_test
    mean = np.mean([layer.predict(x, verbose=0) for layer in model.layers
                    if layer.name.startswith("member_")], axis=0)
    together = model.predict(x, verbose=0)
    np.testing.assert_allclose(together, mean, rtol=1e-5, atol=1e-7)
    assert card["test"]["accuracy"] == pytest.approx(
        float(np.mean(together.argmax(axis=1) == small_data.y_test)))
    chosen = together[np.arange(len(x)), small_data.y_test]
    assert card["test"]["loss"] == pytest.approx(float(np.mean(-np.log(chosen))), rel=1e-4)


def test_an_ensemble_of_zero_is_refused_before_any_training(small_data, tmp_path):
    from hpsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="at least 1"):
        export_model(TINY, small_data, tmp_path, seed=0, ensemble=0)
