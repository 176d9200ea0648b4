"""`hpsearch tune` and `hpsearch worker`: parse the flags, call the public API (`hpsearch.tune`,
`hpsearch.tune_settings`), print."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hpsearch.api.tuning import TuneSpec
from hpsearch.cli.interrupt import resume_line
from hpsearch.cli.options import (
    DataDir,
    Dataset,
    Json,
    OneHot,
    Quiet,
    Scale,
    Seed,
    Target,
    TestSize,
    TestTable,
    data_warnings_as_lines,
    emit,
    fmt,
    load_data,
    table_options,
)
from hpsearch.errors import ConfigError
from hpsearch.stats import SD_LABEL, top_k_note

if TYPE_CHECKING:
    from hpsearch.api.tuning import Search

console = Console()
DEFAULTS = TuneSpec()  # the one place a tune setting's default is stated
DEFAULT_DIR = Path("tune-project")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def tune(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option(
        "--directory", "-o", help="Project directory for results (created; never reused "
        "silently).")] = DEFAULT_DIR,
    tuner: Annotated[str, typer.Option(help="random | bayesian | tpe (Optuna's TPE; needs "
                                            "optuna) | hyperband | grid.")]
    = DEFAULTS.tuner,
    max_trials: Annotated[int, typer.Option(help="How many configs to try.")]
    = DEFAULTS.max_trials,
    folds: Annotated[int, typer.Option("--folds", "-k", help="Stratified CV folds per trial.")]
    = DEFAULTS.folds,
    epochs: Annotated[int, typer.Option(help="Max epochs per fold (Hyperband: per trial); "
                                             "the cosine schedule anneals over them.")]
    = DEFAULTS.epochs,
    patience: Annotated[int, typer.Option(help="Early stopping patience on validation loss "
                                                "(0 = off: the cosine schedule sets the "
                                                "length).")] = DEFAULTS.patience,
    space_file: Annotated[Path | None, typer.Option(
        "--space", help="TOML file that replaces or narrows knobs of the default space "
        "(format: docs/TUNE.md).")] = None,
    fix: Annotated[list[str] | None, typer.Option(
        "--fix", help="Pin a knob or config field: --fix optimizer=adam --fix hidden=256,128.")]
    = None,
    prune: Annotated[bool, typer.Option(help="Stop a trial early by the median rule: after "
                                             "a warm-up, a trial below the median of finished "
                                             "trials at the same epoch stops.")]
    = DEFAULTS.prune,
    pruner: Annotated[str, typer.Option(
        help="The pruning rule: median (a trial below the median of finished trials at the "
             "same epoch stops) or asha (successive halving: only the top third of the "
             "trials that reached epoch 1, 3, 9, ... goes on).")] = DEFAULTS.pruner,
    prune_peers: Annotated[str, typer.Option(
        help="The median rule's peers: finished trials (Optuna's MedianPruner) or all "
             "trials that reached the epoch, pruned ones included.")] = DEFAULTS.prune_peers,
    resume: Annotated[bool, typer.Option(help="Continue the search in --directory.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Delete the search in --directory and start "
                                                 "again.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Print the budget and a time estimate from a "
                                               "short calibration; train nothing else.")]
    = False,
    workers: Annotated[int, typer.Option(help="Run N worker processes on this machine "
                                              "(Keras Tuner chief + workers; 0 = in process).")]
    = 0,
    bind: Annotated[str, typer.Option(help="Address the oracle listens on (with --workers); "
                                           "loopback unless you ask; another address warns, as "
                                           "the oracle has no authentication.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Oracle port (0 = pick a free one).")] = 0,
    max_failures: Annotated[int, typer.Option(help="Stop after this many failed trials in a "
                                                   "row.")] = DEFAULTS.max_failures,
    tensorboard: Annotated[Path | None, typer.Option(
        help="Log every fold with the HParams plugin to DIR (view: tensorboard --logdir DIR).")]
    = None,
    time_budget: Annotated[str | None, typer.Option(
        help="Start no trial that would end after this much time (20m, 1h30m, 90s), like "
             "Optuna's timeout; the trial table says it stopped on time.")] = None,
    dataset: Dataset = DEFAULTS.dataset,
    data_dir: DataDir = None,
    target: Target = None,
    test: TestTable = None,
    test_size: TestSize = None,
    scale: Scale = "standard",
    one_hot: OneHot = None,
    seed: Seed = DEFAULTS.seed,
    quiet: Quiet = False,
    json_out: Json = False,
) -> None:
    """Search the space with Keras Tuner, scoring every trial by k-fold CV on training data.

    With --resume only --directory is needed: the stored settings are reused (--max-trials may
    grow; a different value of another flag is refused, showing both).

    Example: hpsearch tune --max-trials 30 --directory runs/t1 --dataset fashion-mnist-sample

    Example: hpsearch tune --directory runs/t1 --resume --max-trials 50
    """
    from hpsearch.api.tuning import tune as tune_search

    values = {"tuner": tuner, "max_trials": max_trials, "folds": folds, "epochs": epochs,
              "patience": patience, "space_file": str(space_file) if space_file else None,
              "fix": tuple(fix) if fix else None, "prune": prune, "pruner": pruner,
              "prune_peers": prune_peers, "seed": seed, "max_failures": max_failures,
              "dataset": dataset,
              "data_dir": str(data_dir) if data_dir else None, "time_budget": time_budget,
              "data_options": table_options(target, test, test_size, scale, one_hot)}
    names = {"space_file": "space_file", "data_dir": "data_dir"}
    given = {k: (v if not resume or _given(ctx, names.get(k, k)) else None)
             for k, v in values.items()}
    if resume:  # only the table flags typed now are compared with the stored ones
        typed = {k: v for k, v in values["data_options"].items() if _given(ctx, k)}
        given["data_options"] = typed or None
    if dry_run:
        _dry_run(directory, resume, overwrite, given, json_out)
        return
    with data_warnings_as_lines(), resume_line(
            f"interrupted: the finished trials are saved in {directory}; continue with "
            f"hpsearch tune --directory {shlex.quote(str(directory))} --resume"):
        search = tune_search(
            directory, given["dataset"], given["max_trials"], given["folds"], given["epochs"],
            given["tuner"], given["space_file"], given["fix"] and list(given["fix"]), resume,
            overwrite, given["time_budget"], given["patience"], given["prune"], given["seed"],
            given["max_failures"], workers, tensorboard, quiet or json_out,
            data_dir=given["data_dir"], data_options=given["data_options"], bind=bind,
            port=port, on_note=lambda line: typer.echo(line, err=True),
            pruner=given["pruner"], prune_peers=given["prune_peers"])
    with resume_line(f"interrupted while printing: the search's trials and tables are saved in "
                     f"{directory}; `hpsearch report {shlex.quote(str(directory))}` shows them"):
        _report(search, json_out)


def _given(ctx: typer.Context, name: str) -> bool:
    """Was this option typed (or set by its environment variable), not left at its default?"""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _report(search: Search, json_out: bool) -> None:
    view, directory = search.view, search.directory
    meta, rows = view.meta, view.rows
    ranked, counts = view.ranked(), view.counts()
    command = search.export_command()
    note = top_k_note(ranked[:5])  # Nadeau-Bengio corrected t by fold, Holm over the top 5
    payload = {"directory": str(directory), "counts": counts, "top": ranked[:5],
               "noise": note, "stopped": meta.get("stopped"), "export_command": command}

    def render() -> None:
        table = Table(title=f"top {min(5, len(ranked))} of {len(rows)} trials in {directory}",
                      caption=meta.get("stopped"))
        for column in ("rank", "trial", f"val accuracy ({SD_LABEL})", "folds", "status",
                       "config"):
            table.add_column(column)
        for row in ranked[:5]:
            table.add_row(str(row["rank_val_accuracy"]), row["trial_id"],
                          f"{fmt(row['mean_val_accuracy'])} ± {fmt(row['std_val_accuracy'])}",
                          str(row["n_folds_done"]), row["status"], row["describe"])
        console.print(table)
        if note:
            console.print(note)
        console.print(", ".join(f"{n} {s}" for s, n in counts.items() if n))
        for row in rows:
            if row["status"] == "failed":
                console.print(f"trial {row['trial_id']} failed: {row['reason']}")
        if counts["ok"]:
            typer.echo(f"export the best: {command}")  # one line, never wrapped

    emit(payload, json_out, render)


def _dry_run(directory: Path, resume: bool, overwrite: bool, given: dict[str, Any],
             json_out: bool) -> None:
    from hpsearch.api.tune_jobs import tune_budget

    def load(spec: TuneSpec) -> Any:
        return load_data(spec.dataset, Path(spec.data_dir) if spec.data_dir else None,
                         table=spec.data_options)

    estimate = tune_budget(directory, resume=resume, overwrite=overwrite, load=load, **given)
    emit(estimate, json_out, lambda: console.print(estimate["summary"]))


def worker(
    oracle: Annotated[str, typer.Option(help="HOST:PORT of the chief's oracle.")],
    directory: Annotated[Path, typer.Option(
        "--directory", "-o", help="The chief's project directory (shared file system).")],
    worker_id: Annotated[str | None, typer.Option(
        "--id", help="Unique worker name (default: host-pid).")] = None,
    threads: Annotated[int, typer.Option(help="CPU threads for TensorFlow (0 = all).")] = 0,
    oracle_timeout: Annotated[float, typer.Option(
        help="Stop (exit 1, one line) once the chief's oracle has not answered for this many "
             "seconds; the unfinished trial stays for `tune --resume`.")] = 60.0,
    quiet: Quiet = True,
) -> None:
    """Join a running search as a worker (Keras Tuner's gRPC protocol).

    The worker writes nothing once its chief is gone; Ctrl-C or SIGTERM stops it with a line
    saying how to rejoin (its unfinished trial waits for a worker with the same --id).

    Example: hpsearch worker --oracle 10.0.0.5:8000 --directory /shared/runs/t1
    """
    import os
    import socket

    from hpsearch.api.tune_jobs import join_search

    _check(oracle_timeout > 0, f"--oracle-timeout must be positive, got {oracle_timeout}")
    worker_id = worker_id or f"worker-{socket.gethostname()}-{os.getpid()}"
    rejoin = shlex.join(["hpsearch", "worker", "--oracle", oracle, "--directory",
                         str(directory), "--id", worker_id])
    with resume_line(f"interrupted: worker {worker_id} stopped, its finished trials are saved "
                     f"in {directory}; its unfinished trial waits for it: rejoin with {rejoin}"):
        join_search(oracle, directory, worker_id, threads, oracle_timeout)


# registered on the app, in this order, by hpsearch.cli._register
COMMANDS = (tune, worker)
