"""Refit a chosen config on all training data, test it once, and write `.keras` + a model card.

The test set is read exactly once here, after selection is over, so the reported test accuracy
is an honest estimate rather than a number that helped pick the model.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.errors import ConfigError, ProjectError, TrialFailed
from hpsearch.fileio import atomic_write_json, read_json
from hpsearch.training.evaluate import Protocol
from hpsearch.training.loop import EpochHook

MODEL_FILE = "model.keras"
CARD_FILE = "model_card.json"


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("hpsearch", "tensorflow-cpu", "tensorflow", "keras", "keras-tuner",
                    "scikit-learn", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def prepare_output_dir(out_dir: Path, overwrite: bool) -> None:
    """Refuse to clobber an earlier export unless asked; fail early if it cannot be written."""
    existing = [name for name in (MODEL_FILE, CARD_FILE) if (out_dir / name).exists()]
    if existing and not overwrite:
        raise ProjectError(f"{out_dir} already holds {', '.join(existing)}; pass --overwrite "
                           "to replace it or choose another --out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".hpsearch-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ProjectError(f"cannot write to {out_dir} ({exc.strerror or exc}); choose a "
                           "writable --out") from exc


def export_model(cfg: ModelConfig, data: Dataset, out_dir: str | Path, seed: int,
                 cv: dict[str, Any] | None = None, source: str | None = None,
                 overwrite: bool = False, on_epoch: EpochHook | None = None,
                 ensemble: int = 1) -> dict[str, Any]:
    """Refit on all of `data.x_train`, evaluate once on `data.x_test`, save model and card.

    With `ensemble` n > 1, n refits with seeds seed, seed + 1, ... train at once (towers of
    one model, as CV folds do) and the saved model averages their outputs. The card keeps
    every member's own test accuracy beside the average's, so the seed-to-seed spread of a
    single refit is on record, not only the ensemble's one number.
    """
    from hpsearch.training.evaluate import evaluate_seeds
    from hpsearch.training.towers import to_sequential

    out_dir = Path(out_dir)
    if ensemble < 1:
        raise ConfigError(f"ensemble must be at least 1 refit, got {ensemble}")
    prepare_output_dir(out_dir, overwrite)
    seeds = [seed + i for i in range(ensemble)]
    results, outcome = evaluate_seeds(cfg, data, Protocol.train_test(0.0), seeds,
                                      on_epoch=on_epoch, keep_model=True)
    for result in results:
        if isinstance(result, TrialFailed):
            raise result
    members = [to_sequential(cfg, outcome.towers, j, data.input_shape, data.num_classes)
               for j in range(len(seeds))]
    folds = [result.folds[0] for result in results]
    if ensemble == 1:
        model, test = members[0], {"loss": results[0].test_loss,
                                   "accuracy": results[0].test_accuracy}
    else:
        model = average_model(cfg, members, data.input_shape)
        test = ensemble_scores(cfg, model, data)
    model.save(out_dir / MODEL_FILE)
    card = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "config": cfg.to_dict(),
        "seed": seed,
        "dataset": data.card(),
        "predict": ("hpsearch.load_export(DIR).predict(raw_rows) applies dataset.features and "
                    "maps the argmax back to dataset.classes"),
        "cv": cv,
        "train": {"loss": float(np.mean([f.train_loss for f in folds])),
                  "accuracy": float(np.mean([f.train_accuracy for f in folds])),
                  "epochs": folds[0].epochs_run,
                  "fit_time_s": float(sum(f.fit_time for f in folds))},
        "test": test,
        "versions": library_versions(),
    }
    if ensemble > 1:
        accuracies = [float(r.test_accuracy) for r in results]
        card["ensemble"] = {
            "members": ensemble, "seeds": seeds, "combine": "mean of the members' outputs",
            "member_test_accuracy": accuracies,
            "member_test_accuracy_mean": float(np.mean(accuracies)),
            "member_test_accuracy_std": float(np.std(accuracies, ddof=1)),
            "std": "sample standard deviation (ddof=1) over the members"}
    atomic_write_json(out_dir / CARD_FILE, card)
    return card


def average_model(cfg: ModelConfig, members: list[Any], input_shape: tuple[int, ...]) -> Any:
    """One Keras model whose output is the mean of `members`' outputs (stock layers only, so
    it loads in safe mode like a single export)."""
    import keras

    inputs = keras.Input(shape=input_shape)
    for j, member in enumerate(members):
        member.name = f"member_{j}"
    outputs = keras.layers.Average(name="mean_of_members")([m(inputs) for m in members])
    model = keras.Model(inputs, outputs, name="hpsearch_ensemble")
    model.compile(optimizer=members[0].optimizer, loss=members[0].loss)
    return model


def ensemble_scores(cfg: ModelConfig, model: Any, data: Dataset) -> dict[str, float]:
    """The averaged model's test loss (the config's loss on the mean output) and accuracy."""
    import keras

    from hpsearch.training.towers import loss_kind, smooth_targets

    probs = np.asarray(model.predict(data.x_test, batch_size=1024, verbose=0), np.float64)
    y = np.asarray(data.y_test, np.int64)
    target = smooth_targets(cfg, np.eye(data.num_classes)[y])  # as the members trained
    if loss_kind(cfg) == "categorical":
        loss = float(np.mean(-np.sum(target * np.log(np.clip(probs, 1e-12, 1.0)), axis=1)))
    else:
        loss = float(np.mean(keras.ops.convert_to_numpy(
            keras.losses.get(cfg.loss)(target, probs))))
    return {"loss": loss, "accuracy": float(np.mean(probs.argmax(axis=1) == y))}


def read_card(out_dir: str | Path) -> dict[str, Any] | None:
    """The model card in `out_dir` (this module writes it and is its one reader), or None
    when it is missing or damaged (an export that did not finish counts as none).

    Example:
        >>> read_card("export")["test"]["accuracy"]  # doctest: +SKIP
    """
    card, problem = read_json(Path(out_dir) / CARD_FILE)
    return card if not problem and isinstance(card, dict) else None


def load_model(path: str | Path, compile: bool = True) -> Any:  # noqa: A002 (Keras' name)
    """Load an exported model with Keras `safe_mode` on (no arbitrary code from the file);
    `compile=False` for predictions only (no optimizer state to restore)."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"{path} does not exist; pass the model.keras written by "
                           "`hpsearch export`")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=compile)
    except Exception as exc:  # Keras raises several classes for a bad archive
        raise ProjectError(f"{path} is not a loadable .keras model ({exc})") from exc
