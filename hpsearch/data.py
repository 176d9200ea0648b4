"""Loading data sets: Fashion-MNIST (Keras cache, IDX files, shipped sample) and users' `.npz`.

Everything ends up as a `Dataset` with pixels scaled to [0, 1] and integer labels, so the rest of
hpsearch never needs to know where the data came from.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from hpsearch.errors import DataError

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
EXPECTED_COUNTS = {"x_train": 60000, "y_train": 60000, "x_test": 10000, "y_test": 10000}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
SAMPLE_RESOURCE = "fashion-mnist-sample.npz"
DATA_DIR_ENV = "HPSEARCH_DATA_DIR"
DATASET_NAMES = ("fashion-mnist", "fashion-mnist-sample")


@dataclass(frozen=True)
class Dataset:
    """Train and test arrays plus what is needed to describe them in reports."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = field(default=FASHION_CLASSES)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def checksum(self) -> str:
        """SHA-256 over all four arrays: pins exactly which data a model card refers to."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def summary(self) -> str:
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test, "
                f"input {self.input_shape}, {self.num_classes} classes")


# ---------------------------------------------------------------- IDX files
def _open_idx(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError) as exc:  # gzip raises BadGzipFile (an OSError) or EOFError
        raise DataError(f"{path}: cannot be read ({exc}); re-download the file") from exc


def parse_idx(raw: bytes, path: Path, kind: str, expected_count: int | None) -> np.ndarray:
    """Parse one IDX file, checking magic number, count, shape and label range."""
    images = kind.startswith("x")
    magic = IMAGE_MAGIC if images else LABEL_MAGIC
    header_len = 16 if images else 8
    if len(raw) < header_len:
        raise DataError(f"{path}: truncated header ({len(raw)} bytes); re-download the file")
    found_magic = int.from_bytes(raw[0:4], "big")
    if found_magic != magic:
        what = "image" if images else "label"
        raise DataError(f"{path}: bad magic number {found_magic} (an IDX {what} file has "
                        f"{magic}); is this the right file?")
    count = int.from_bytes(raw[4:8], "big")
    if expected_count is not None and count != expected_count:
        raise DataError(f"{path}: holds {count} items, expected {expected_count}; "
                        "use the original Fashion-MNIST files")
    shape: tuple[int, ...] = (count,)
    if images:
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        if (rows, cols) != (28, 28):
            raise DataError(f"{path}: images are {rows}x{cols}, expected 28x28")
        shape = (count, rows, cols)
    needed = int(np.prod(shape))
    body = np.frombuffer(raw, dtype=np.uint8, offset=header_len)
    if body.size < needed:
        raise DataError(f"{path}: truncated ({body.size} of {needed} data bytes); "
                        "re-download the file")
    array = body[:needed].reshape(shape)
    if not images and array.size and array.max() > 9:
        raise DataError(f"{path}: label {int(array.max())} is outside 0-9")
    return array


def _find_idx(directory: Path, stem: str) -> Path:
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory / (stem + '.gz')}: missing; put the four Fashion-MNIST IDX "
                    "files (.gz or raw) in that directory")


def load_idx_dir(directory: str | Path, name: str = "fashion-mnist") -> dict[str, np.ndarray]:
    """Read the four Fashion-MNIST IDX files from a directory (uint8 arrays)."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"data directory {directory} does not exist; pass --data-dir DIR "
                        f"with the four IDX files or unset {DATA_DIR_ENV}")
    arrays = {}
    for key, stem in IDX_FILES.items():
        path = _find_idx(directory, stem)
        arrays[key] = parse_idx(_open_idx(path), path, key, EXPECTED_COUNTS[key])
    return arrays


# ---------------------------------------------------------------- sources
def _keras_fashion_mnist() -> dict[str, np.ndarray]:
    """The normal Keras way: cache in ~/.keras/datasets, download when missing."""
    from keras.datasets import fashion_mnist

    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    except Exception as exc:  # urllib/HTTP errors come in many classes; all mean "no data"
        raise DataError(
            "Fashion-MNIST is not in the Keras cache and could not be downloaded "
            f"({type(exc).__name__}); remedies: connect to the internet, or pass --data-dir DIR "
            f"(or set {DATA_DIR_ENV}) with the four IDX files, or copy them into "
            "~/.keras/datasets/fashion-mnist/, or use --dataset fashion-mnist-sample"
        ) from exc
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _sample_path() -> Path:
    return Path(str(resources.files("hpsearch") / "datasets" / SAMPLE_RESOURCE))


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise DataError(f"{path}: no such file; pass an existing .npz or one of "
                        f"{', '.join(DATASET_NAMES)}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in IDX_FILES if key not in npz.files]
            if missing:
                raise DataError(f"{path}: missing arrays {', '.join(missing)}; an .npz data "
                                "set needs x_train, y_train, x_test, y_test")
            return {key: npz[key] for key in IDX_FILES}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from exc


def _validate_arrays(arrays: dict[str, np.ndarray], source: str) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim < 2:
            raise DataError(f"{source}: x_{split} must have one row per example "
                            f"(shape (n, ...)), got shape {x.shape}")
        if y.ndim != 1:
            raise DataError(f"{source}: y_{split} must be a 1-D array of integer class labels, "
                            f"got shape {y.shape}")
        if len(x) != len(y):
            raise DataError(f"{source}: x_{split} has {len(x)} rows but y_{split} has {len(y)}")
        if len(y) == 0:
            raise DataError(f"{source}: the {split} split is empty")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{source}: y_{split} must hold integer class labels, "
                            f"got {y.dtype}")
        if y.min() < 0:
            raise DataError(f"{source}: y_{split} has negative labels; use 0..num_classes-1")
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataError(f"{source}: x_train rows {arrays['x_train'].shape[1:]} and x_test rows "
                        f"{arrays['x_test'].shape[1:]} differ")


def _scale(x: np.ndarray) -> np.ndarray:
    """uint8 pixels -> [0, 1]; float data is taken as already scaled."""
    if np.issubdtype(x.dtype, np.integer):
        return (x.astype(np.float32) / 255.0).astype(np.float32)
    return x.astype(np.float32)


def load_dataset(spec: str = "fashion-mnist-sample", data_dir: str | Path | None = None) -> Dataset:
    """Load a data set by name (`fashion-mnist`, `fashion-mnist-sample`) or `.npz` path.

    `data_dir` (or the HPSEARCH_DATA_DIR environment variable) makes `fashion-mnist` read IDX
    files from a directory instead of the Keras cache, for machines without internet.
    """
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
    class_names: tuple[str, ...] = FASHION_CLASSES
    if spec == "fashion-mnist":
        arrays = load_idx_dir(data_dir) if data_dir else _keras_fashion_mnist()
    elif spec == "fashion-mnist-sample":
        arrays = _load_npz(_sample_path())
    elif spec.endswith(".npz"):
        arrays = _load_npz(Path(spec).expanduser())
        _validate_arrays(arrays, spec)  # before max(): an empty array would crash it
        num_classes = int(max(arrays["y_train"].max(), arrays["y_test"].max())) + 1
        class_names = tuple(str(i) for i in range(num_classes))
    else:
        raise DataError(f"unknown dataset {spec!r}; use fashion-mnist, fashion-mnist-sample "
                        "or a path to an .npz with x_train, y_train, x_test, y_test")
    _validate_arrays(arrays, spec)
    return Dataset(
        name=spec,
        x_train=_scale(arrays["x_train"]),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=_scale(arrays["x_test"]),
        y_test=arrays["y_test"].astype(np.int64),
        class_names=class_names,
    )
