"""`from_arrays`: your own data, the way notebooks hold it (numpy, pandas, lists), as a `Dataset`.

Labels of any kind become classes 0..C-1 (the original values stay as class names), a missing
test set is held out stratified and seeded, and the features are encoded and scaled on the
training rows only; all of it is recorded so the model card can undo it for predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hpsearch.data.features import Features, encode_labels
from hpsearch.data.load import Dataset
from hpsearch.errors import DataError

DEFAULT_TEST_SIZE = 0.2


def _length(x: Any) -> int:
    return len(x) if hasattr(x, "__len__") else len(np.asarray(x))


def _rows(x: Any, index: np.ndarray) -> Any:
    """Rows `index` of a DataFrame, Series, array or list, keeping its kind."""
    if hasattr(x, "iloc"):
        return x.iloc[index].reset_index(drop=True)
    if isinstance(x, list | tuple):
        return [x[i] for i in index]
    return np.asarray(x)[index]


def held_out_split(y: np.ndarray, test_size: float | int, seed: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded train/test indices (scikit-learn's `train_test_split`).

    Args:
        y: encoded labels 0..C-1.
        test_size: a share in (0, 1) or a number of rows.
        seed: fixes which rows are held out.

    Raises:
        DataError: a class too small to appear on both sides, or a bad test_size.

    Example:
        >>> train, test = held_out_split(np.array([0, 1] * 10), 0.2, 0)
        >>> len(train), len(test)
        (16, 4)
    """
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, float) and not 0 < test_size < 1:
        raise DataError(f"test_size {test_size} must be a share in (0, 1) or a row count")
    counts = np.bincount(y)
    if counts.min() < 2:
        short = int(np.argmin(counts))
        raise DataError(f"y_train class {short} has {int(counts[short])} example; holding out "
                        "a stratified test set needs at least 2 per class (pass a test set, "
                        "or add examples)")
    try:
        return train_test_split(np.arange(len(y)), test_size=test_size, stratify=y,
                                random_state=seed)
    except ValueError as exc:
        raise DataError(f"cannot hold out a stratified test set of {test_size} from "
                        f"{len(y)} rows and {len(counts)} classes ({exc}); pass a larger "
                        "test_size or a test set") from None


def from_arrays(x_train: Any, y_train: Any, x_test: Any = None, y_test: Any = None, *,
                class_names: Sequence[str] | None = None, name: str = "arrays",
                test_size: float | int = DEFAULT_TEST_SIZE, scale: str = "standard",
                one_hot: Sequence[str] = (), seed: int = 0) -> Dataset:
    """A `Dataset` from numpy arrays, pandas DataFrames/Series or lists, with any labels.

    Args:
        x_train: training rows: a DataFrame (named columns), an array of shape (n, ...) or
            nested lists.
        y_train: training labels: ints of any set (e.g. {1, 5, 9}), strings, categoricals or
            bools; they are mapped to 0..C-1 and the original values kept as class names.
        x_test, y_test: a test set (both or neither). Without one, a stratified, seeded share
            `test_size` of the training rows is held out, and the model card says so.
        class_names: names for the classes in class order (default: the label values).
        name: what reports and the model card call the data.
        test_size: the share (or row count) held out when there is no test set.
        scale: `standard` (mean 0, sd 1 per input), `minmax` ([0, 1]) or `none`, learned on
            the training rows only and stored in the model card.
        one_hot: DataFrame columns (text or categorical) to one-hot encode; any other
            non-numeric column is refused, naming it.
        seed: fixes the held-out split.

    Returns:
        The `Dataset`, with `.classes` (original labels), `.features` (encoding) and
        `.provenance` (how the test set was made).

    Raises:
        DataError: one line naming the array and the problem (lengths, NaN/inf, text columns,
            one class, labels in y_test never seen in y_train, ...).

    Example:
        >>> import hpsearch as hp
        >>> data = hp.Dataset.from_arrays(df.drop(columns="label"), df["label"])  # doctest: +SKIP
    """
    if (x_test is None) != (y_test is None):
        given, lacking = ("x_test", "y_test") if y_test is None else ("y_test", "x_test")
        raise DataError(f"{given} was given without {lacking}; pass both or neither (then a "
                        f"stratified {test_size} of the training rows is held out)")
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x is not None and _length(x) != _length(y):
            raise DataError(f"x_{split} has {_length(x)} rows but y_{split} has "
                            f"{_length(y)} labels")
    y_tr, y_te, classes, names = encode_labels(y_train, y_test, class_names)
    provenance: dict[str, Any] = {"test": "given"}
    if x_test is None:
        train, test = held_out_split(y_tr, test_size, seed)
        x_train, x_test = _rows(x_train, train), _rows(x_train, test)
        y_tr, y_te = y_tr[train], y_tr[test]
        provenance = {"test": "held out", "test_split": {
            "test_size": test_size, "stratified": True, "seed": seed, "n_test": len(test),
            "method": "sklearn.model_selection.train_test_split"}}
    features, rows = Features.fit(x_train, scale, one_hot, "x_train")
    test_rows = features.transform(x_test, "x_test")
    provenance["scaling"] = f"{scale}, learned on the training rows only"
    return Dataset(name, rows, y_tr, test_rows, y_te, names, classes=classes,
                   features=features, provenance=provenance)
