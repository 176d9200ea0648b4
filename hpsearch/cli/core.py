"""`hpsearch train`, `hpsearch cv` and `hpsearch export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hpsearch.cli.interrupt import resume_line, same_command
from hpsearch.cli.options import (
    Config,
    DataDir,
    Dataset,
    Epochs,
    Folds,
    Json,
    OneHot,
    Presets,
    Quiet,
    Scale,
    Seed,
    Sets,
    Target,
    TestSize,
    TestTable,
    emit,
    fmt,
    load_data,
    show_notes,
    table_options,
)
from hpsearch.config import ModelConfig, resolve_config
from hpsearch.errors import ConfigError
from hpsearch.stats import SD_LABEL, fmt_pm

console = Console()


def _single_config(presets: list[str] | None, config: Path | None,
                   sets: list[str] | None) -> ModelConfig:
    if presets and len(presets) > 1:
        raise ConfigError("this command takes one --preset; use `hpsearch cv` to compare several")
    return show_notes(resolve_config(presets[0] if presets else None, config, sets))


def train(
    preset: Presets = None,
    config: Config = None,
    set_: Sets = None,
    dataset: Dataset = "fashion-mnist",
    data_dir: DataDir = None,
    target: Target = None,
    test: TestTable = None,
    test_size: TestSize = None,
    scale: Scale = "standard",
    one_hot: OneHot = None,
    validation_split: Annotated[float, typer.Option(
        help="Hold out this share of the training data for validation curves (0 = none).")] = 0.0,
    out: Annotated[Path | None, typer.Option(help="Save the trained model (.keras).")] = None,
    epochs: Epochs = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    json_out: Json = False,
) -> None:
    """Train one config on the training set and report train and test loss/accuracy and time.

    Example: hpsearch train --preset model1 --epochs 5 --dataset fashion-mnist-sample

    Example: hpsearch train --preset model1 --dataset data.csv --target label --test-size 0.2
    """
    from hpsearch.api.evaluation import train as train_config

    cfg = _single_config(preset, config, set_)
    if out is not None and out.suffix != ".keras":
        raise ConfigError(f"--out {out}: a model file must end in .keras")
    if out is not None:
        from hpsearch.api.exporting import check_output_dir

        check_output_dir(out.parent, overwrite=True)  # fail before training, not after
    data = load_data(dataset, data_dir, table=table_options(target, test, test_size, scale,
                                                            one_hot))
    fit = train_config(cfg, data, epochs, seed, validation_split, quiet or json_out)
    cfg, result, model = fit.config, fit.result, fit.model
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        model.save(out)
        if data.features is not None:
            typer.echo(f"note: {out} reads encoded, scaled rows; `hpsearch export` also writes "
                       "the model card that turns raw rows into its inputs (hpsearch predict)",
                       err=True)
    fold = result.folds[0]
    payload = {"config": cfg.to_dict(), "dataset": data.name, "seed": seed,
               "train_loss": fold.train_loss, "train_accuracy": fold.train_accuracy,
               "val_loss": fold.val_loss, "val_accuracy": fold.val_accuracy,
               "test_loss": result.test_loss, "test_accuracy": result.test_accuracy,
               "epochs": fold.epochs_run, "fit_time_s": fold.fit_time,
               "steady_time_s": fold.steady_time, "history": fold.history,
               "model": str(out) if out else None}

    def render() -> None:
        console.print(f"{cfg.describe()}\non {data.summary()}")
        table = Table()
        for column in ("split", "loss", "accuracy"):
            table.add_column(column)
        table.add_row("train", fmt(fold.train_loss), fmt(fold.train_accuracy))
        if fold.val_loss is not None:
            table.add_row("validation", fmt(fold.val_loss), fmt(fold.val_accuracy))
        table.add_row("test", fmt(result.test_loss), fmt(result.test_accuracy))
        console.print(table)
        console.print(f"{fold.epochs_run} epochs in {fold.fit_time:.1f} s "
                      f"({fold.steady_time:.1f} s without the first epoch's warm-up)")
        if out:
            console.print(f"saved {out}")

    emit(payload, json_out, render)


def cv(
    preset: Presets = None,
    config: Annotated[list[Path] | None, typer.Option(
        "--config", "-c", help="Config file(s) to compare (.toml/.json); repeatable.")] = None,
    set_: Sets = None,
    folds: Folds = 5,
    epochs: Epochs = None,
    dataset: Dataset = "fashion-mnist",
    data_dir: DataDir = None,
    target: Target = None,
    test: TestTable = None,
    test_size: TestSize = None,
    scale: Scale = "standard",
    one_hot: OneHot = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    json_out: Json = False,
) -> None:
    """Cross-validate configs on the training data (fresh model per fold) and compare them.

    Every config sees the same folds, so differences are paired per fold; the best is named only
    when its lead is outside the noise.

    Example: hpsearch cv --preset model1 --preset model2 --preset model3 --folds 5 --epochs 5
    """
    from hpsearch.api.evaluation import cross_validate

    candidates = {name: resolve_config(name, None, set_) for name in preset or []}
    candidates |= {path.stem: resolve_config(None, path, set_) for path in config or []}
    show_notes(*candidates.values())
    if not candidates:
        raise ConfigError("nothing to compare; pass --preset NAME and/or --config FILE")
    loaded = []

    def load() -> Any:  # called by the API once --folds is checked, before any training
        loaded.append(load_data(dataset, data_dir, folds,
                                table_options(target, test, test_size, scale, one_hot)))
        return loaded[0]

    result = cross_validate(candidates, load, folds, epochs, seed, quiet or json_out)
    data = loaded[0]
    rows, failures, verdict = list(result.results.items()), result.failed, result.verdict
    payload = result.to_dict()

    def render() -> None:
        table = Table(title=f"{folds}-fold CV on {data.summary()}")
        for column in ("config", f"val accuracy, {SD_LABEL}", f"val loss, {SD_LABEL}",
                       "best epoch", "fit time (s)"):
            table.add_column(column)
        for name, result in rows:
            table.add_row(f"{name}: {result.config.describe()}",
                          fmt_pm([f.val_accuracy for f in result.folds]),
                          fmt_pm([f.val_loss for f in result.folds]),
                          f"{result.mean_best_epoch:.1f}", f"{result.fit_time:.1f}")
        console.print(table)
        for name, reason in failures.items():
            console.print(f"[red]{name} failed:[/] {reason}")
        console.print(verdict)

    emit(payload, json_out, render)


def export(
    ctx: typer.Context,
    from_dir: Annotated[Path | None, typer.Option(
        "--from", help="A `hpsearch tune` directory: export its best trial.")] = None,
    preset: Presets = None,
    config: Config = None,
    set_: Sets = None,
    out: Annotated[Path | None, typer.Option(
        help="Directory for model.keras and model_card.json (default: DIR/export with --from, "
        "else ./export).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier export in --out.")] = False,
    skip_damaged: Annotated[bool, typer.Option(
        help="With --from: export the best intact trial even though some trial records are "
             "damaged (they are listed in the model card); without it a damaged record is "
             "refused.")] = False,
    epochs: Annotated[int | None, typer.Option(
        "--epochs", help="Refit for N epochs (default: the config's; with --from, the length "
                         "the best trial's CV score was taken at).", show_default=False)]
    = None,
    dataset: Dataset = "fashion-mnist",
    data_dir: DataDir = None,
    target: Target = None,
    test: TestTable = None,
    test_size: TestSize = None,
    scale: Scale = "standard",
    one_hot: OneHot = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seed of the refit's initial weights and shuffles (default: the "
                       "tune's own seed with --from, else 0).", show_default=False)] = None,
    ensemble: Annotated[int, typer.Option(
        min=1, help="Refit N seeds (--seed, --seed + 1, ...) at once and save the mean of "
                    "their outputs; the card keeps each member's own test accuracy.")] = 1,
    quiet: Quiet = False,
    json_out: Json = False,
) -> None:
    """Refit one config on all training data, test it once, write model.keras + model_card.json.

    With --from DIR (a tune project) the best trial's config is refitted for the length its CV
    score was taken at (every epoch; with early stopping, the folds' restored epoch), and its
    CV score goes into the model card; the project's data set is used unless --dataset is
    given.

    Example: hpsearch export --preset model1 --out export/ --dataset fashion-mnist-sample
    Example: hpsearch export --from tune-project --out best/
    """
    with resume_line(f"interrupted: nothing was exported (the model and its card are written "
                     f"last); run it again: {same_command()}"):
        done = _export(ctx, from_dir, preset, config, set_, out, overwrite, skip_damaged, epochs,
                       dataset, data_dir, table_options(target, test, test_size, scale, one_hot),
                       seed, quiet or json_out, ensemble)
    card, out = done.card, done.model_path.parent
    describe = done.description

    def render() -> None:
        console.print(f"{describe}: test accuracy {fmt(card['test']['accuracy'])}, "
                      f"test loss {fmt(card['test']['loss'])} "
                      f"(train {fmt(card['train']['accuracy'])}, "
                      f"{card['train']['fit_time_s']:.1f} s)")
        if card.get("ensemble"):
            from hpsearch.api.exporting import ensemble_line

            console.print(ensemble_line(card["ensemble"]))
        console.print(f"wrote {out / 'model.keras'} and {out / 'model_card.json'}")

    with resume_line(f"interrupted while printing: the export is complete in {out} "
                     "(model.keras and model_card.json)"):
        emit(card, json_out, render)


def _export(ctx: typer.Context, from_dir: Path | None, preset: str | None, config: Path | None,
            set_: list[str] | None, out: Path | None, overwrite: bool, skip_damaged: bool,
            epochs: int | None, dataset: str, data_dir: Path | None, table: dict[str, Any],
            seed: int | None, quiet: bool, ensemble: int = 1) -> Any:
    """`export` itself: a tune project's best trial or one config, refitted and written."""
    from hpsearch.api.exporting import export_project, refit_and_export

    if from_dir is not None:
        if preset or config or set_:
            raise ConfigError("--from exports a tune project's best trial; drop --preset, "
                              "--config and --set")
        given = ctx.get_parameter_source("dataset").name != "DEFAULT"
        if not given and any(ctx.get_parameter_source(p).name != "DEFAULT"
                             for p in ("target", "test", "test_size", "scale", "one_hot")):
            raise ConfigError("--target, --test, --test-size, --scale and --one-hot go with "
                              "--dataset; without it the project's own data and table "
                              "settings are used")
        data = load_data(dataset, data_dir, table=table) if given else None
        done = export_project(from_dir, out, data, data_dir=data_dir, overwrite=overwrite,
                              skip_damaged=skip_damaged, seed=seed, quiet=quiet,
                              epochs=epochs, ensemble=ensemble)
        for line in done.warnings:
            typer.echo(f"warning: {line}", err=True)
    else:
        cfg = _single_config(preset, config, set_)
        cfg = cfg if epochs is None else cfg.replace(epochs=epochs)
        out = out or Path("export")
        from hpsearch.api.exporting import check_output_dir

        check_output_dir(out, overwrite)  # fail before loading data, not after
        done = refit_and_export(cfg, load_data(dataset, data_dir, table=table), out,
                                seed or 0, overwrite, quiet, ensemble=ensemble)
    return done


# registered on the app, in this order, by hpsearch.cli._register
COMMANDS = (train, cv, export)
