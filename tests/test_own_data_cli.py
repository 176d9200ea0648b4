"""Tables on the command line: `--dataset data.csv --target label [--test t.csv | --test-size]`
for every command that takes --dataset, scaling stored with the export, and one `error:` line
for each kind of bad table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import hpsearch as hp


def pets(n: int, seed: int = 0) -> pd.DataFrame:
    """Three separable classes named by strings, features on very different scales."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 3, n)
    return pd.DataFrame({"weight": 2 + k * 3 + rng.normal(size=n),
                         "height": 1000 + k * 400 + rng.normal(scale=100, size=n),
                         "colour": np.array(["red", "green", "blue"])[rng.integers(0, 3, n)],
                         "kind": np.array(["cat", "dog", "eel"])[k]})


@pytest.fixture
def tables(tmp_path):
    train, test = pets(300), pets(90, seed=1)
    paths = {"train": tmp_path / "train.csv", "test": tmp_path / "test.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    numeric = tmp_path / "numeric.csv"
    train.drop(columns="colour").to_csv(numeric, index=False)
    paths["numeric"] = numeric
    test.drop(columns="colour").to_csv(tmp_path / "numeric_test.csv", index=False)
    paths["numeric_test"] = tmp_path / "numeric_test.csv"
    test.drop(columns="height").to_csv(tmp_path / "other.csv", index=False)
    paths["other"] = tmp_path / "other.csv"
    test.assign(kind=np.where(np.arange(90) == 4, "fox", test["kind"])).drop(
        columns="colour").to_csv(tmp_path / "fox.csv", index=False)
    paths["fox"] = tmp_path / "fox.csv"
    return paths


def _one_error(code: int, out: str, err: str, needle: str) -> None:
    assert code == 2, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert needle in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("args, needle", [
    (["--dataset", "{numeric}"], "needs --target COLUMN"),
    (["--dataset", "{numeric}", "--target", "label"], "no column 'label' to use as --target; "
                                                      "the columns are weight, height, kind"),
    (["--dataset", "{train}", "--target", "kind"], "non-numeric feature columns colour"),
    (["--dataset", "{numeric}", "--target", "kind", "--test", "{other}"],
     "lacks height; has extra colour"),
    (["--dataset", "{numeric}", "--target", "kind", "--test", "{fox}"],
     "fox.csv (--target kind): y_test has labels never seen in y_train: 'fox'"),
    (["--dataset", "{numeric}", "--target", "kind", "--test", "{numeric_test}",
      "--test-size", "0.3"], "either --test FILE or --test-size"),
    (["--dataset", "{numeric}", "--target", "kind", "--scale", "zscore"],
     "scale 'zscore' is unknown"),
    (["--dataset", "fashion-mnist-sample", "--target", "kind"],
     "--target only apply to a table"),
    (["--dataset", "{numeric}", "--target", "kind", "--one-hot", "size"],
     "no column 'size' to one-hot encode"),
])
@pytest.mark.parametrize("command", ["train", "cv", "export", "tune", "study"])
def test_bad_tables_get_one_error_line(cli, tables, tmp_path, command, args, needle):
    args = [a.format(**tables) for a in args]
    before = {"train": ["train", "--preset", "model1"], "cv": ["cv", "--preset", "model1"],
              "export": ["export", "--preset", "model1", "--out", str(tmp_path / "ex")],
              "tune": ["tune", "--directory", str(tmp_path / "tp")],
              "study": ["study", "batch-size", "--out", str(tmp_path / "st")]}[command]
    _one_error(*cli(*before, *args, "--quiet"), needle)


def test_train_reads_a_table_with_one_hot_and_a_held_out_test_set(cli, tables):
    code, out, err = cli("train", "--preset", "model1", "--set", "optimizer=adam", "--epochs",
                         "10", "--dataset", str(tables["train"]), "--target", "kind",
                         "--one-hot", "colour", "--test-size", "0.25", "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["test_accuracy"] > 0.8  # separable classes: standardised, it learns
    code, out, err = cli("train", "--preset", "model1", "--epochs", "1", "--dataset",
                         str(tables["train"]), "--target", "kind", "--one-hot", "colour")
    assert code == 0 and "240 train / 60 test (held out, stratified), input (5,)" in \
        " ".join(out.split())


def test_parquet_and_a_missing_pyarrow(cli, tables, tmp_path, monkeypatch):
    path = tmp_path / "pets.parquet"
    pd.read_csv(tables["numeric"]).to_parquet(path)
    data = hp.load_dataset(str(path), target="kind")
    assert data.num_classes == 3 and data.input_shape == (2,)

    def no_pyarrow(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow'")

    monkeypatch.setattr(pd, "read_parquet", no_pyarrow)
    _one_error(*cli("train", "--dataset", str(path), "--target", "kind"),
               "reading parquet needs pyarrow")


def test_exported_scaling_reproduces_predictions_on_raw_rows(cli, tables, tmp_path):
    out = tmp_path / "export"
    code, _, err = cli("export", "--preset", "model1", "--set", "optimizer=adam", "--epochs",
                       "10", "--dataset", str(tables["numeric"]), "--target", "kind",
                       "--test", str(tables["numeric_test"]), "--scale", "minmax", "--out",
                       str(out), "--quiet")
    assert code == 0, err
    card = json.loads((out / "model_card.json").read_text())
    features = card["dataset"]["features"]
    train = pd.read_csv(tables["numeric"])
    assert features["scale"] == "minmax" and features["columns"] == ["weight", "height"]
    assert features["offset"] == pytest.approx(train[["weight", "height"]].min().tolist())
    raw = pd.read_csv(tables["numeric_test"])
    guessed = hp.load_export(out).predict(raw.drop(columns="kind"))  # raw rows, card applied
    assert np.mean(guessed == raw["kind"]) == pytest.approx(card["test"]["accuracy"], abs=1e-6)
    code, printed, err = cli("predict", str(out), str(tables["numeric_test"]), "--json")
    assert code == 0, err
    payload = json.loads(printed)
    assert payload["accuracy"] == pytest.approx(card["test"]["accuracy"], abs=1e-6)
    assert payload["predictions"] == guessed.tolist() and card["dataset"]["target"] == "kind"
    written = tmp_path / "predictions.csv"
    code, printed, _ = cli("predict", str(out), str(tables["numeric_test"]), "--out", str(written))
    assert code == 0 and "90 rows: cat " in printed and f"wrote {written}" in printed
    assert list(pd.read_csv(written).columns) == ["prediction", "p(cat)", "p(dog)", "p(eel)"]
    _one_error(*cli("predict", str(out), str(tables["other"])),
               "other.csv lacks the feature columns height that the model was trained on")
    _one_error(*cli("predict", str(tmp_path), str(tables["numeric_test"])),
               "holds no readable model_card.json")


@pytest.mark.slow
def test_tune_stores_the_table_settings_for_resume_and_export(cli, tables, tmp_path,
                                                               monkeypatch):
    project = tmp_path / "tp"
    base = ["tune", "--directory", str(project), "--tuner", "random", "--folds", "2",
            "--epochs", "2", "--quiet"]
    monkeypatch.chdir(tmp_path)  # the paths typed are relative to here
    code, out, err = cli(*base, "--max-trials", "2", "--dataset", "numeric.csv",
                         "--target", "kind", "--scale", "minmax")
    assert code == 0, err
    # stored and printed absolute, so the command runs from any directory
    assert f"--dataset {tables['numeric']} --target kind --scale minmax" in out
    stored = json.loads((project / "project.json").read_text())["spec"]
    assert stored["dataset"] == str(tables["numeric"])
    _one_error(*cli(*base, "--resume", "--max-trials", "3", "--scale", "none"),
               "scale=minmax -> scale=none")
    code, _, err = cli(*base, "--resume", "--max-trials", "2", "--dataset", "numeric.csv")
    assert code == 0, err  # the same file typed relative again is no conflict
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, _, err = cli("export", "--from", str(project), "--quiet")
    assert code == 0, err
    card = json.loads((project / "export" / "model_card.json").read_text())
    assert card["dataset"]["features"]["scale"] == "minmax"
    assert card["dataset"]["test_split"]["seed"] == 0 and card["dataset"]["n_test"] == 60
    assert card["dataset"]["classes"] == ["cat", "dog", "eel"]


def test_api_tune_of_a_loaded_table_stores_how_to_load_it(tables, tmp_path):
    data = hp.load_dataset(str(tables["numeric"]), target="kind", scale="minmax",
                           test=str(tables["numeric_test"]))
    search = hp.tune(tmp_path / "t", data, max_trials=1, epochs=1, tuner="random", quiet=True)
    assert search.export_command().endswith(
        f"--dataset {tables['numeric']} --target kind --test {tables['numeric_test']} "
        "--scale minmax")
    done = hp.load_search(tmp_path / "t").export(quiet=True)  # reloaded from project.json
    assert done.card["dataset"]["features"]["scale"] == "minmax"
    assert done.card["dataset"]["n_test"] == 90 and done.card["dataset"]["test"] == "given"


def test_resume_of_an_older_project_with_relative_paths(tables, tmp_path, monkeypatch):
    """Projects written before paths were stored absolute keep resuming from where they ran
    (their relative paths meant that directory) and are upgraded to absolute paths."""
    from hpsearch.search.spec import TuneSpec

    old = TuneSpec(dataset="numeric.csv", data_options={"target": "kind", "test":
                                                        "numeric_test.csv"})
    monkeypatch.chdir(tmp_path)
    given = TuneSpec.given({"dataset": "numeric.csv", "max_trials": 9,
                            "data_options": {"test": "./numeric_test.csv"}})
    assert given["dataset"] == str(tables["numeric"])
    spec = old.resume(given, None, "tp")
    assert spec.dataset == str(tables["numeric"]) and spec.max_trials == 9
    assert spec.data_options == {"target": "kind", "test": str(tables["numeric_test"])}


def test_study_dry_run_reads_a_table(cli, tables):
    code, out, err = cli("study", "batch-size", "--dry-run", "--json", "--dataset",
                         str(tables["numeric"]), "--target", "kind")
    assert code == 0, err
    assert json.loads(out)["n_train"] == 240
