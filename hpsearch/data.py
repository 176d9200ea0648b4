"""Loading data sets: Fashion-MNIST (Keras cache, IDX files, shipped sample) and users' `.npz`.

Everything ends up as a `Dataset` with pixels scaled to [0, 1] and integer labels, so the rest of
hpsearch never needs to know where the data came from.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from hpsearch.errors import DataError, DataWarning

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
    # the file each array came from (named in data errors); not part of equality or hashing
    files: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

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

    def check_folds(self, folds: int) -> None:
        """`check_folds` on the training labels, naming their file. DataError if too few.

        Example:
            >>> load_dataset("fashion-mnist-sample").check_folds(5)
        """
        check_folds(self.y_train, folds, self.files.get("y_train", self.name),
                    self.class_names)

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
    return _load_idx(directory)[0]


def _load_idx(directory: str | Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The four IDX arrays and the file each came from."""
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DataError(f"data directory {directory} does not exist; pass --data-dir DIR "
                        f"with the four IDX files or unset {DATA_DIR_ENV}")
    arrays, files = {}, {}
    for key, stem in IDX_FILES.items():
        path = _find_idx(directory, stem)
        arrays[key] = parse_idx(_open_idx(path), path, key, EXPECTED_COUNTS[key])
        files[key] = str(path)
    return arrays, files


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


def _keras_cache_files() -> dict[str, str]:
    """Where Keras keeps the four files it loaded (named in data errors)."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return {key: str(home / "datasets" / "fashion-mnist" / f"{stem}.gz")
            for key, stem in IDX_FILES.items()}


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


def _first(mask: np.ndarray) -> str:
    """The index of the first True in `mask`, written like numpy indexing: `[3, 0, 5]`."""
    where = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return "[" + ", ".join(str(int(i)) for i in where) + "]"


def _check_split(x: np.ndarray, y: np.ndarray, split: str, files: dict[str, str]) -> None:
    """One split's arrays: shapes, emptiness, lengths, numeric finite x, integer labels >= 0."""
    fx, fy = files[f"x_{split}"], files[f"y_{split}"]
    if x.ndim < 2:
        raise DataError(f"{fx}: x_{split} must have one row per example "
                        f"(shape (n, ...)), got shape {x.shape}")
    if y.ndim != 1:
        raise DataError(f"{fy}: y_{split} must be a 1-D array of integer class labels, "
                        f"got shape {y.shape}")
    if len(x) == 0 or len(y) == 0:
        empty = f"x_{split}" if len(x) == 0 else f"y_{split}"
        raise DataError(f"{files[empty]}: {empty} is empty (0 rows); the {split} split "
                        "needs examples")
    if x.size == 0:
        raise DataError(f"{fx}: x_{split} rows hold no values (shape {x.shape})")
    if len(x) != len(y):
        raise DataError(f"{fx}: x_{split} has {len(x)} rows but y_{split} has {len(y)}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise DataError(f"{fx}: x_{split} must be numeric, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.inexact) and not np.isfinite(x).all():
        bad = ~np.isfinite(x)
        raise DataError(f"{fx}: x_{split} has {int(bad.sum())} non-finite values (NaN or "
                        f"inf), the first at x_{split}{_first(bad)}; remove or impute them")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{fy}: y_{split} must hold integer class labels, got {y.dtype}")
    if y.min() < 0:
        raise DataError(f"{fy}: y_{split} has negative labels (first at y_{split}"
                        f"{_first(y < 0)}: {int(y[y < 0][0])}); use 0..num_classes-1")


