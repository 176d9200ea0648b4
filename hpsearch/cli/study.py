"""`hpsearch study NAME`: the lab's experiments with repeats, paired verdicts and a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hpsearch.api.study_jobs import (
    ALL,
    QUICK,
    STUDY_NAMES,
    DryRun,
    default_out,
    max_folds,
    plan_jobs,
    run_jobs,
    study_budget,
)
from hpsearch.cli.interrupt import resume_line, same_command
from hpsearch.cli.options import (
    DATASET_HELP,
    DataDir,
    Json,
    OneHot,
    Quiet,
    Scale,
    Seed,
    Target,
    TestSize,
    TestTable,
    emit,
    load_data,
    table_options,
)

console = Console()


def _render_budget(plan: DryRun, json_out: bool) -> None:
    from hpsearch.progress import fmt_duration

    def render() -> None:
        table = Table(title=f"Budget on {plan.dataset} ({plan.n_train} training images)")
        for column in ("study", "variants", "seeds", "folds", "fits", "epochs", "estimate",
                       "of which timing"):
            table.add_column(column)
        for b in plan.budgets:
            table.add_row(b.study, str(b.variants), str(b.seeds), str(b.folds or "-"),
                          str(b.fits), str(b.epochs), fmt_duration(b.seconds),
                          fmt_duration(b.timing_seconds))
        console.print(table)
        console.print(f"total: {sum(b.fits for b in plan.budgets)} fits, "
                      f"{sum(b.epochs for b in plan.budgets)} epochs, roughly "
                      f"{fmt_duration(plan.seconds)} on a small 2-core CPU (a rough model; the "
                      "progress bar's ETA is measured); timing repeats (each variant "
                      f"{plan.timing_repeats}x interleaved, {plan.timed_epochs} epochs at "
                      f"k = 1) add {fmt_duration(sum(b.timing_seconds for b in plan.budgets))}")

    emit(plan.to_dict(), json_out, render)


def _print_digest(digest: dict[str, Any]) -> None:
    kfold = digest["study"] == "architectures"
    split = "val" if kfold else "test"
    table = Table(title=f"study {digest['study']} -> {digest['out']}")
    for column in ("variant", "train acc", f"{'CV' if kfold else 'test'} acc",
                   f"{'CV' if kfold else 'test'} loss", "s/epoch (timing)", "n"):
        table.add_column(column)
    for row in digest["summary"]:
        def pm(metric: str, digits: int = 3, row: dict[str, Any] = row) -> str:
            if row.get(f"{metric}_mean") is None:
                return "-"
            return f"{row[f'{metric}_mean']:.{digits}f} ± {row[f'{metric}_std']:.{digits}f}"
        name = f"{row['variant']} (base)" if row["is_base"] else row["variant"]
        table.add_row(name, pm("train_accuracy"), pm(f"{split}_accuracy"), pm(f"{split}_loss"),
                      pm("epoch_time_s", 3), str(row["n"]))
    console.print(table)
    console.print(digest["verdict"]["accuracy"]["text"])
    console.print(digest["verdict"]["time"]["text"])


def study(
    name: Annotated[str, typer.Argument(
        help=f"Which study: {', '.join(STUDY_NAMES)}.", show_default=False)],
    base: Annotated[str | None, typer.Option(
        help="Base preset or .toml/.json config (default: the lab's: model1 for batch-size "
             "and optimizer, model_d for regularization and dropout).")] = None,
    values: Annotated[str | None, typer.Option(
        help="Comma-separated values of the varied field, e.g. 32,128,512 or sgd,adam.")]
    = None,
    rate: Annotated[float | None, typer.Option(
        help="Regularization or dropout rate, the same for every variant (default 0.001; "
             "dropout 0.2).")] = None,
    repeats: Annotated[int | None, typer.Option(
        help="Seeds per variant, shared by all variants (paired). Default 5; 1 for "
             "architectures, whose folds give the pairs.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs for every variant (default: "
                                                    "the base's, 10).")] = None,
    folds: Annotated[int | None, typer.Option(
        "--folds", "-k", help="CV folds (architectures only; default 5, 3 with --quick).",
        show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", help=DATASET_HELP + " (default: fashion-mnist; the sample with "
                                "--quick)", show_default=False)] = None,
    data_dir: DataDir = None,
    target: Target = None,
    test: TestTable = None,
    test_size: TestSize = None,
    scale: Scale = "standard",
    one_hot: OneHot = None,
    seed: Seed = 0,
    out: Annotated[Path | None, typer.Option(
        help="Output directory (default studies/NAME; lab-report for all).")] = None,
    resume: Annotated[bool, typer.Option(
        help="Continue a study in --out, skipping finished runs.")] = False,
    overwrite: Annotated[bool, typer.Option(
        help="Delete an earlier study's files in --out and start again.")] = False,
    quick: Annotated[bool, typer.Option(
        help="A few-minute version: shipped sample, 3 epochs, 3 repeats (2 for "
             "architectures), 3 folds.")] = False,
    dry_run: Annotated[bool, typer.Option(
        help="Print the budget (fits, epochs, time estimate) and exit.")] = False,
    quiet: Quiet = False,
    json_out: Json = False,
) -> None:
    """Run one of the lab's experiments properly: one field varied, repeated over seeds, with a
    95% paired interval per variant and a winner named only outside the noise.

    Example: hpsearch study batch-size --values 32,128,512 --repeats 5 --out studies/batch

    Example: hpsearch study all --quick --out lab-report/
    """
    dataset = dataset or (QUICK["dataset"] if quick else "fashion-mnist")
    folds = folds if folds is not None else (QUICK["folds"] if quick else 5)
    out = out or default_out(name)
    table = table_options(target, test, test_size, scale, one_hot)
    jobs = plan_jobs(name, base, values, rate, repeats, epochs, folds, seed, out, quick)
    if dry_run:
        budget = study_budget(jobs, dataset, lambda: load_data(dataset, data_dir, table=table))
        _render_budget(budget, json_out)
        return
    data = load_data(dataset, data_dir, max_folds(jobs), table)
    # The digest is printed inside the block too: a stop while it prints gets the same line,
    # and --resume (with every run saved) prints it again.
    with resume_line(f"interrupted: the finished runs are saved in {out}; continue with "
                     f"{same_command('--resume', drop=('--overwrite',))}"):
        digests = run_jobs(name, jobs, out, data, resume=resume, overwrite=overwrite,
                           quiet=quiet or json_out, note=lambda line: typer.echo(line, err=True))
        payload = {"study": name, "out": str(out), "studies": digests}

        def render() -> None:
            for digest in digests:
                _print_digest(digest)
            report = out / ("report.md" if name == ALL else "summary.md")
            console.print(f"wrote {report} (tables: results.csv, summary.csv; figures: *.png)")

        emit(payload, json_out, render)


# registered on the app, in this order, by hpsearch.cli._register
COMMANDS = (study,)
