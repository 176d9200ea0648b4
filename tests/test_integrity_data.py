"""Data that cannot mean anything is refused by `load_dataset` for every source, in one line
naming the file, the array and the problem; suspicious pixel ranges are warnings."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hpsearch.data import IDX_FILES, check_folds, load_dataset
from hpsearch.errors import DataError, DataWarning


def _npz(tmp: Path, **overrides: np.ndarray) -> str:
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.random((20, 4, 4)), "y_train": np.arange(20) % 2,
              "x_test": rng.random((10, 4, 4)), "y_test": np.arange(10) % 2} | overrides
    path = tmp / "data.npz"
    np.savez(path, **arrays)
    return str(path)


def _nan_at(shape: tuple[int, ...], *where: tuple[int, ...]) -> np.ndarray:
    x = np.random.default_rng(1).random(shape)
    for index in where:
        x[index] = np.nan
    return x


NPZ_CASES = [
    ("nan pixels", {"x_train": _nan_at((20, 4, 4), (3, 1, 2), (7, 0, 0))},
     "x_train has 2 non-finite values (NaN or inf), the first at x_train[3, 1, 2]"),
    ("inf in test", {"x_test": np.where(np.eye(10, 16, dtype=bool).reshape(10, 4, 4),
                                        np.inf, 0.5)},
     "x_test has 10 non-finite values"),
    ("one class", {"y_train": np.zeros(20, dtype=int)}, "y_train holds a single class (0)"),
    ("class gap", {"y_train": np.arange(20) % 2 * 2}, "class 1 never occurs"),
    ("test label unseen", {"y_test": np.arange(10) % 3},
     "y_test has label 2 (first at y_test[2]), but y_train only has classes 0..1"),
    ("negative", {"y_test": -(np.arange(10) % 2)}, "y_test has negative labels"),
    ("float labels", {"y_train": np.linspace(0, 1, 20)}, "integer class labels"),
    ("length mismatch", {"y_train": np.arange(7) % 2}, "x_train has 20 rows but y_train has 7"),
    ("empty x_test", {"x_test": np.zeros((0, 4, 4)), "y_test": np.zeros(0, dtype=int)},
     "x_test is empty (0 rows)"),
    ("empty y_train", {"y_train": np.zeros(0, dtype=int)}, "y_train is empty"),
    ("no features", {"x_train": np.zeros((20, 0)), "x_test": np.zeros((10, 0))},
     "x_train rows hold no values"),
    ("strings", {"x_train": np.array([["a"]] * 20), "x_test": np.array([["b"]] * 10)},
     "x_train must be numeric"),
]


@pytest.mark.parametrize("overrides, words", [c[1:] for c in NPZ_CASES],
                         ids=[c[0] for c in NPZ_CASES])
def test_bad_npz_is_refused_naming_file_array_and_problem(tmp_path, overrides, words):
    path = _npz(tmp_path, **overrides)
    with pytest.raises(DataError) as info:
        load_dataset(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and words in message, message
    assert "\n" not in message


def test_cli_nan_npz_is_one_line_exit_2_before_training(cli, tmp_path):
    path = _npz(tmp_path, x_train=_nan_at((20, 4, 4), (0, 0, 0)))
    code, out, err = cli("train", "--dataset", path, "-q", "--set", "epochs=1")
    assert code == 2 and err.strip().splitlines() == [
        f"error: {path}: x_train has 1 non-finite values (NaN or inf), the first at "
        "x_train[0, 0, 0]; remove or impute them"]


def test_any_row_shape_is_still_welcome(tmp_path):
    rng = np.random.default_rng(2)
    for shape in ((7,), (3, 4, 3)):
        path = tmp_path / f"d{len(shape)}.npz"
        np.savez(path, x_train=rng.random((12, *shape)), y_train=np.arange(12) % 3,
                 x_test=rng.random((6, *shape)), y_test=np.arange(6) % 3)
        assert load_dataset(str(path)).input_shape == shape


def test_pixels_divided_twice_or_unscaled_warn(tmp_path):
    twice = _npz(tmp_path, x_train=np.random.default_rng(0).random((20, 4)) / 255,
                 x_test=np.random.default_rng(1).random((10, 4)) / 255)
    with pytest.warns(DataWarning, match="divided by 255 twice"):
        load_dataset(twice)
    unscaled = _npz(tmp_path, x_train=np.full((20, 4), 200.0), x_test=np.full((10, 4), 3.0))
    with pytest.warns(DataWarning, match="unscaled 8-bit pixels"):
        load_dataset(unscaled)
    mixed = _npz(tmp_path, x_train=np.full((20, 4), 0.5),
                 x_test=np.full((10, 4), 120.0))
    with pytest.warns(DataWarning, match="scaled differently"):
        load_dataset(mixed)


def test_cli_prints_a_data_warning_as_one_line(cli, tmp_path):
    path = _npz(tmp_path, x_train=np.full((20, 4), 0.002), x_test=np.full((10, 4), 0.001))
    code, _, err = cli("cv", "--preset", "model1", "--set", "epochs=1", "--set", "hidden=4",
                       "--folds", "2", "--dataset", path, "-q")
    lines = err.strip().splitlines()
    assert code == 0 and len(lines) == 2, err  # one line per array, nothing else
    assert all(line.startswith("warning: ") and "divided by 255 twice" in line
               for line in lines), err


def test_too_few_examples_for_the_folds_says_how_many(tmp_path, cli):
    y = np.array([0] * 9 + [1] * 2)
    check_folds(y, 2)
    with pytest.raises(DataError, match="y_train class 1 has 2 training examples; 3-fold CV "
                                        r"needs at least 3 per class \(use --folds 2"):
        check_folds(y, 3, "f.npz")
    path = _npz(tmp_path, y_train=np.array([0] * 18 + [1] * 2))
    code, _, err = cli("tune", "--dataset", path, "-k", "3", "--epochs", "1", "--max-trials",
                       "1", "-q", "--directory", str(tmp_path / "t"))
    assert code == 2 and f"error: {path}: y_train class 1 has 2 training examples" in err
    assert not (tmp_path / "t").exists()


def test_shipped_sample_folds_name_the_class(sample_data):
    sample_data.check_folds(600)
    with pytest.raises(DataError, match=r"class 0 \(T-shirt/top\) has 600 training examples"):
        sample_data.check_folds(601)


def test_idx_labels_and_cache_files_are_named(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (60000, 28, 28)),
              "y_train": np.zeros(60000, dtype=int),
              "x_test": rng.integers(0, 256, (10000, 28, 28)),
              "y_test": rng.integers(0, 10, 10000)}
    for key, stem in IDX_FILES.items():
        magic = 2051 if key.startswith("x") else 2049
        header = magic.to_bytes(4, "big") + len(arrays[key]).to_bytes(4, "big")
        if key.startswith("x"):
            header += (28).to_bytes(4, "big") * 2
        with gzip.open(tmp_path / f"{stem}.gz", "wb") as handle:
            handle.write(header + arrays[key].astype(np.uint8).tobytes())
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: y_train holds a single "
                                        r"class \(0\) in 60000 rows"):
        load_dataset("fashion-mnist", data_dir=tmp_path)
