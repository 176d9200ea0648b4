"""`hpsearch study NAME`: the lab's experiments with repeats, paired verdicts and a report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hpsearch.cli import app
from hpsearch.cli.options import DataDir, Json, Quiet, Seed, emit, load_data
from hpsearch.errors import ConfigError
from hpsearch.studies.plan import ALL, STUDIES, STUDY_NAMES, StudyPlan, build_plan

console = Console()
QUICK = {"dataset": "fashion-mnist-sample", "epochs": 3, "repeats": 3, "folds": 3}
DEFAULT_REPEATS = {"architectures": 1}  # k-fold gives the pairs; others default to 5
QUICK_REPEATS = {"architectures": 2}  # others: QUICK["repeats"]
ALL_ORDER = ("architectures", "batch-size", "optimizer", "kernel-regularization",
             "activity-regularization", "dropout")


@dataclass(frozen=True)
class Job:
    """One study to run: its plan, seeds and directory."""

    plan: StudyPlan
    seeds: tuple[int, ...]
    folds: int
    out: Path


def _jobs(name: str, base: str | None, values: str | None, rate: float | None,
          repeats: int | None, epochs: int | None, folds: int, seed: int, out: Path,
          quick: bool) -> list[Job]:
    from hpsearch.studies.runner import seeds_for

    if name == ALL:
        for flag, given in (("--base", base), ("--values", values), ("--rate", rate)):
            if given is not None:
                raise ConfigError(f"{flag} applies to a single study; `study all` uses the "
                                  "lab's settings (run a study on its own to change them)")
    if repeats is not None and repeats < 1:
        raise ConfigError(f"--repeats must be at least 1, got {repeats}")
    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    if epochs is None and quick:
        epochs = QUICK["epochs"]
    names = ALL_ORDER if name == ALL else (name,)
    jobs = []
    for study_name in names:
        plan = build_plan(study_name, base, values, rate, epochs)
        n = repeats or (QUICK_REPEATS.get(study_name, QUICK["repeats"]) if quick
                        else DEFAULT_REPEATS.get(study_name, 5))
        jobs.append(Job(plan, seeds_for(seed, n), folds,
                        out / study_name if name == ALL else out))
    return jobs


def _sizes(dataset: str, data_dir: Path | None) -> tuple[int, int]:
    from hpsearch.studies.budget import KNOWN_SIZES

    if dataset in KNOWN_SIZES:
        return KNOWN_SIZES[dataset]
    data = load_data(dataset, data_dir)
    return len(data.y_train), len(data.y_test)


def _dry_run(jobs: list[Job], dataset: str, data_dir: Path | None, json_out: bool) -> None:
    from hpsearch.studies.budget import budget, fmt_duration
    from hpsearch.studies.runner import VALIDATION_FRACTION, pending_runs

    n_train, _ = _sizes(dataset, data_dir)
    budgets = [budget(j.plan, len(j.seeds), j.folds, n_train, VALIDATION_FRACTION)
               for j in jobs]
    total = sum(b.seconds for b in budgets)
    done = {j.plan.study.name: len(j.plan.variants) * len(j.seeds)
            - len(pending_runs(j.plan, _settings(j), j.out)) for j in jobs}
    payload = {"dataset": dataset, "n_train": n_train, "estimated_seconds": total,
               "studies": [b.to_dict() | {"runs_already_done": done[b.study]}
                           for b in budgets]}

    def render() -> None:
        table = Table(title=f"Budget on {dataset} ({n_train} training images)")
        for column in ("study", "variants", "seeds", "folds", "fits", "epochs", "estimate"):
            table.add_column(column)
        for b in budgets:
            table.add_row(b.study, str(b.variants), str(b.seeds), str(b.folds or "-"),
                          str(b.fits), str(b.epochs), fmt_duration(b.seconds))
        console.print(table)
        console.print(f"total: {sum(b.fits for b in budgets)} fits, "
                      f"{sum(b.epochs for b in budgets)} epochs, roughly {fmt_duration(total)} "
                      "on a small 2-core CPU (a rough model; the progress bar's ETA is measured)")

    emit(payload, json_out, render)


def _settings(job: Job) -> Any:
    from hpsearch.studies.runner import RunSettings

    return RunSettings(job.seeds, job.folds)


def _run_job(job: Job, data: Any, bar: Any, resume: bool, overwrite: bool) -> dict[str, Any]:
    from hpsearch.reports.study_summary import write_report
    from hpsearch.studies.runner import run_study, select_and_export

    epochs = job.plan.base.epochs

    def finished(record: dict[str, Any]) -> None:  # early stopping / NaN: skip unused epochs
        unused = sum(epochs - f["epochs_run"] for f in record["folds"])
        if record["status"] != "ok":
            unused = epochs * (job.folds if job.plan.study.is_kfold else 1)
        bar.advance(max(unused, 0))

    records = run_study(job.plan, data, job.out, _settings(job), resume=resume,
                        overwrite=overwrite, hook_for=bar.epoch_hook, on_run=finished)
    if job.plan.study.is_kfold:
        bar.describe("architectures: refit of the winner on all training data")
        select_and_export(job.plan, data, job.out, records, job.seeds[0],
                          bar.epoch_hook("architectures: refit"))
    return write_report(job.out)


def _pending_epochs(jobs: list[Job]) -> int:
    from hpsearch.studies.runner import pending_runs

    total = 0
    for job in jobs:
        per_run = job.folds if job.plan.study.is_kfold else 1
        total += sum(v.config.epochs * per_run
                     for v, _ in pending_runs(job.plan, _settings(job), job.out))
        if job.plan.study.is_kfold and not (job.out / "export" / "model_card.json").is_file():
            total += job.plan.base.epochs
    return total


def _print_digest(digest: dict[str, Any]) -> None:
    kfold = digest["study"] == "architectures"
    split = "val" if kfold else "test"
    table = Table(title=f"study {digest['study']} -> {digest['out']}")
    for column in ("variant", "train acc", f"{'CV' if kfold else 'test'} acc",
                   f"{'CV' if kfold else 'test'} loss", "time (s)", "n"):
        table.add_column(column)
    for row in digest["summary"]:
        def pm(metric: str, digits: int = 3, row: dict[str, Any] = row) -> str:
            if row.get(f"{metric}_mean") is None:
                return "-"
            return f"{row[f'{metric}_mean']:.{digits}f} ± {row[f'{metric}_std']:.{digits}f}"
        name = f"{row['variant']} (base)" if row["is_base"] else row["variant"]
        table.add_row(name, pm("train_accuracy"), pm(f"{split}_accuracy"), pm(f"{split}_loss"),
                      pm("steady_time_s", 2), str(row["n"]))
    console.print(table)
    console.print(digest["verdict"]["accuracy"]["text"])


@app.command()
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
        "--dataset", "-d", help="fashion-mnist (default), fashion-mnist-sample (shipped) or "
                                "an .npz path.", show_default=False)] = None,
    data_dir: DataDir = None,
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
    from hpsearch.progress import tracker

    if name != ALL and name not in STUDIES:
        raise ConfigError(f"unknown study {name!r}; choose one of {', '.join(STUDY_NAMES)}")
    dataset = dataset or (QUICK["dataset"] if quick else "fashion-mnist")
    folds = folds if folds is not None else (QUICK["folds"] if quick else 5)
    out = out or (Path("lab-report") if name == ALL else Path("studies") / name)
    jobs = _jobs(name, base, values, rate, repeats, epochs, folds, seed, out, quick)
    if dry_run:
        _dry_run(jobs, dataset, data_dir, json_out)
        return
    kfold = [job.folds for job in jobs if job.plan.study.is_kfold]
    data = load_data(dataset, data_dir, max(kfold) if kfold else None)
    from hpsearch.locks import project_lock

    _check_dirs(name, jobs, out, data, resume, overwrite)
    with project_lock(out, "study") as notes:  # a second live process is refused
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        digests = []
        with tracker(_pending_epochs(jobs), f"study {name}", quiet or json_out) as bar:
            for job in jobs:
                digests.append(_run_job(job, data, bar, resume or name == ALL, overwrite
                                        and name != ALL))
        if name == ALL:
            from hpsearch.reports.lab import write_lab_report

            write_lab_report(out, [job.out for job in jobs])
    payload = {"study": name, "out": str(out), "studies": digests}

    def render() -> None:
        for digest in digests:
            _print_digest(digest)
        report = out / ("report.md" if name == ALL else "summary.md")
        console.print(f"wrote {report} (tables: results.csv, summary.csv; figures: *.png)")

    emit(payload, json_out, render)


def _check_dirs(name: str, jobs: list[Job], out: Path, data: Any, resume: bool,
                overwrite: bool) -> None:
    """Refuse before any training, not after the first study of `all` has run."""
    from hpsearch.studies.runner import RunSettings, study_meta
    from hpsearch.studies.store import check_dir, prepare_dir

    if name != ALL:
        check_dir(out, study_meta(jobs[0].plan, RunSettings(jobs[0].seeds, jobs[0].folds),
                                  data), resume, overwrite)
        return
    meta = {"study": ALL, "studies": [j.plan.study.name for j in jobs],
            "dataset": {"name": data.name, "sha256": data.checksum()}}
    check_dir(out, meta, resume, overwrite)
    if not overwrite:
        for job in jobs:
            check_dir(job.out, study_meta(job.plan, _settings(job), data), True, False)
    prepare_dir(out, meta, resume, overwrite)
