"""Loading data sets: Fashion-MNIST (Keras cache, IDX files, shipped sample) and users' `.npz`.

Everything ends up as a `Dataset` with pixels scaled to [0, 1] and integer labels, so the rest of
hpsearch never needs to know where the data came from.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.data.checks import check_arrays, check_folds, validate_arrays
from hpsearch.data.features import Features
from hpsearch.data.idx import DATA_DIR_ENV, IDX_FILES, _load_idx
from hpsearch.errors import DataError, DataWarning

FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
SAMPLE_RESOURCE = "fashion-mnist-sample.npz"
DATASET_NAMES = ("fashion-mnist", "fashion-mnist-sample")


@dataclass(frozen=True)
class Dataset:
    """Train and test arrays plus what is needed to describe them in reports.

    Build one with `load_dataset` (Fashion-MNIST, the sample, an .npz, a CSV/parquet table) or
    `Dataset.from_arrays` (numpy arrays, DataFrames, lists, any labels). The constructor takes
    arrays that are already encoded (float rows, integer labels 0..C-1) and checks them like
    every other source: without `class_names` the classes are 0..max(y_train), named "0",
    "1", ...; it never borrows Fashion-MNIST's names.

    Attributes:
        classes: the original label values in class order (what predictions map back to;
            default: the class names).
        features: how raw rows were encoded and scaled (`Features`), for data that came
            through `from_arrays` or a table; None for pixel data (integers / 255).
        provenance: how the split was made (e.g. a held-out stratified test set), for the
            model card.
        source: `load_dataset`'s arguments that load it again ({"dataset", "data_dir",
            "data_options"}), which a tune project stores for `export --from` and workers;
            empty for in-memory data (`from_arrays`, the constructor).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] | None = None
    # the file each array came from (named in data errors); not part of equality or hashing
    files: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    classes: tuple[Any, ...] = field(default=(), compare=False, hash=False)
    features: Features | None = field(default=None, compare=False, hash=False)
    provenance: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    source: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        arrays = {key: np.asarray(getattr(self, key)) for key in IDX_FILES}
        files = {key: self.files.get(key, self.name) for key in IDX_FILES}
        check_arrays(arrays, files, len(self.class_names) if self.class_names else None,
                     every_class=self.class_names is None)
        names = tuple(self.class_names or (str(i) for i in range(int(arrays["y_train"].max())
                                                                   + 1)))
        if self.classes and len(self.classes) != len(names):
            raise DataError(f"{self.name}: {len(self.classes)} class values for "
                            f"{len(names)} class names")
        for key, value in arrays.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "classes", tuple(self.classes) or names)

    @classmethod
    def from_arrays(cls, x_train: Any, y_train: Any, x_test: Any = None, y_test: Any = None,
                    **options: Any) -> Dataset:
        """Your own data from numpy arrays, pandas DataFrames/Series or lists: see
        `hpsearch.data.arrays.from_arrays` for the arguments.

        Example:
            >>> from sklearn.datasets import load_digits
            >>> digits = load_digits(as_frame=True)
            >>> Dataset.from_arrays(digits.data, digits.target, name="digits").summary()
            'digits: 1437 train / 360 test (held out, stratified), input (64,), 10 classes'
        """
        from hpsearch.data.arrays import from_arrays

        return from_arrays(x_train, y_train, x_test, y_test, **options)

    @property
    def num_classes(self) -> int:
        return len(self.class_names or ())

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
        held = " (held out, stratified)" if self.provenance.get("test") == "held out" else ""
        return (f"{self.name}: {len(self.y_train)} train / {len(self.y_test)} test{held}, "
                f"input {self.input_shape}, {self.num_classes} classes")

    def card(self) -> dict[str, Any]:
        """What the model card says about the data: size, checksum, classes, encoding."""
        return {"name": self.name, "n_train": len(self.y_train), "n_test": len(self.y_test),
                "sha256": self.checksum(), "class_names": list(self.class_names),
                "classes": list(self.classes),
                "features": self.features.to_dict() if self.features else None,
                **self.provenance}


