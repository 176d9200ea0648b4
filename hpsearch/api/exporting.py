"""`export`: refit a config on all training data, test it once, write model.keras + the card.

Also what `Search.export` and `hpsearch export --from DIR` call for a tune project's best trial.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpsearch.api.display import Shown, frame
from hpsearch.api.evaluation import as_data, named_configs
from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.progress import tracker


def ensemble_line(ensemble: dict[str, Any]) -> str:
    """What an ensemble export's card says about its members, as one sentence.

    Example:
        >>> ensemble_line({"members": 3, "seeds": [0, 1, 2],
        ...                "member_test_accuracy": [0.90, 0.91, 0.905],
        ...                "member_test_accuracy_mean": 0.905,
        ...                "member_test_accuracy_std": 0.005})[:67]
        'the mean of 3 refits (seeds 0-2); each alone scored 0.9050 ± 0.0050'
    """
    seeds, accuracies = ensemble["seeds"], ensemble["member_test_accuracy"]
    return (f"the mean of {ensemble['members']} refits (seeds {seeds[0]}-{seeds[-1]}); each "
            f"alone scored {ensemble['member_test_accuracy_mean']:.4f} ± "
            f"{ensemble['member_test_accuracy_std']:.4f} (mean ± sample sd over the members; "
            f"min {min(accuracies):.4f}, max {max(accuracies):.4f})")


def check_output_dir(out: str | Path, overwrite: bool) -> None:
    """Fail before any data loads or any epoch runs if an export cannot be written to `out`.

    Args:
        out: the export directory (created if missing).
        overwrite: replace an earlier export there instead of refusing.

    Raises:
        ProjectError: `out` holds an export and `overwrite` is False, or it is not writable.

    Example:
        >>> check_output_dir("export", overwrite=True)  # doctest: +SKIP
    """
    from hpsearch.training.export import prepare_output_dir

    prepare_output_dir(Path(out), overwrite)


@dataclass(repr=False)
class Exported(Shown):
    """An export: the model file, its model card and what the card says.

    Attributes:
        model_path: `OUT/model.keras` (load with `hpsearch.training.export.load_model`).
        card_path: `OUT/model_card.json`.
        card: the card as a dict (config, data checksum, train and test scores, versions).
        warnings: what the caller should hear (e.g. damaged trials that were skipped).
    """

    model_path: Path
    card_path: Path
    card: dict[str, Any]
    description: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def test_accuracy(self) -> float:
        return self.card["test"]["accuracy"]

    @property
    def test_loss(self) -> float:
        return self.card["test"]["loss"]

    @property
    def verdict(self) -> str:
        cv = self.card.get("cv")
        chosen = (f"; chosen by {cv['folds']}-fold CV ({cv['mean']:.4f})"
                  if cv and cv.get("mean") is not None else "")
        members = f"; {ensemble_line(self.card['ensemble'])}" if self.card.get("ensemble") \
            else ""
        return (f"test accuracy {self.test_accuracy:.4f} (read once, after selection){chosen}"
                f"{members}; wrote {self.model_path} and {self.card_path}")

    def predict(self, rows: Any) -> Any:
        """The exported model's answers on raw rows, as the original class labels."""
        from hpsearch.training.predict import load_export

        return load_export(self.model_path.parent).predict(rows)

    def table(self) -> Any:
        rows = [{"split": split, "loss": self.card[split]["loss"],
                 "accuracy": self.card[split]["accuracy"]} for split in ("train", "test")]
        return frame(rows, index="split")

    def _title(self) -> str:
        return f"Exported: {self.description}"


def export(config: ModelConfig | str, data: Dataset | str, out: str | Path = "export",
           epochs: int | None = None, seed: int = 0, overwrite: bool = False,
           quiet: bool = False, ensemble: int = 1) -> Exported:
    """Refit `config` on all training data, test it once, write `model.keras` + the model card.

    Args:
        config: a `ModelConfig` or a preset name.
        data: a `Dataset` or a name/path for `load_dataset`.
        out: the output directory (refused if it holds an earlier export, unless `overwrite`).
        epochs: replaces the config's epochs.
        seed: fixes the initial weights and shuffles.
        overwrite: replace an earlier export in `out`.
        quiet: no progress bar.
        ensemble: refit this many seeds (seed, seed + 1, ...) at once and save the mean of
            their outputs; the card keeps each member's own test accuracy.

    Returns:
        `Exported`: `.model_path`, `.card_path`, `.card`, `.test_accuracy`.

    Example:
        >>> import hpsearch as hp
        >>> hp.export("model1", "fashion-mnist-sample", "export", epochs=2)  # doctest: +SKIP
    """
    cfg = next(iter(named_configs(config, epochs).values()))
    return refit_and_export(cfg, as_data(data), Path(out), seed, overwrite, quiet,
                            ensemble=ensemble)


