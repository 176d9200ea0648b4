"""A trained Playground network as a Keras model: same features, same weights, same answers.

The site's users ask for this (tensorflow/playground#39): train the little network here, then
load it anywhere Keras runs. The model takes the raw point (x1, x2) and computes the chosen
features itself with Keras ops (x1², x1·x2, sin x1, ...), so `model.predict(points)` gives what
the simulator's output node gives. Everything is float64, as the site computes.

TensorFlow is imported only inside `to_keras`: the playground never loads it otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidValueError

_FEATURES = {
    "x1": lambda ops, x, y: x,
    "x2": lambda ops, x, y: y,
    "x1^2": lambda ops, x, y: ops.multiply(x, x),
    "x2^2": lambda ops, x, y: ops.multiply(y, y),
    "x1*x2": lambda ops, x, y: ops.multiply(x, y),
    "sin(x1)": lambda ops, x, y: ops.sin(x),
    "sin(x2)": lambda ops, x, y: ops.sin(y),
}


def _import_keras_quietly() -> None:
    """TensorFlow prints C++ start-up lines before its logging is set up; keep them off the
    terminal (stderr at /dev/null during the import only). The playground stands alone, so
    this does not borrow `hpsearch.training`'s twin."""
    if "keras" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                import keras  # noqa: F401
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def to_keras(result: Any) -> Any:
    """The trained network of `result` (a `RunResult`) as a functional Keras model.

    Args:
        result: what `simulate` returns.

    Returns:
        A `keras.Model` from raw points (n, 2) to the output node's value (n, 1): tanh for
        classification (> 0 means the blue class, +1), linear for regression. Links that L1
        killed are weight 0, as in the simulator.

    Example:
        >>> model = to_keras(simulate(PlaygroundConfig(hidden=(3,))))  # doctest: +SKIP
        >>> model.predict(np.array([[0.0, 0.0]]))  # doctest: +SKIP
    """
    _import_keras_quietly()
    import keras
    from keras import layers, ops

    cfg, lay = result.config, result.layout
    point = keras.Input(shape=(2,), dtype="float64", name="point")
    x, y = point[:, 0:1], point[:, 1:2]
    columns = [_FEATURES[name](ops, x, y) for name in cfg.features]
    h = columns[0] if len(columns) == 1 else layers.Concatenate(name="features",
                                                                dtype="float64")(columns)
    weights = lay.weight_matrices(np.asarray(result.flat_weights, dtype=np.float64))
    biases = lay.bias_vectors(np.asarray(result.flat_biases, dtype=np.float64))
    last = len(weights) - 1
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        activation = cfg.activation if k < last else (
            "linear" if cfg.is_regression else "tanh")
        dense = layers.Dense(w.shape[0], activation=activation, dtype="float64",
                             name=f"hidden{k + 1}" if k < last else "output")
        h = dense(h)
        dense.set_weights([w.T.copy(), b.copy()])  # ours: (dest, source); Keras: (source, dest)
    return keras.Model(point, h, name="playground")


def check_target(path: str | Path) -> Path:
    """Refuse a model file name that is not `.keras` or a place that cannot be written,
    before any training (InvalidValueError).

    Example:
        >>> check_target("pg.h5")  # doctest: +SKIP
        InvalidValueError: --export-keras pg.h5: the file name must end in .keras
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise InvalidValueError(f"--export-keras {path}: the file name must end in .keras")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(f".{path.name}.write-test")
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidValueError(f"cannot write {path} ({exc.strerror or exc}); choose a "
                                "writable place for --export-keras") from None
    return path


def export_keras(result: Any, path: str | Path) -> Path:
    """Save `to_keras(result)` as a `.keras` file (loads with `safe_mode=True`: no Lambda).

    Args:
        result: what `simulate` returns.
        path: the file to write; it must end in `.keras`.

    Returns:
        The path written.

    Raises:
        InvalidValueError: the name does not end in .keras, or the file cannot be written.

    Example:
        >>> export_keras(result, "runs/pg/model.keras")  # doctest: +SKIP
    """
    path = check_target(path)
    try:
        to_keras(result).save(path)
    except OSError as exc:
        raise InvalidValueError(f"cannot write {path} ({exc.strerror or exc}); choose a "
                                "writable place for --export-keras") from None
    return path
