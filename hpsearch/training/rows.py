"""The one `tf.Variable` copy of the training rows that every fit reads by index.

Copying full Fashion-MNIST into a variable takes ~0.5 s; once per trial it was a visible share
of a fast trial. One copy also bounds memory: TensorFlow keeps traced functions (and what they
captured) alive after `clear_session`, so a copy per trial stayed alive per trial.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import numpy as np

_SHARED: dict[str, Any] = {}


def shared_rows(rows: np.ndarray) -> Any:
    """The `tf.Variable` holding `rows` (n, features), made once per array.

    An array is recognised by where it lives, its layout and a fingerprint of every ~256th
    row: one changed in place between fits is re-copied when the change touches a sampled row.
    When another array comes, the old copy is shrunk to nothing (a traced function still
    holding it keeps only the handle).

    Args:
        rows: float32 training rows, one example per row.

    Returns:
        A non-trainable `tf.Variable` of shape (None, features).

    Example:
        >>> table = shared_rows(x_train.reshape(len(x_train), -1))  # doctest: +SKIP
    """
    import tensorflow as tf

    base = rows
    while isinstance(getattr(base, "base", None), np.ndarray):
        base = base.base
    sample = np.ascontiguousarray(rows[:: max(1, len(rows) // 256)])
    key = (rows.__array_interface__["data"][0], rows.shape, rows.strides, rows.dtype.str,
           hashlib.blake2b(sample.tobytes(), digest_size=16).hexdigest())
    held = _SHARED.get("source")
    if held is not None and held() is base and _SHARED["key"] == key:
        return _SHARED["table"]
    if "table" in _SHARED:
        old = _SHARED["table"]
        old.assign(tf.zeros((0, old.shape[1]), old.dtype))
    table = tf.Variable(rows, trainable=False, name="rows",
                        shape=tf.TensorShape([None, rows.shape[1]]))
    _SHARED.update(source=weakref.ref(base), key=key, table=table)
    return table
