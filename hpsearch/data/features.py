"""Users' own data as a network needs it: labels -> classes 0..C-1, feature columns -> floats.

Both mappings are learned on the training rows only and written into the model card, so an
exported `model.keras` plus its card turn raw rows (a CSV line, a DataFrame) into the original
class names again (`hpsearch.training.predict`).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hpsearch.errors import DataError

SCALES = ("standard", "minmax", "none")


def _plain(value: Any) -> Any:
    """A label value as JSON holds it (numpy scalars -> Python int/float/bool/str)."""
    return value.item() if isinstance(value, np.generic) else value


def _labels(y: Any, what: str) -> np.ndarray:
    """Any label container (list, Series, Categorical, array) as a 1-D numpy array."""
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{what} must be a 1-D sequence of class labels, got shape {y.shape}")
    if len(y) == 0:
        raise DataError(f"{what} is empty (0 labels)")
    import pandas as pd

    missing = np.asarray(pd.isna(y), dtype=bool)  # None, NaN, pd.NA, NaT
    if missing.any():
        raise DataError(f"{what} has {int(missing.sum())} missing labels (NaN/None), the first "
                        f"at {what}[{int(np.argmax(missing))}]; drop those rows")
    if np.issubdtype(y.dtype, np.floating):
        if not np.array_equal(y, np.round(y)):
            bad = int(np.argmax(y != np.round(y)))
            raise DataError(f"{what} holds non-integer numbers ({y[bad]:g} at {what}[{bad}]): "
                            "hpsearch classifies; pass class labels, not a continuous target")
        y = y.astype(np.int64)
    return y


def _class_order(y: Any, y_values: np.ndarray, what: str) -> list[Any]:
    """The distinct labels in class order: a Categorical's own order, else sorted."""
    categories = getattr(getattr(y, "cat", None), "categories", None)
    if categories is None and type(y).__name__ == "Categorical":
        categories = y.categories
    present = set(y_values.tolist())
    if categories is not None:
        return [c for c in categories if c in present]
    try:
        return sorted(present)
    except TypeError:
        kinds = sorted({type(v).__name__ for v in present})
        raise DataError(f"{what} mixes label types ({', '.join(kinds)}); use one type for "
                        "every label") from None


def encode_labels(y_train: Any, y_test: Any = None,
                  class_names: Sequence[str] | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None, tuple[Any, ...], tuple[str, ...]]:
    """Map any labels (ints like {1, 5, 9}, strings, categoricals, bools) to classes 0..C-1.

    Why: the network's output has one unit per class, so labels must be 0..C-1; the original
    values are kept so predictions and the model card speak the user's labels again.

    Args:
        y_train: the training labels; they define the classes.
        y_test: test labels (optional); a label never seen in training is refused.
        class_names: display names for the classes in class order (default: str(label)).

    Returns:
        (y_train as int64 0..C-1, y_test likewise or None, the original label values in class
        order, the class names).

    Raises:
        DataError: missing or non-integer numeric labels, one class only, unseen test labels,
            or class_names of the wrong length.

    Example:
        >>> encode_labels([5, 1, 9, 1])[0], encode_labels([5, 1, 9, 1])[2]
        (array([1, 0, 2, 0]), (1, 5, 9))
    """
    values = _labels(y_train, "y_train")
    classes = _class_order(y_train, values, "y_train")
    if len(classes) < 2:
        raise DataError(f"y_train holds a single class ({classes[0]!r}) in {len(values)} rows; "
                        "classification needs at least 2 classes")
    index = {c: i for i, c in enumerate(classes)}
    encoded = np.array([index[v] for v in values.tolist()], dtype=np.int64)
    test = None
    if y_test is not None:
        test_values = _labels(y_test, "y_test")
        unseen = [v for v in dict.fromkeys(test_values.tolist()) if v not in index]
        if unseen:
            first = int(np.argmax([v not in index for v in test_values.tolist()]))
            shown = ", ".join(repr(v) for v in unseen[:5]) + (" ..." if len(unseen) > 5 else "")
            raise DataError(f"y_test has labels never seen in y_train: {shown} (first at "
                            f"y_test[{first}]); the network can only predict the training "
                            "classes, so drop those rows or add examples to the training set")
        test = np.array([index[v] for v in test_values.tolist()], dtype=np.int64)
    if class_names is not None:
        names = tuple(str(n) for n in class_names)
        if len(names) != len(classes):
            raise DataError(f"class_names has {len(names)} names but y_train has "
                            f"{len(classes)} classes ({', '.join(map(repr, classes[:10]))})")
    else:
        names = tuple(str(c) for c in classes)
    return encoded, test, tuple(_plain(c) for c in classes), names


