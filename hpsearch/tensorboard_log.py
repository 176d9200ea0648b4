"""TensorBoard logging for a search: one run per (trial, fold), tagged with the HParams plugin.

`tensorboard --logdir DIR` then shows every fold's curves under Scalars and, in the HParams
tab, one session per fold with the trial's hyperparameters plus `trial_id` and `fold` as
columns, so the table can be filtered to one trial or grouped by fold. The callbacks plug into
`evaluate(..., callbacks_for_fold=...)`, the same hook the Hyperband checkpoints use; nothing
else in the search changes. TensorFlow is imported only when the callbacks are made.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

HParamValue = bool | int | float | str


def run_dir(log_dir: str | Path, trial_id: str, fold: int) -> Path:
    """`DIR/trial_<id>/fold_<k>`: sorts naturally in TensorBoard's run list."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(trial_id))
    return Path(log_dir) / f"trial_{slug}" / f"fold_{fold}"


def hparam_values(params: dict[str, Any]) -> dict[str, HParamValue]:
    """The HParams plugin takes only bool/int/float/str: lists and dicts become JSON, None
    (an inactive conditional knob) is left out rather than shown as a fake value."""
    clean: dict[str, HParamValue] = {}
    for key, value in params.items():
        if value is None or key.startswith("tuner/"):
            continue
        if isinstance(value, bool | int | float | str):
            clean[key] = value
        else:
            clean[key] = json.dumps(value, sort_keys=True, default=str)
    return clean


def fold_callbacks(log_dir: str | Path, trial_id: str, fold: int,
                   hparams: dict[str, Any]) -> list[Any]:
    """Keras callbacks for one fold's `fit`: epoch scalars (train and validation) and an
    HParams session carrying `hparams`, `trial_id` and `fold`."""
    import keras
    from tensorboard.plugins.hparams import api as hp

    directory = run_dir(log_dir, trial_id, fold)
    directory.mkdir(parents=True, exist_ok=True)
    values = hparam_values(hparams) | {"trial_id": str(trial_id), "fold": int(fold)}
    scalars = keras.callbacks.TensorBoard(log_dir=str(directory), histogram_freq=0,
                                          write_graph=False, update_freq="epoch")
    session = hp.KerasCallback(str(directory), values, trial_id=f"{trial_id}/fold_{fold}")
    return [scalars, session]
