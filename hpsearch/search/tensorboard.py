"""TensorBoard logging for a search: one run per (trial, fold), tagged with the HParams plugin.

`tensorboard --logdir DIR` then shows every fold's curves under Scalars and, in the HParams
tab, one session per fold with the trial's hyperparameters plus `trial_id` and `fold` as
columns, so the table can be filtered to one trial or grouped by fold. Everything is written
from the trial record's per-fold histories when the trial ends (the folds train together as
towers, so there is no per-fold Keras callback); TensorFlow is imported only then.
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


def log_trial(log_dir: str | Path, record: Any) -> None:
    """Write a finished trial's folds for TensorBoard, from the towers' histories.

    Per fold: the epoch scalars (`epoch_loss`, `epoch_accuracy`) under `train/` and
    `validation/`, as Keras' TensorBoard callback names them, and an HParams session carrying
    the trial's params plus `trial_id` and `fold`, ended with the trial's status.

    Args:
        log_dir: the `--tensorboard` directory.
        record: the trial's `TrialRecord` (params, folds with their histories, status).

    Example:
        >>> log_trial("tb", record)  # doctest: +SKIP
    """
    from hpsearch.training import import_tensorflow_quietly

    import_tensorflow_quietly()  # TensorFlow with our settings
    import tensorflow as tf
    from tensorboard.plugins.hparams import api_pb2, summary
    from tensorboard.plugins.hparams import summary_v2 as hp

    status = api_pb2.STATUS_SUCCESS if record.status in ("ok", "pruned") else \
        api_pb2.STATUS_FAILURE
    for fold in record.folds:
        directory = run_dir(log_dir, record.trial_id, fold["fold"])
        history = fold.get("history", {})
        for split, prefix in (("train", ""), ("validation", "val_")):
            writer = tf.summary.create_file_writer(str(directory / split))
            with writer.as_default():
                for name in ("loss", "accuracy"):
                    for epoch, value in enumerate(history.get(prefix + name, [])):
                        tf.summary.scalar(f"epoch_{name}", value, step=epoch)
            writer.close()
        values = hparam_values(record.params) | {"trial_id": str(record.trial_id),
                                                 "fold": int(fold["fold"])}
        writer = tf.summary.create_file_writer(str(directory))
        with writer.as_default():
            hp.hparams(values, trial_id=f"{record.trial_id}/fold_{fold['fold']}")
            end = summary.session_end_pb(status).SerializeToString()
            tf.summary.experimental.write_raw_pb(end, step=0)
        writer.close()
