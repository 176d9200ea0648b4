"""Options shared by several commands, and the one way results are printed (table or JSON)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from hpsearch.data import DATA_DIR_ENV

Dataset = Annotated[str, typer.Option(
    "--dataset", "-d",
    help="fashion-mnist (Keras cache / download, or --data-dir), fashion-mnist-sample "
         "(shipped, offline) or a path to an .npz with x_train, y_train, x_test, y_test.")]
DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", envvar=DATA_DIR_ENV,
    help="Directory with the four Fashion-MNIST IDX files (.gz or raw); no download needed.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed for splits, initial weights, shuffling.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout.")]
Presets = Annotated[list[str] | None, typer.Option(
    "--preset", "-p", help="model1, model2, model3 or model_d (the lab's configs).")]
Config = Annotated[Path | None, typer.Option(
    "--config", "-c", help="A config file (.toml or .json) with ModelConfig fields.")]
Sets = Annotated[list[str] | None, typer.Option(
    "--set", "-s", help="Override a config field: --set epochs=5 --set hidden=256,128.")]
Folds = Annotated[int, typer.Option("--folds", "-k", help="Number of stratified CV folds.")]
Epochs = Annotated[int | None, typer.Option(
    "--epochs", help="Epochs for every config (default: the config's own; same as --set "
                     "epochs=N).", show_default=False)]


def load_data(dataset: str, data_dir: Path | None, folds: int | None = None) -> Any:
    """Load the data set (and, with `folds`, check every class can fill them); a data warning
    becomes one `warning:` line on stderr. The import is deferred so `--help` never imports
    numpy-heavy code."""
    import warnings

    from hpsearch.data import load_dataset
    from hpsearch.errors import DataWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        data = load_dataset(dataset, data_dir)
    for warning in caught:
        if issubclass(warning.category, DataWarning):
            typer.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    if folds is not None:
        data.check_folds(folds)
    return data


def emit(payload: dict[str, Any], as_json: bool, render: Callable[[], None]) -> None:
    """Print `payload` as JSON, or call `render` for the human view."""
    if as_json:
        typer.echo(json.dumps(payload, indent=2, default=_json_default))
    else:
        render()


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


def show_notes(*configs: Any) -> Any:
    """Print the configs' notes (e.g. binary cross-entropy's accuracy trap) as `note:` lines
    on stderr, each distinct note once; returns the first config so it can wrap a resolve."""
    from hpsearch.config import notes

    for note in dict.fromkeys(n for cfg in configs for n in notes(cfg)):
        typer.echo(f"note: {note}", err=True)
    return configs[0] if configs else None
