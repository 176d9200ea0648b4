"""Tables on disk (CSV, TSV, parquet) as a `Dataset`: `--dataset data.csv --target label`.

pandas reads the file; `from_arrays` does the rest (labels, held-out test set, one-hot codes,
scaling on the training rows only), so a table and a DataFrame in a notebook give the same data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hpsearch.data.arrays import DEFAULT_TEST_SIZE, from_arrays
from hpsearch.data.load import Dataset
from hpsearch.errors import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def read_table(path: str | Path) -> Any:
    """The file as a pandas DataFrame; one `DataError` line for anything unreadable.

    Example:
        >>> read_table("data.csv").columns  # doctest: +SKIP
    """
    import pandas as pd

    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except ImportError as exc:
        raise DataError(f"{path}: reading parquet needs pyarrow ({exc}); pip install pyarrow "
                        "(or pip install 'hpsearch[parquet]'), or save the table as CSV") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"{path}: not a readable {suffix[1:]} table ({first})") from None
    if frame.empty:
        raise DataError(f"{path}: the table has no rows")
    return frame


def _split_target(frame: Any, target: str, path: Path) -> tuple[Any, Any]:
    if target not in frame.columns:
        raise DataError(f"{path}: no column {target!r} to use as --target; the columns are "
                        f"{', '.join(map(str, frame.columns))}")
    return frame.drop(columns=[target]), frame[target]


def load_table(path: str | Path, target: str | None = None, test: str | Path | None = None,
               test_size: float | None = None, scale: str = "standard",
               one_hot: Sequence[str] = (), seed: int = 0) -> Dataset:
    """A CSV/TSV/parquet table as a `Dataset`: one column is the class, the rest features.

    Args:
        path: the training table (or the whole table, when `test` is not given).
        target: the column holding the class labels (any values: ints, strings).
        test: a test table with the same columns; without it a stratified, seeded
            `test_size` share (default 0.2) of `path` is held out.
        test_size: the held-out share (only without `test`).
        scale: standard, minmax or none; learned on the training rows only.
        one_hot: text/categorical columns to one-hot encode; other text columns are refused.
        seed: fixes the held-out split.

    Returns:
        The `Dataset` (its `features` and `classes` go into the model card).

    Raises:
        DataError: a missing target, text feature columns, a test table with other columns,
            test labels never seen in training, unreadable files...

    Example:
        >>> load_table("iris.csv", target="species").summary()  # doctest: +SKIP
        'iris.csv: 120 train / 30 test (held out, stratified), input (4,), 3 classes'
    """
    path = Path(path)
    if not target:
        columns = ", ".join(map(str, read_table(path).columns))
        raise DataError(f"{path}: a table data set needs --target COLUMN, the column with the "
                        f"class labels (columns: {columns})")
    if test is not None and test_size is not None:
        raise DataError("give either --test FILE or --test-size SHARE, not both")
    x_train, y_train = _split_target(read_table(path), target, path)
    x_test = y_test = None
    if test is not None:
        test_path = Path(test)
        x_test, y_test = _split_target(read_table(test_path), target, test_path)
        missing = [str(c) for c in x_train.columns if c not in x_test.columns]
        extra = [str(c) for c in x_test.columns if c not in x_train.columns]
        if missing or extra:
            parts = ([f"lacks {', '.join(missing)}"] if missing else []) + \
                    ([f"has extra {', '.join(extra)}"] if extra else [])
            raise DataError(f"{test_path}: the test table's columns differ from {path}'s "
                            f"({'; '.join(parts)}); both need the same columns")
        x_test = x_test[list(x_train.columns)]
    size = DEFAULT_TEST_SIZE if test_size is None else test_size
    try:
        data = from_arrays(x_train, y_train, x_test, y_test, name=str(path), test_size=size,
                           scale=scale, one_hot=tuple(one_hot), seed=seed)
    except DataError as exc:
        culprit = test if test is not None and str(exc).startswith(("x_test", "y_test")) \
            else path
        raise DataError(f"{culprit} (--target {target}): {exc}") from None
    # the card names the label column, so `hpsearch predict` can score rows that carry it
    options = {"target": target, "test": str(test) if test is not None else None,
               "test_size": test_size, "scale": scale, "one_hot": list(one_hot)}
    return replace(data, provenance=data.provenance | {"target": target},
                   source={"dataset": str(path), "data_options": options | (
                       {"seed": seed} if seed else {})})