def _check_classes(y_train: np.ndarray, y_test: np.ndarray, num_classes: int,
                   files: dict[str, str]) -> None:
    """Labels are 0..C-1, every class occurs in training, at least two classes, test within."""
    if y_train.max() >= num_classes:
        raise DataError(f"{files['y_train']}: y_train has label {int(y_train.max())} (first at "
                        f"y_train{_first(y_train == y_train.max())}), outside "
                        f"0..{num_classes - 1}")
    present = np.unique(y_train)
    if len(present) < 2:
        raise DataError(f"{files['y_train']}: y_train holds a single class ({int(present[0])}) "
                        f"in {len(y_train)} rows; classification needs at least 2 classes")
    missing = sorted(set(range(num_classes)) - {int(c) for c in present})
    if missing:
        raise DataError(f"{files['y_train']}: y_train labels must be 0..{num_classes - 1} with "
                        f"every class present, but class {missing[0]} never occurs"
                        + (f" ({len(missing)} classes missing)" if len(missing) > 1 else "")
                        + "; renumber the classes or add examples")
    if y_test.max() >= num_classes:
        raise DataError(f"{files['y_test']}: y_test has label {int(y_test.max())} (first at "
                        f"y_test{_first(y_test == y_test.max())}), but y_train only has "
                        f"classes 0..{num_classes - 1}")


def _range_warnings(arrays: dict[str, np.ndarray], files: dict[str, str]) -> list[str]:
    """Pixel ranges that are legal but usually a mistake, as sentences (shown as warnings)."""
    found, scaled_max = [], {}
    for key in ("x_train", "x_test"):
        x = arrays[key]
        low, high = float(x.min()), float(x.max())
        if np.issubdtype(x.dtype, np.integer):
            scaled_max[key] = high / 255.0
            if high > 255:
                found.append(f"{files[key]}: {key} is {x.dtype} with values up to {high:g}; "
                             "integers are divided by 255 as 8-bit pixels, so scaled values "
                             "exceed 1 (pass floats scaled as you mean them)")
            continue
        scaled_max[key] = high
        if 0 < max(abs(low), abs(high)) <= 1 / 255 + 1e-9:
            found.append(f"{files[key]}: {key} values lie in [{low:.3g}, {high:.3g}], at most "
                         "1/255: uint8 pixels divided by 255 twice? divide by 255 once")
        elif high > 1.5 and low >= 0 and high <= 255 and np.array_equal(x, np.round(x)):
            found.append(f"{files[key]}: {key} holds whole numbers up to {high:g} as "
                         f"{x.dtype}: unscaled 8-bit pixels? only uint8 data is divided by "
                         "255, so divide by 255 (or save uint8)")
    train, test = scaled_max["x_train"], scaled_max["x_test"]
    if min(train, test) > 0 and max(train, test) / min(train, test) > 50:
        found.append(f"{files['x_test']}: x_train reaches {train:.3g} but x_test {test:.3g} "
                     "after scaling: the splits are scaled differently")
    return found


def validate_arrays(arrays: dict[str, np.ndarray], files: dict[str, str],
                    num_classes: int | None = None) -> list[str]:
    """Refuse data that cannot mean anything; return warnings for data that probably doesn't.

    Every source (Keras cache, IDX files, the shipped sample, a user's .npz) passes through
    here, so NaN pixels or a single-class label file never train silently to a "result".
    Any shape of rows is fine (the MLP flattens them).

    Args:
        arrays: x_train, y_train, x_test, y_test as loaded.
        files: the file each array came from (named in every message).
        num_classes: the fixed class count (10 for Fashion-MNIST); None derives it from
            y_train (labels 0..max).

    Returns:
        Warning sentences (e.g. pixels divided by 255 twice); an empty list when all is well.

    Raises:
        DataError: one line naming the file, the array and the problem.

    Example:
        >>> validate_arrays(arrays, {k: "mine.npz" for k in arrays})  # doctest: +SKIP
        []
    """
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], split, files)
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataError(f"{files['x_test']}: x_train rows {arrays['x_train'].shape[1:]} and "
                        f"x_test rows {arrays['x_test'].shape[1:]} differ")
    classes = num_classes or int(arrays["y_train"].max()) + 1
    _check_classes(arrays["y_train"], arrays["y_test"], classes, files)
    return _range_warnings(arrays, files)


