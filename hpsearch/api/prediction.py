"""Answers of an exported model on a user's own table (what `hpsearch predict` prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def predict(export_dir: str | Path, rows: str | Path) -> tuple[Any, float | None]:
    """Predict every row of a CSV/TSV/parquet table with an export, in the original labels.

    The card's encoding and scaling are applied to the raw columns, so the table is written
    the way the training table was.

    Args:
        export_dir: the export's directory (`export --out`).
        rows: a table with the feature columns the model was trained on; when it also holds
            the training's target column, the accuracy against it is returned.

    Returns:
        (a DataFrame with `prediction` and one `p(<class>)` column per class, the accuracy or
        None when the table has no target column).

    Raises:
        ProjectError: the export was trained on pixels, or its files are missing.
        DataError: the table lacks a feature column or cannot be read.

    Example:
        >>> frame, accuracy = hp.predict("export", "new_rows.csv")  # doctest: +SKIP
    """
    from hpsearch.training.predict import predict_table

    return predict_table(export_dir, rows)