@dataclass(frozen=True)
class Features:
    """How raw rows become the network's input: columns, one-hot codes, scaling.

    Learned on the training rows only (`fit`) and applied unchanged to test rows and to rows
    given to an exported model (`transform`); `to_dict`/`from_dict` is its model-card form.

    Attributes:
        columns: the raw feature columns in order (names, or x0, x1, ... for plain arrays).
        one_hot: column -> its categories (one 0/1 input per category, in this order).
        scale: `standard` (mean 0, sd 1), `minmax` ([0, 1]) or `none`.
        offset, factor: input = (value - offset) / factor, per encoded input.
        row_shape: one example's shape after encoding (e.g. (8, 8) for images).
    """

    columns: tuple[str, ...]
    one_hot: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    scale: str = "standard"
    offset: tuple[float, ...] = ()
    factor: tuple[float, ...] = ()
    row_shape: tuple[int, ...] = ()

    @property
    def inputs(self) -> list[str]:
        """The encoded inputs' names: numeric columns as they are, `col=category` codes."""
        names = []
        for column in self.columns:
            names += ([f"{column}={c}" for c in self.one_hot[column]] if column in self.one_hot
                      else [column])
        return names

    @classmethod
    def fit(cls, x: Any, scale: str = "standard", one_hot: Sequence[str] = (),
            what: str = "x_train") -> tuple[Features, np.ndarray]:
        """Learn the encoding from training rows; returns it and the encoded rows.

        Args:
            x: a DataFrame (named columns), a numpy array or nested lists, one row per example.
            scale: standard, minmax or none.
            one_hot: DataFrame columns to one-hot encode (text or categorical columns).
            what: the array's name in error messages.

        Example:
            >>> features, rows = Features.fit(np.array([[0.0, 10.0], [2.0, 30.0]]))
            >>> rows.tolist()
            [[-1.0, -1.0], [1.0, 1.0]]
        """
        if scale not in SCALES:
            raise DataError(f"scale {scale!r} is unknown; choose one of {', '.join(SCALES)}")
        if _is_frame(x):
            columns = tuple(str(c) for c in x.columns)
            unknown = [c for c in one_hot if c not in columns]
            if unknown:
                raise DataError(f"{what}: no column {', '.join(map(repr, unknown))} to one-hot "
                                f"encode; columns are {', '.join(columns)}")
            codes = {c: _categories(x[c]) for c in one_hot}
            shape: tuple[int, ...] = ()
        else:
            if one_hot:
                raise DataError(f"one-hot encoding needs named columns; pass {what} as a "
                                "pandas DataFrame")
            array = _array(x, what)
            shape = tuple(array.shape[1:])
            columns, codes = tuple(f"x{i}" for i in range(int(np.prod(shape)))), {}
        spec = cls(columns, codes, scale, row_shape=shape)
        raw = spec.encode(x, what)
        offset, factor = _scaling(raw, scale)
        spec = cls(columns, codes, scale, tuple(offset.tolist()), tuple(factor.tolist()),
                   shape or (raw.shape[1],))
        return spec, spec._scaled(raw)

    def encode(self, x: Any, what: str) -> np.ndarray:
        """Rows -> float64 matrix (one-hot applied, not yet scaled), checked column by column."""
        if _is_frame(x):
            missing = [c for c in self.columns if c not in set(map(str, x.columns))]
            if missing:
                raise DataError(f"{what} lacks the feature columns {', '.join(missing)} "
                                "that the model was trained on")
            x = x.rename(columns=str)
            text = [c for c in self.columns if c not in self.one_hot
                    and not _numeric(x[c].dtype)]
            if text:
                raise DataError(f"{what}: non-numeric feature columns {', '.join(text)}; "
                                "drop them or one-hot encode them (--one-hot "
                                f"{','.join(text)}, or one_hot=[...])")
            parts = [self._one_hot(x[c], c, what) if c in self.one_hot
                     else x[c].to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
                     for c in self.columns]
            rows = np.concatenate(parts, axis=1) if parts else np.zeros((len(x), 0))
            _check_finite(rows, self.inputs, what)
            return rows
        array = _array(x, what)
        if self.row_shape and tuple(array.shape[1:]) != tuple(self.row_shape) \
                and array.shape[1:] != (int(np.prod(self.row_shape)),):
            raise DataError(f"{what} rows have shape {array.shape[1:]}, but the model was "
                            f"trained on rows of shape {tuple(self.row_shape)}")
        rows = array.reshape(len(array), -1).astype(np.float64)
        _check_finite(rows, None, what)
        return rows

    def transform(self, x: Any, what: str = "x") -> np.ndarray:
        """Raw rows -> the float32 input the network was trained on (same shape per row)."""
        return self._scaled(self.encode(x, what))

    def _scaled(self, rows: np.ndarray) -> np.ndarray:
        if self.scale != "none" and self.offset:
            rows = (rows - np.asarray(self.offset)) / np.asarray(self.factor)
        shape = tuple(self.row_shape) or (rows.shape[1],)
        return rows.astype(np.float32).reshape((len(rows), *shape))

    def _one_hot(self, column: Any, name: str, what: str) -> np.ndarray:
        categories = self.one_hot[name]
        values = column.astype(object).where(column.notna(), None).tolist()
        index = {c: i for i, c in enumerate(categories)}
        unseen = [v for v in dict.fromkeys(values) if v not in index]
        if unseen:
            raise DataError(f"{what}: column {name} has values never seen in training: "
                            f"{', '.join(repr(v) for v in unseen[:5])}; the one-hot codes "
                            f"are {', '.join(map(repr, categories))}")
        out = np.zeros((len(values), len(categories)))
        out[np.arange(len(values)), [index[v] for v in values]] = 1.0
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns),
                "one_hot": {k: list(v) for k, v in self.one_hot.items()},
                "scale": self.scale, "offset": list(self.offset), "factor": list(self.factor),
                "row_shape": list(self.row_shape), "inputs": self.inputs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Features:
        return cls(tuple(data["columns"]), {k: tuple(v) for k, v in data["one_hot"].items()},
                   data["scale"], tuple(data["offset"]), tuple(data["factor"]),
                   tuple(data.get("row_shape") or ()))


