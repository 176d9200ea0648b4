"""IDX parsing, data validation and the shipped sample."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hpsearch.data import IDX_FILES, load_dataset, load_idx_dir, parse_idx
from hpsearch.errors import DataError


def idx_bytes(array: np.ndarray, images: bool) -> bytes:
    magic = 2051 if images else 2049
    header = magic.to_bytes(4, "big") + len(array).to_bytes(4, "big")
    if images:
        header += (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    return header + array.astype(np.uint8).tobytes()


def write_idx_dir(directory: Path, n_train: int = 60000, n_test: int = 10000,
                  gz: bool = True) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)),
        "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, 28, 28)),
        "y_test": rng.integers(0, 10, n_test),
    }
    for key, stem in IDX_FILES.items():
        raw = idx_bytes(arrays[key], key.startswith("x"))
        if gz:
            with gzip.open(directory / f"{stem}.gz", "wb") as handle:
                handle.write(raw)
        else:
            (directory / stem).write_bytes(raw)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_directory_round_trip(tmp_path, gz):
    arrays = write_idx_dir(tmp_path, gz=gz)
    loaded = load_idx_dir(tmp_path)
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key], array)
    data = load_dataset("fashion-mnist", data_dir=tmp_path)
    assert data.x_train.dtype == np.float32 and data.x_train.max() <= 1.0
    assert data.x_train.shape == (60000, 28, 28) and data.num_classes == 10


def test_parse_idx_checks_magic_count_and_labels(tmp_path):
    path = tmp_path / "f"
    labels = idx_bytes(np.arange(10) % 10, images=False)
    assert parse_idx(labels, path, "y_train", 10).tolist() == list(range(10))
    with pytest.raises(DataError, match="bad magic number 2049"):
        parse_idx(labels, path, "x_train", 10)
    with pytest.raises(DataError, match="holds 10 items, expected 60000"):
        parse_idx(labels, path, "y_train", 60000)
    with pytest.raises(DataError, match="outside 0-9"):
        parse_idx(idx_bytes(np.array([1, 12]), images=False), path, "y_train", 2)
    with pytest.raises(DataError, match="truncated header"):
        parse_idx(labels[:5], path, "y_train", 10)
    with pytest.raises(DataError, match="truncated"):
        parse_idx(labels[:-3], path, "y_train", 10)


def test_truncated_and_corrupt_gzip_name_the_file(tmp_path):
    write_idx_dir(tmp_path)
    target = tmp_path / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load_idx_dir(tmp_path)
    target.write_bytes(b"this is not gzip")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: cannot be read"):
        load_idx_dir(tmp_path)


def test_missing_file_and_directory(tmp_path):
    write_idx_dir(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: missing"):
        load_idx_dir(tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_idx_dir(tmp_path / "nope")


def test_shipped_sample_is_stratified_real_data(sample_data):
    assert sample_data.x_train.shape == (6000, 28, 28)
    assert sample_data.x_test.shape == (1000, 28, 28)
    assert np.bincount(sample_data.y_train).tolist() == [600] * 10
    assert np.bincount(sample_data.y_test).tolist() == [100] * 10
    assert 0.2 < float(sample_data.x_train.mean()) < 0.4  # Fashion-MNIST's mean is ~0.286
    assert sample_data.class_names[9] == "Ankle boot"


def test_user_npz(tmp_path):
    rng = np.random.default_rng(1)
    good = tmp_path / "mine.npz"
    np.savez(good, x_train=rng.random((20, 5)), y_train=rng.integers(0, 3, 20),
             x_test=rng.random((6, 5)), y_test=np.array([0, 1, 2, 0, 1, 2]))
    data = load_dataset(str(good))
    assert data.input_shape == (5,) and data.num_classes == 3

    wrong_keys = tmp_path / "keys.npz"
    np.savez(wrong_keys, x=rng.random((4, 2)))
    with pytest.raises(DataError, match="missing arrays x_train"):
        load_dataset(str(wrong_keys))

    bad_labels = tmp_path / "labels.npz"
    np.savez(bad_labels, x_train=rng.random((4, 2)), y_train=np.array([0.5, 1, 2, 0]),
             x_test=rng.random((2, 2)), y_test=np.array([0, 1]))
    with pytest.raises(DataError, match="integer class labels"):
        load_dataset(str(bad_labels))

    bad_shape = tmp_path / "shape.npz"
    np.savez(bad_shape, x_train=rng.random((4, 2)), y_train=np.array([0, 1, 0]),
             x_test=rng.random((2, 3)), y_test=np.array([0, 1]))
    with pytest.raises(DataError, match="x_train has 4 rows but y_train has 3"):
        load_dataset(str(bad_shape))


def test_offline_keras_load_lists_remedies(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("HPSEARCH_DATA_DIR", raising=False)
    import keras.datasets.fashion_mnist as fm

    def offline(*_args, **_kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(fm, "load_data", offline)
    with pytest.raises(DataError, match="--data-dir DIR.*fashion-mnist-sample"):
        load_dataset("fashion-mnist")


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown dataset 'mnist'"):
        load_dataset("mnist")