# ---------------------------------------------------------------- sources
def _keras_fashion_mnist() -> dict[str, np.ndarray]:
    """The normal Keras way: cache in ~/.keras/datasets, download when missing."""
    from hpsearch.training import import_tensorflow_quietly

    import_tensorflow_quietly()  # TensorFlow with our settings, before Keras loads it
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
    return Path(str(resources.files("hpsearch.data") / SAMPLE_RESOURCE))


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


def scale_pixels(x: np.ndarray) -> np.ndarray:
    """uint8 pixels -> [0, 1]; float data is taken as already scaled (also what an exported
    pixel model's `Predictor` does to raw rows)."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.integer):
        return (x.astype(np.float32) / 255.0).astype(np.float32)
    return x.astype(np.float32)


def is_data_file(spec: str) -> bool:
    """Whether `spec` names a data file `load_dataset` reads (.npz, .csv, .tsv, .parquet).

    Example:
        >>> is_data_file("runs/iris.csv"), is_data_file("fashion-mnist-sample")
        (True, False)
    """
    from hpsearch.data.table import TABLE_SUFFIXES

    return Path(spec).suffix.lower() in (".npz", *TABLE_SUFFIXES)


def reloadable(spec: str) -> bool:
    """Whether `load_dataset(spec)` can load a data set again from its name alone: a known
    name or a data file. In-memory data (`Dataset.from_arrays`, a `Dataset` built in Python)
    has only a label for a name, so a tune project of it cannot reload it from a shell.

    Example:
        >>> reloadable("fashion-mnist"), reloadable("digits")
        (True, False)
    """
    return spec in DATASET_NAMES or is_data_file(spec)


def load_dataset(spec: str = "fashion-mnist-sample", data_dir: str | Path | None = None,
                 **table: Any) -> Dataset:
    """Load a data set by name (`fashion-mnist`, `fashion-mnist-sample`), `.npz` path or table.

    Every source is validated the same way (`validate_arrays`): data that cannot mean anything
    (NaN pixels, one class, labels that are not 0..C-1, empty or mismatched arrays) is refused
    with one line naming the file and array; suspicious pixel ranges are a `DataWarning`.

    Args:
        spec: `fashion-mnist`, `fashion-mnist-sample`, a path to an `.npz` with x_train,
            y_train, x_test, y_test, or a `.csv`/`.tsv`/`.parquet` table (then `target` is
            needed; see `hpsearch.data.table.load_table` for the other options).
        data_dir: (or the HPSEARCH_DATA_DIR environment variable) makes `fashion-mnist` read
            IDX files from a directory instead of the Keras cache, for machines without
            internet.
        **table: for a table only: target, test, test_size, scale, one_hot, seed.

    Returns:
        The `Dataset`, pixels scaled to [0, 1] (uint8 / 255) and labels as int64.

    Raises:
        DataError: the data is missing, unreadable or invalid.

    Example:
        >>> load_dataset("fashion-mnist-sample").summary()
        'fashion-mnist-sample: 6000 train / 1000 test, input (28, 28), 10 classes'
    """
    from hpsearch.data.table import TABLE_SUFFIXES, load_table

    if Path(spec).suffix.lower() in TABLE_SUFFIXES:
        return load_table(spec, **table)
    given = sorted(k for k, v in table.items() if v not in (None, (), [], "standard", 0))
    if given:
        raise DataError(f"{', '.join(f'`{k}`' for k in given)} only apply to a table "
                        f"(.csv, .tsv, .parquet) data set, not {spec}")
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
        raise DataError(f"unknown dataset {spec!r}; use fashion-mnist, fashion-mnist-sample, "
                        "a path to an .npz with x_train, y_train, x_test, y_test, or a "
                        ".csv/.parquet table with --target COLUMN")
    for message in validate_arrays(arrays, files, num_classes):
        warnings.warn(message, DataWarning, stacklevel=2)
    classes = num_classes or int(arrays["y_train"].max()) + 1
    return Dataset(
        name=spec,
        x_train=scale_pixels(arrays["x_train"]),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=scale_pixels(arrays["x_test"]),
        y_test=arrays["y_test"].astype(np.int64),
        class_names=FASHION_CLASSES if num_classes else tuple(str(i) for i in range(classes)),
        files=files,
        source={"dataset": spec, "data_dir": str(data_dir) if data_dir else None},
    )