def _is_frame(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "dtypes")


def _numeric(dtype: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype))


def _categories(column: Any) -> tuple[Any, ...]:
    """A column's categories in a stable order (a Categorical's own, else sorted)."""
    if hasattr(column, "cat"):
        return tuple(_plain(c) for c in column.cat.categories)
    values = [_plain(v) for v in column.dropna().unique()]
    try:
        values = sorted(values)
    except TypeError:
        values = sorted(values, key=str)
    return tuple(values) + ((None,) if column.isna().any() else ())


def _array(x: Any, what: str) -> np.ndarray:
    if hasattr(x, "to_numpy"):  # a Series: one feature
        x = x.to_numpy()[:, None]
    try:
        array = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise DataError(f"{what} rows differ in length ({exc}); every row needs the same "
                        "number of values") from None
    if array.ndim < 2:
        raise DataError(f"{what} must have one row per example (shape (n, features)), got "
                        f"shape {array.shape}; for a single feature pass x.reshape(-1, 1)")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise DataError(f"{what} must be numeric, got dtype {array.dtype}; pass a DataFrame "
                        "and one-hot encode text columns")
    return array


def _check_finite(rows: np.ndarray, names: list[str] | None, what: str) -> None:
    bad = ~np.isfinite(rows)
    if not bad.any():
        return
    row, col = np.unravel_index(int(np.argmax(bad)), bad.shape)
    where = f"column {names[col]}, row {row}" if names else f"{what}[{row}, {col}]"
    raise DataError(f"{what} has {int(bad.sum())} missing or non-finite values (NaN or inf), "
                    f"the first at {where}; remove or impute them")