def refit_and_export(cfg: ModelConfig, data: Dataset, out: Path, seed: int, overwrite: bool,
                     quiet: bool, cv: dict[str, Any] | None = None, source: str = "config",
                     warnings: list[str] | None = None, ensemble: int = 1) -> Exported:
    """The one export path (config, tune project or study winner): prepare, refit, write."""
    from hpsearch.training.export import CARD_FILE, MODEL_FILE, export_model, prepare_output_dir

    prepare_output_dir(out, overwrite)  # fail before training, not after
    what = "refitting on all training data" + (f" ({ensemble} seeds at once)"
                                               if ensemble > 1 else "")
    with tracker(cfg.epochs, what, quiet) as bar:
        card = export_model(cfg, data, out, seed, cv=cv, source=source, overwrite=overwrite,
                            on_epoch=bar.epoch_hook(), ensemble=ensemble)
    return Exported(out / MODEL_FILE, out / CARD_FILE, card, cfg.describe(),
                    list(warnings or []))


def export_project(directory: str | Path, out: str | Path | None = None,
                   data: Dataset | str | None = None, *, data_dir: str | Path | None = None,
                   overwrite: bool = False, skip_damaged: bool = False,
                   seed: int | None = None, epochs: int | None = None, quiet: bool = False,
                   ensemble: int = 1) -> Exported:
    """Export a tune project's best trial: refit it for the length CV scored
    (`search.best.scored_length`), test once, and put its CV score in the model card.

    Args:
        directory: the tune project.
        out: the output directory (default: DIRECTORY/export).
        data: the data set (default: the one the project was tuned on).
        data_dir: with the project's `fashion-mnist`, read the IDX files from here.
        overwrite: replace an earlier export in `out`.
        skip_damaged: export the best intact trial although some records are damaged (the
            card lists them); without it a damaged record is refused.
        seed: fixes the initial weights and shuffles of the refit (default: the tune's own
            seed, so tunes with different seeds that choose the same config export
            independent refits, not one refit with seed 0 each).
        epochs: refit for this many epochs instead of the length CV scored.
        quiet: no progress bar.
        ensemble: refit this many seeds and save the mean of their outputs (see `export`).

    Returns:
        `Exported`, whose `warnings` name any damaged trial that was skipped.

    Raises:
        ProjectError: not a tune project or no completed trial. DamagedFile: a damaged record.
        DataError: `data` is missing for a project tuned on in-memory data.

    Example:
        >>> hp.load_search("runs/t1").export()  # doctest: +SKIP
    """
    from hpsearch.search.best import best_from_project

    cfg, cv, project_data = best_from_project(directory, skip_damaged)
    seed = cv["seed"] if seed is None else seed
    if epochs is not None:
        cfg = cfg.replace(epochs=epochs)
        cv = cv | {"refit_epochs": epochs}
    out = Path(out) if out is not None else Path(directory) / "export"
    if data is None:
        data = _tuned_data(directory, project_data, data_dir)
    return refit_and_export(cfg, as_data(data), out, seed, overwrite, quiet, cv=cv,
                            source=f"tune:{directory}", warnings=project_data["warnings"],
                            ensemble=ensemble)


def _tuned_data(directory: str | Path, stored: dict[str, Any],
                data_dir: str | Path | None) -> Dataset:
    """The data set a project was tuned on, loaded again from what project.json stores.

    Raises:
        DataError: it cannot be loaded: in-memory data (no file holds it: pass `data=`), or
            a relative path stored by an older hpsearch (paths are stored absolute now),
            each named with the way out.
    """
    from hpsearch.data import load_dataset, reloadable
    from hpsearch.errors import DataError

    if not reloadable(stored["dataset"]):
        raise DataError(f"{directory} was tuned on in-memory data ({stored['dataset']!r}, "
                        "e.g. from hp.Dataset.from_arrays), which no file holds: pass the same "
                        f"data again, hp.load_search({str(directory)!r}).export(data=data), or "
                        "save it as a table and use --dataset FILE --target COLUMN")
    try:
        return load_dataset(stored["dataset"], data_dir or stored["data_dir"],
                            **stored["data_options"])
    except DataError as exc:
        relative = [str(p) for p in (stored["dataset"], stored["data_options"].get("test"))
                    if p and Path(str(p)).suffix and not Path(str(p)).is_absolute()]
        if not relative:
            raise
        raise DataError(f"{exc}; {directory} stores the relative path "
                        f"{', '.join(relative)} (written by an older hpsearch): run from the "
                        "directory the tune ran in, or pass --dataset (and --test) with the "
                        "file's path") from None
