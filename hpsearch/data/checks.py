"""Checks every data source passes: arrays that cannot mean anything are refused, suspicious
pixel ranges become warnings, and k-fold CV is refused when a class is too small.
"""

from __future__ import annotations

import numpy as np

from hpsearch.errors import DataError


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
        raise DataError(f"{fy}: y_{split} must hold integer class labels, got {y.dtype}; "
                        "Dataset.from_arrays maps any labels (strings, {1, 5, 9}) to classes")
    if y.min() < 0:
        raise DataError(f"{fy}: y_{split} has negative labels (first at y_{split}"
                        f"{_first(y < 0)}: {int(y[y < 0][0])}); use 0..num_classes-1")


def _check_classes(y_train: np.ndarray, y_test: np.ndarray, num_classes: int,
                   files: dict[str, str], every_class: bool = True) -> None:
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
    if missing and every_class:
        raise DataError(f"{files['y_train']}: y_train labels must be 0..{num_classes - 1} with "
                        f"every class present, but class {missing[0]} never occurs"
                        + (f" ({len(missing)} classes missing)" if len(missing) > 1 else "")
                        + "; renumber the classes (Dataset.from_arrays does it) or add "
                        "examples")
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
                    num_classes: int | None = None, every_class: bool = True) -> list[str]:
    """Refuse data that cannot mean anything; return warnings for data that probably doesn't.

    Every source (Keras cache, IDX files, the shipped sample, a user's .npz) passes through
    here, so NaN pixels or a single-class label file never train silently to a "result".
    Any shape of rows is fine (the MLP flattens them).

    Args:
        arrays: x_train, y_train, x_test, y_test as loaded.
        files: the file each array came from (named in every message).
        num_classes: the fixed class count (10 for Fashion-MNIST); None derives it from
            y_train (labels 0..max).
        every_class: refuse a class with no training example (off for a subset of a data
            set whose classes are already known, e.g. a calibration slice).

    Returns:
        Warning sentences (e.g. pixels divided by 255 twice); an empty list when all is well.

    Raises:
        DataError: one line naming the file, the array and the problem.

    Example:
        >>> validate_arrays(arrays, {k: "mine.npz" for k in arrays})  # doctest: +SKIP
        []
    """
    check_arrays(arrays, files, num_classes, every_class)
    return _range_warnings(arrays, files)


def check_arrays(arrays: dict[str, np.ndarray], files: dict[str, str],
                 num_classes: int | None = None, every_class: bool = True) -> None:
    """`validate_arrays` without the warnings: what `Dataset(...)` itself refuses.

    Example:
        >>> check_arrays(arrays, {k: "mine" for k in arrays}, 3)  # doctest: +SKIP
    """
    for split in ("train", "test"):
        _check_split(arrays[f"x_{split}"], arrays[f"y_{split}"], split, files)
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise DataError(f"{files['x_test']}: x_train rows {arrays['x_train'].shape[1:]} and "
                        f"x_test rows {arrays['x_test'].shape[1:]} differ")
    classes = num_classes or int(arrays["y_train"].max()) + 1
    _check_classes(arrays["y_train"], arrays["y_test"], classes, files, every_class)


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