def _spread(rows: np.ndarray, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-input offset and spread (sd or range, 0 for a constant input) of `rows`."""
    if scale == "standard":
        return rows.mean(axis=0), rows.std(axis=0)
    return rows.min(axis=0), rows.max(axis=0) - rows.min(axis=0)


def _scaling(rows: np.ndarray, scale: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-input offset and factor from the training rows (constant inputs keep factor 1)."""
    if scale == "none" or rows.shape[1] == 0:
        return np.zeros(0), np.zeros(0)
    offset, spread = _spread(rows, scale)
    return offset, np.where(spread > 0, spread, 1.0)


# `input_scaling="standard"`: an input's sd is floored at this, in the rows' units, so an input
# that is almost constant in training (a Fashion-MNIST corner pixel: sd 0.0004 of its [0, 1])
# is not blown up to hundreds of sds by the rare image that lights it.
INPUT_SD_FLOOR = 0.05


# (id of the rows, digest of a fit's training indices, scale) -> (offset, spread); an entry
# goes when its rows are freed, so an id is never reused for other rows. A tune's trials share
# their folds: on full Fashion-MNIST one fold's statistics take ~0.4 s, 24 s over a main job.
_SPREADS: dict[int, dict[tuple[bytes, str], tuple[np.ndarray, np.ndarray]]] = {}


def _fold_spreads(rows: np.ndarray, train_sets: Sequence[np.ndarray], scale: str
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per fit, `_spread` of its training rows (float64), kept while `rows` lives (a data
    set's rows are never changed in place): every trial of a tune fits the same folds."""
    if id(rows) not in _SPREADS:
        _SPREADS[id(rows)] = {}
        weakref.finalize(rows, _SPREADS.pop, id(rows), None)
    known = _SPREADS[id(rows)]
    flat = rows.reshape(len(rows), -1)
    out = []
    for train in train_sets:
        key = (hashlib.blake2b(np.ascontiguousarray(train).tobytes(), digest_size=16).digest()
               + str(np.asarray(train).dtype).encode(), scale)
        if key not in known:
            known[key] = _spread(flat[train].astype(np.float64), scale)
        out.append(known[key])
    return out


def input_standard(rows: np.ndarray, train_sets: Sequence[np.ndarray],
                   floor: float = INPUT_SD_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Per fit, the mean and floored sd of each input over that fit's training rows only.

    Why: centring and scaling every input (a pixel) by its own spread helped the tune's warm
    start on Fashion-MNIST in every paired fold (`scripts/bench_input_scaling.py`). Learned on
    a fit's training rows only (a CV fold's, or all rows for the final refit), a validation
    fold never moves its own statistics, as a scikit-learn `StandardScaler` inside
    `cross_val_score` learns it. Unlike that scaler, an sd below `floor` counts as `floor`.
    A fold's statistics are computed once while `rows` lives (`_fold_spreads`).

    Args:
        rows: the training rows as the network reads them, (n, ...) (flattened here).
        train_sets: per fit, the indices of its training rows.
        floor: the smallest sd an input is divided by, in the rows' units.

    Returns:
        (shift, factor), each (fits, inputs) float32: the fit reads (rows - shift) / factor.

    Example:
        >>> shift, factor = input_standard(np.array([[0.0, 1.0], [2.0, 1.0], [9.0, 1.0]]),
        ...                                [np.array([0, 1])])
        >>> shift.tolist(), factor.tolist()
        ([[1.0, 1.0]], [[1.0, 0.05000000074505806]])
    """
    spreads = _fold_spreads(rows, train_sets, "standard")
    shifts = [shift for shift, _ in spreads]
    factors = [np.maximum(spread, floor) for _, spread in spreads]
    return np.asarray(shifts, np.float32), np.asarray(factors, np.float32)


def fold_scaling(features: Features | None, rows: np.ndarray,
                 train_sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """Each fold's own scaling, learned on that fold's training rows only.

    Why: a `Dataset`'s rows are scaled with what `Features.fit` learned on *all* training rows,
    which is right for the final refit (the model card stores it) but lets a CV fold's
    validation rows move their own fold's mean and sd. Scaling is affine per input, so
    rescaling the stored rows by the fold's statistics gives exactly what fitting the scaling
    on the fold's raw training rows would give, as scikit-learn's `Pipeline` inside
    `cross_val_score` does: (rows - shift) / factor.

    Args:
        features: the data set's encoding; None (pixel data) or scale `none` learn nothing.
        rows: the data set's (already scaled) training rows, (n, inputs).
        train_sets: per fit, the indices of its training rows.

    Returns:
        (shift, factor), each (fits, inputs) float32, in the rows' units; None when the data
        has no learned scaling (nothing to redo per fold).

    Example:
        >>> features, rows = Features.fit(np.array([[0.0], [2.0], [4.0], [100.0]]))
        >>> shift, factor = fold_scaling(features, rows, [np.array([0, 1, 2])])
        >>> ((rows[:3] - shift[0]) / factor[0]).ravel().astype(float).round(4).tolist()
        [-1.2247, 0.0, 1.2247]
    """
    if features is None or features.scale == "none" or not features.offset:
        return None
    # a constant input keeps factor 1 in raw units, i.e. 1 / (global factor) in rows' units
    unit = 1.0 / np.asarray(features.factor, dtype=np.float64)
    spreads = _fold_spreads(rows, train_sets, features.scale)
    return (np.asarray([shift for shift, _ in spreads], np.float32),
            np.asarray([np.where(spread > 0, spread, unit) for _, spread in spreads], np.float32))
