"""Your own data in the API: `Dataset.from_arrays` (numpy, pandas, lists, any labels), the
constructor's own checks, and predictions/model cards that speak the original labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hpsearch as hp
from hpsearch.data import Dataset
from hpsearch.errors import DataError


def blobs(n: int = 300, labels=(1, 5, 9), seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Separable clusters with two numeric columns on very different scales."""
    rng = np.random.default_rng(seed)
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[
        rng.integers(0, len(labels), n)]
    centre = np.array([labels.index(v) for v in y], dtype=float)
    frame = pd.DataFrame({"a": centre * 3 + rng.normal(size=n),
                          "b": 1000 + centre * 300 + rng.normal(scale=100, size=n)})
    return frame, y


def test_constructor_derives_classes_from_labels_not_fashion_mnist():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(400, 20)), np.arange(400) % 20
    data = hp.Dataset("mine", x[:300], y[:300], x[300:], y[300:])
    assert data.num_classes == 20 and data.class_names[:3] == ("0", "1", "2")
    assert "20 classes" in data.summary()
    frame = pd.DataFrame(x)
    assert hp.Dataset("df", frame[:300], y[:300], frame[300:], y[300:]).num_classes == 20


@pytest.mark.parametrize("bad, message", [
    ({"y_train": np.array([1, 5, 9] * 10)}, "from_arrays does it"),
    ({"y_train": np.array(["a", "b"] * 15)}, "from_arrays maps any labels"),
    ({"x_train": np.full((30, 2), np.nan)}, "x_train has 60 non-finite"),
    ({"y_test": np.array([0, 1, 2, 3])}, "y_test has label 3"),
    ({"x_test": np.zeros((4, 3))}, "x_train rows (2,) and x_test rows (3,) differ"),
])
def test_constructor_refuses_what_load_dataset_refuses(bad, message):
    arrays = {"x_train": np.zeros((30, 2)), "y_train": np.arange(30) % 3,
              "x_test": np.zeros((4, 2)), "y_test": np.array([0, 1, 2, 0])} | bad
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Dataset("mine", **arrays)
    with pytest.raises(DataError, match="class_names has 2 names"):
        Dataset.from_arrays(np.zeros((30, 2)), np.arange(30) % 3, class_names=["a", "b"])


@pytest.mark.parametrize("labels", [(1, 5, 9), ("cat", "dog", "eel"), (True, False)])
def test_any_label_set_becomes_classes_with_original_names(labels):
    x, y = blobs(labels=labels)
    data = Dataset.from_arrays(x, y, name="blobs")
    assert data.num_classes == len(labels)
    assert set(data.classes) == set(labels) and data.class_names == tuple(map(str, data.classes))
    assert set(np.unique(data.y_train)) == set(range(len(labels)))
    decoded = np.array(data.classes, dtype=object)[data.y_train]
    assert set(decoded) == set(labels)


def test_categorical_order_lists_and_explicit_names():
    y = pd.Categorical(["lo", "hi", "mid"] * 20, categories=["lo", "mid", "hi"], ordered=True)
    x = [[float(i), float(i % 3)] for i in range(60)]  # plain lists
    data = Dataset.from_arrays(x, pd.Series(y))
    assert data.classes == ("lo", "mid", "hi")
    named = Dataset.from_arrays(x, [0, 1, 2] * 20, class_names=["zero", "one", "two"])
    assert named.class_names == ("zero", "one", "two") and named.classes == (0, 1, 2)


def test_held_out_test_set_is_stratified_seeded_and_recorded():
    x, y = blobs(n=500)
    one, two = (Dataset.from_arrays(x, y, seed=3) for _ in range(2))
    other = Dataset.from_arrays(x, y, seed=4)
    np.testing.assert_array_equal(one.x_test, two.x_test)
    assert not np.array_equal(one.x_test, other.x_test)
    assert len(one.y_test) == 100 and len(one.y_train) == 400
    train_share = np.bincount(one.y_train) / 400
    test_share = np.bincount(one.y_test) / 100
    assert np.abs(train_share - test_share).max() < 0.011  # stratified
    assert one.provenance["test"] == "held out"
    assert one.card()["test_split"] | {} == {
        "test_size": 0.2, "stratified": True, "seed": 3, "n_test": 100,
        "method": "sklearn.model_selection.train_test_split"}
    assert "held out, stratified" in one.summary()


