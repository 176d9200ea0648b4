"""Predictions in the user's terms: raw rows in, original class labels out.

The network sees encoded, scaled inputs and answers with classes 0..C-1; a `Predictor` applies
the data's recorded encoding (`Features`, from the model card for an export) before the model
and maps its answer back to the original labels (`{1, 5, 9}`, `"setosa"`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.data import Dataset, Features
from hpsearch.data.load import scale_pixels
from hpsearch.errors import ProjectError


class Predictor:
    """A trained network plus what it needs to answer on raw rows.

    Attributes:
        model: the Keras `Sequential` (inputs: encoded, scaled rows).
        classes: the original label values in class order.
        class_names: their display names.
        features: the encoding learned on the training rows (None for pixel data).

    Example:
        >>> p = load_export("export")  # doctest: +SKIP
        >>> p.predict(df.drop(columns="label"))  # doctest: +SKIP
        array(['setosa', 'virginica', ...], dtype=object)
    """

    def __init__(self, model: Any, classes: tuple[Any, ...], class_names: tuple[str, ...],
                 features: Features | None = None) -> None:
        self.model, self.features = model, features
        self.classes, self.class_names = tuple(classes), tuple(class_names)

    @classmethod
    def for_data(cls, model: Any, data: Dataset) -> Predictor:
        return cls(model, data.classes, data.class_names, data.features)

    def inputs(self, rows: Any, what: str = "rows") -> np.ndarray:
        """Raw rows -> what the network reads (encoding and scaling as in training); `what`
        names the rows in errors (a missing column, a category never seen in training)."""
        x = self.features.transform(rows, what) if self.features else scale_pixels(rows)
        shape = tuple(self.model.input_shape[1:])
        return x.reshape((len(x), *shape)) if x[0].size == int(np.prod(shape)) else x

    def predict_proba(self, rows: Any, what: str = "rows") -> Any:
        """A DataFrame of class probabilities, one column per class name."""
        import pandas as pd

        out = self.model.predict(self.inputs(rows, what), verbose=0)
        return pd.DataFrame(out, columns=list(self.class_names))

    def predict(self, rows: Any) -> np.ndarray:
        """The predicted original labels, one per row (ints stay ints, strings strings)."""
        out = self.model.predict(self.inputs(rows), verbose=0)
        labels = np.empty(len(self.classes), dtype=object)
        labels[:] = list(self.classes)
        picked = labels[np.argmax(out, axis=-1)]
        kinds = {type(c) for c in self.classes}
        return picked.astype(kinds.pop()) if len(kinds) == 1 and kinds <= {int, float, bool} \
            else picked


def load_export(directory: str | Path) -> Predictor:
    """An exported model (`hpsearch export`, `hp.export`) ready for raw rows.

    Reads `model.keras` (Keras `safe_mode`) and `model_card.json`, whose data section holds the
    classes and the feature encoding learned on the training rows.

    Args:
        directory: the export's --out directory.

    Returns:
        A `Predictor`: `.predict(rows)` gives original labels, `.predict_proba(rows)` a
        DataFrame with one column per class name.

    Raises:
        ProjectError: no model or no readable card there.

    Example:
        >>> import hpsearch as hp
        >>> hp.load_export("export").predict(new_rows)  # doctest: +SKIP
    """
    from hpsearch.training.export import MODEL_FILE, load_model, read_card

    directory = Path(directory)
    card = read_card(directory)
    if card is None:
        raise ProjectError(f"{directory} holds no readable model_card.json; pass the --out "
                           "directory of `hpsearch export`")
    data = card.get("dataset") or {}
    names = tuple(data.get("class_names") or ())
    features = Features.from_dict(data["features"]) if data.get("features") else None
    model = load_model(directory / MODEL_FILE, compile=False)
    return Predictor(model, tuple(data.get("classes") or names), names, features)


def predict_table(directory: str | Path, path: str | Path) -> tuple[Any, float | None]:
    """An export's answers on the rows of a CSV/parquet table (what `hpsearch predict` does).

    Args:
        directory: the export's --out directory.
        path: a table with (at least) the feature columns the model was trained on; if it
            also holds the training's target column, the accuracy against it is returned.

    Returns:
        (a DataFrame with `prediction` and one `p(<class>)` column per class, the accuracy
        or None when the table has no target column).

    Example:
        >>> frame, accuracy = predict_table("export", "new_rows.csv")  # doctest: +SKIP
    """
    from hpsearch.data.table import read_table
    from hpsearch.training.export import read_card

    predictor = load_export(directory)
    if predictor.features is None:
        raise ProjectError(f"{directory}: this model was trained on pixel data, not a table; "
                           "use hpsearch.load_export(DIR).predict(images) from Python")
    rows = read_table(path)
    proba = predictor.predict_proba(rows, str(path))
    picked = np.empty(len(predictor.classes), dtype=object)
    picked[:] = list(predictor.classes)
    frame = proba.rename(columns=lambda name: f"p({name})")
    frame.insert(0, "prediction", picked[np.argmax(proba.to_numpy(), axis=1)])
    target = ((read_card(directory) or {}).get("dataset") or {}).get("target")
    accuracy = None
    if target and target in rows.columns:
        truth = rows[target].astype(object).map(str).to_numpy()
        accuracy = float(np.mean(frame["prediction"].astype(object).map(str).to_numpy() == truth))
    return frame, accuracy
