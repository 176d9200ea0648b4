"""Options shared by several commands, and the one way results are printed (table or JSON)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hpsearch.data import DATA_DIR_ENV

DATASET_HELP = ("fashion-mnist (Keras cache / download, or --data-dir), fashion-mnist-sample "
                "(shipped, offline), a path to an .npz with x_train, y_train, x_test, y_test, "
                "or a .csv/.tsv/.parquet table with --target COLUMN.")
Dataset = Annotated[str, typer.Option("--dataset", "-d", help=DATASET_HELP)]
Target = Annotated[str | None, typer.Option(
    "--target", help="With a table --dataset: the column holding the class labels (any "
                     "values; they become the class names).", rich_help_panel="Tables")]
TestTable = Annotated[Path | None, typer.Option(
    "--test", help="With a table --dataset: a test table with the same columns (default: "
                   "hold out --test-size of the table).", rich_help_panel="Tables")]
TestSize = Annotated[float | None, typer.Option(
    "--test-size", help="With a table --dataset and no --test: the share held out as a "
                        "stratified test set, always with split seed 0 so every command sees "
                        "the same test rows (default 0.2).", show_default=False,
    rich_help_panel="Tables")]
Scale = Annotated[str, typer.Option(
    "--scale", help="With a table --dataset: standard, minmax or none; learned on the training "
                    "rows only and stored in the model card.", rich_help_panel="Tables")]
OneHot = Annotated[str | None, typer.Option(
    "--one-hot", help="With a table --dataset: comma-separated text columns to one-hot encode "
                      "(other text columns are refused).", rich_help_panel="Tables")]
TABLE_PARAMS = ("target", "test", "test_size", "scale", "one_hot")


def table_options(target: str | None, test: Path | None, test_size: float | None,
                  scale: str, one_hot: str | None) -> dict[str, Any]:
    """The table flags as `load_dataset`'s keyword arguments (also what a tune project
    stores, so resume, workers and `export --from` read the same rows)."""
    columns = [c.strip() for c in (one_hot or "").split(",") if c.strip()]
    return {"target": target, "test": str(test) if test else None, "test_size": test_size,
            "scale": scale, "one_hot": columns}
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


@contextmanager
def data_warnings_as_lines() -> Iterator[None]:
    """Inside: each data warning (`DataWarning`) is one `warning:` line on stderr, printed as
    it happens; other warnings go where they always go."""
    import warnings

    from hpsearch.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", DataWarning)
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, DataWarning):
                typer.echo(f"warning: {message}", err=True)
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def load_data(dataset: str, data_dir: Path | None, folds: int | None = None,
              table: dict[str, Any] | None = None) -> Any:
    """Load the data set (and, with `folds`, check every class can fill them); a data warning
    becomes one `warning:` line on stderr. The import is deferred so `--help` never imports
    numpy-heavy code. `table`: the table flags (`table_options`)."""
    from hpsearch.data import load_dataset

    with data_warnings_as_lines():
        data = load_dataset(dataset, data_dir, **(table or {}))
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