def test_scaling_is_learned_on_training_rows_only():
    x, y = blobs(n=400)
    given = Dataset.from_arrays(x[:300], y[:300], x[300:] + 5, y[300:])
    assert np.allclose(given.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(given.x_train.std(axis=0), 1, atol=1e-4)
    assert given.x_test.mean() > 0.5  # test rows shifted by +5: not re-centred on themselves
    assert given.features.offset[0] == pytest.approx(x["a"][:300].mean())
    minmax = Dataset.from_arrays(x[:300], y[:300], x[300:], y[300:], scale="minmax")
    assert minmax.x_train.min() == 0 and minmax.x_train.max() == pytest.approx(1)
    raw = Dataset.from_arrays(x[:300], y[:300], x[300:], y[300:], scale="none")
    np.testing.assert_allclose(raw.x_train, x[:300].to_numpy(), rtol=1e-6)


def test_text_columns_are_refused_by_name_or_one_hot_encoded():
    x, y = blobs(n=60)
    x["colour"] = ["red", "green", "blue"] * 20
    x["city"] = ["Oslo", "Rome"] * 30
    with pytest.raises(DataError, match="non-numeric feature columns colour, city"):
        Dataset.from_arrays(x, y)
    data = Dataset.from_arrays(x, y, one_hot=["colour", "city"])
    assert data.input_shape == (7,)
    assert data.features.inputs[2:5] == ["colour=blue", "colour=green", "colour=red"]
    test = x.iloc[:3].assign(colour=["red", "purple", "red"])
    with pytest.raises(DataError, match="column colour has values never seen in training: "
                                        "'purple'"):
        data.features.transform(test, "x_test")


@pytest.mark.parametrize("change, message", [
    (lambda x, y: (x.assign(b=np.where(np.arange(len(x)) == 7, np.nan, x["b"])), y),
     "x_train has 1 missing or non-finite values .* column b, row"),
    (lambda x, y: (x.iloc[:-1], y), "x_train has 299 rows but y_train has 300 labels"),
    (lambda x, y: (x, np.full(len(y), 4)), "y_train holds a single class"),
    (lambda x, y: (x, np.where(np.arange(len(y)) == 3, None, y)),
     r"missing labels .* y_train\[3\]"),
    (lambda x, y: (x, np.linspace(0, 1, len(y))), "non-integer numbers"),
])
def test_every_check_names_the_array(change, message):
    x, y = change(*blobs())
    with pytest.raises(DataError, match=message):
        Dataset.from_arrays(x, y)


def test_unseen_test_labels_and_half_a_test_set_are_refused():
    x, y = blobs()
    with pytest.raises(DataError, match=r"y_test has labels never seen in y_train: 7 \(first at "
                                        r"y_test\[1\]\)"):
        Dataset.from_arrays(x, y, x.iloc[:3], [1, 7, 5])
    with pytest.raises(DataError, match="x_test was given without y_test"):
        Dataset.from_arrays(x, y, x.iloc[:3])
    with pytest.raises(DataError, match="y_train class 0 has 1 example"):
        Dataset.from_arrays(x.iloc[:4], [1, 5, 5, 5])


def test_predictions_and_the_exported_card_speak_the_original_labels(tmp_path):
    x, y = blobs(n=400, labels=("cat", "dog", "eel"))
    data = Dataset.from_arrays(x[:300], y[:300], x[300:], y[300:], name="pets")
    cfg = hp.preset("model1").replace(optimizer="adam", learning_rate=0.01)
    fit = hp.train(cfg, data, epochs=15, quiet=True)
    guessed = fit.predict(x[300:])
    assert set(guessed) <= {"cat", "dog", "eel"}
    assert np.mean(guessed == y[300:]) == pytest.approx(fit.test_accuracy, abs=1e-6)
    done = hp.export(cfg, data, tmp_path / "export", epochs=15, quiet=True)
    card = done.card["dataset"]
    assert card["classes"] == ["cat", "dog", "eel"] and card["test"] == "given"
    assert card["features"]["columns"] == ["a", "b"] and card["features"]["scale"] == "standard"
    predictor = hp.load_export(tmp_path / "export")  # model.keras + card, nothing else
    raw = predictor.predict(x[300:])  # raw, unscaled rows
    assert np.mean(raw == y[300:]) == pytest.approx(done.test_accuracy, abs=1e-6)
    assert list(predictor.predict_proba(x[300:302]).columns) == ["cat", "dog", "eel"]
    ints = Dataset.from_arrays(x[:300], np.where(y[:300] == "cat", 1, 9))
    assert hp.train(cfg, ints, epochs=1, quiet=True).predict(x[:5]).dtype.kind == "i"


def test_a_search_of_in_memory_data_says_to_pass_it_again(tmp_path, cli):
    x, y = blobs(n=200)
    data = Dataset.from_arrays(x, y, name="blobs")
    with pytest.raises(hp.ConfigError, match=r"in-memory data \('blobs'\) has neither"):
        hp.tune(tmp_path / "w", data, max_trials=1, workers=1, quiet=True)
    search = hp.tune(tmp_path / "t", data, max_trials=1, epochs=1, tuner="random", quiet=True)
    hint = "hp.load_search(" + repr(str(tmp_path / "t")) + ").export(data=...)"
    assert search.export_command().startswith(hint)  # no shell command could load it
    assert "blobs" in search.export_command()
    reread = hp.load_search(tmp_path / "t")
    with pytest.raises(hp.DataError, match="tuned on in-memory data .*export\\(data=data\\)"):
        reread.export(quiet=True)
    for command in (["export", "--from", str(tmp_path / "t")],
                    ["tune", "--directory", str(tmp_path / "t"), "--resume"]):
        code, _, err = cli(*command, "--quiet")
        assert code == 2 and err.count("\n") == 1 and err.startswith("error: "), err
        assert "in-memory data ('blobs'" in err and "Traceback" not in err
    done = reread.export(tmp_path / "out", data=data, quiet=True)
    assert done.card["cv"]["trial_id"] == search.best["trial_id"]
