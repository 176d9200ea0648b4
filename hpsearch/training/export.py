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

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.errors import ProjectError
from hpsearch.fileio import atomic_write_json, read_json
from hpsearch.training.evaluate import Protocol, evaluate
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
                 overwrite: bool = False, on_epoch: EpochHook | None = None) -> dict[str, Any]:
    """Refit on all of `data.x_train`, evaluate once on `data.x_test`, save model and card."""
    out_dir = Path(out_dir)
    prepare_output_dir(out_dir, overwrite)
    result, model = evaluate(cfg, data, Protocol.train_test(0.0), seed, on_epoch=on_epoch,
                             keep_model=True)
    fold = result.folds[0]
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
        "train": {"loss": fold.train_loss, "accuracy": fold.train_accuracy,
                  "epochs": fold.epochs_run, "fit_time_s": fold.fit_time},
        "test": {"loss": result.test_loss, "accuracy": result.test_accuracy},
        "versions": library_versions(),
    }
    atomic_write_json(out_dir / CARD_FILE, card)
    return card


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