def check_folds(y: np.ndarray, folds: int, source: str = "training labels",
                class_names: tuple[str, ...] = ()) -> None:
    """Refuse k-fold CV when a class has fewer than k training examples.

    Stratified k-fold only warns then, and the folds without that class score something else
    than the other folds. The fold count is known only where CV is asked for, so `evaluate`'s
    split step and the CLI call this (`load_dataset` cannot).

    Args:
        y: the training labels (integers 0..C-1).
        folds: the number of CV folds requested.
        source: the file (or data set) the labels came from, named in the message.
        class_names: names for the classes, to say which one is short.

    Raises:
        DataError: naming the class, its count and how many examples are needed.

    Example:
        >>> check_folds(np.array([0, 0, 1, 1, 1]), 2)
        >>> check_folds(np.array([0, 0, 1]), 2)  # doctest: +SKIP
        DataError: training labels: class 1 has 1 training example; 2-fold CV needs ...
    """
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    present = np.flatnonzero(counts)
    short = int(present[np.argmin(counts[present])]) if len(present) else 0
    have = int(counts[short]) if len(counts) else 0
    if have >= folds:
        return
    name = (f" ({class_names[short]})" if short < len(class_names)
            and class_names[short] != str(short) else "")
    advice = f"use --folds {have} or fewer, " if have >= 2 else ""
    raise DataError(f"{source}: y_train class {short}{name} has {have} training "
                    f"example{'s' if have != 1 else ''}; {folds}-fold CV needs at least "
                    f"{folds} per class ({advice}add examples, or drop the class)")


def _scale(x: np.ndarray) -> np.ndarray:
    """uint8 pixels -> [0, 1]; float data is taken as already scaled."""
    if np.issubdtype(x.dtype, np.integer):
        return (x.astype(np.float32) / 255.0).astype(np.float32)
    return x.astype(np.float32)


def load_dataset(spec: str = "fashion-mnist-sample", data_dir: str | Path | None = None) -> Dataset:
    """Load a data set by name (`fashion-mnist`, `fashion-mnist-sample`) or `.npz` path.

    Every source is validated the same way (`validate_arrays`): data that cannot mean anything
    (NaN pixels, one class, labels that are not 0..C-1, empty or mismatched arrays) is refused
    with one line naming the file and array; suspicious pixel ranges are a `DataWarning`.

    Args:
        spec: `fashion-mnist`, `fashion-mnist-sample` or a path to an `.npz` with x_train,
            y_train, x_test, y_test.
        data_dir: (or the HPSEARCH_DATA_DIR environment variable) makes `fashion-mnist` read
            IDX files from a directory instead of the Keras cache, for machines without
            internet.

    Returns:
        The `Dataset`, pixels scaled to [0, 1] (uint8 / 255) and labels as int64.

    Raises:
        DataError: the data is missing, unreadable or invalid.

    Example:
        >>> load_dataset("fashion-mnist-sample").summary()
        'fashion-mnist-sample: 6000 train / 1000 test, input (28, 28), 10 classes'
    """
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
    num_classes: int | None = len(FASHION_CLASSES)
    if spec == "fashion-mnist":
        arrays, files = (_load_idx(data_dir) if data_dir
                         else (_keras_fashion_mnist(), _keras_cache_files()))
    elif spec == "fashion-mnist-sample":
        arrays = _load_npz(_sample_path())
        files = dict.fromkeys(IDX_FILES, str(_sample_path()))
    elif spec.endswith(".npz"):
        arrays, num_classes = _load_npz(Path(spec).expanduser()), None
        files = dict.fromkeys(IDX_FILES, spec)
    else:
        raise DataError(f"unknown dataset {spec!r}; use fashion-mnist, fashion-mnist-sample "
                        "or a path to an .npz with x_train, y_train, x_test, y_test")
    for message in validate_arrays(arrays, files, num_classes):
        warnings.warn(message, DataWarning, stacklevel=2)
    classes = num_classes or int(arrays["y_train"].max()) + 1
    return Dataset(
        name=spec,
        x_train=_scale(arrays["x_train"]),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=_scale(arrays["x_test"]),
        y_test=arrays["y_test"].astype(np.int64),
        class_names=FASHION_CLASSES if num_classes else tuple(str(i) for i in range(classes)),
        files=files,
    )
