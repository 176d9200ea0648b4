"""`hpsearch tune` and `hpsearch worker`: parse, call `hpsearch.search.tuner`, print."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hpsearch.cli import app
from hpsearch.cli.options import DataDir, Dataset, Json, Quiet, Seed, emit, fmt, load_data
from hpsearch.config import ModelConfig
from hpsearch.errors import ConfigError
from hpsearch.stats import top_k_note

console = Console()
DEFAULT_DIR = Path("tune-project")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


@app.command()
def tune(
    directory: Annotated[Path, typer.Option(
        "--directory", "-o", help="Project directory for results (created; never reused "
        "silently).")] = DEFAULT_DIR,
    tuner: Annotated[str, typer.Option(help="random | bayesian | hyperband | grid.")]
    = "bayesian",
    max_trials: Annotated[int, typer.Option(help="How many configs to try.")] = 30,
    folds: Annotated[int, typer.Option("--folds", "-k", help="Stratified CV folds per trial.")]
    = 2,
    epochs: Annotated[int, typer.Option(help="Max epochs per fold (Hyperband: per trial); "
                                             "the cosine schedule anneals over them.")]
    = 15,
    patience: Annotated[int, typer.Option(help="Early stopping patience on validation loss "
                                                "(0 = off: the cosine schedule sets the "
                                                "length).")] = 0,
    space_file: Annotated[Path | None, typer.Option(
        "--space", help="TOML file that replaces or narrows knobs of the default space "
        "(format: docs/TUNE.md).")] = None,
    fix: Annotated[list[str] | None, typer.Option(
        "--fix", help="Pin a knob or config field: --fix optimizer=adam --fix hidden=256,128.")]
    = None,
    prune: Annotated[bool, typer.Option(help="Stop a trial after a fold when it cannot "
                                             "plausibly beat the best.")] = True,
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
                                           "loopback unless you ask.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Oracle port (0 = pick a free one).")] = 0,
    max_failures: Annotated[int, typer.Option(help="Stop after this many failed trials in a "
                                                   "row.")] = 5,
    tensorboard: Annotated[Path | None, typer.Option(
        help="Log every fold with the HParams plugin to DIR (view: tensorboard --logdir DIR).")]
    = None,
    dataset: Dataset = "fashion-mnist",
    data_dir: DataDir = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    json_out: Json = False,
) -> None:
    """Search the space with Keras Tuner, scoring every trial by k-fold CV on training data.

    Example: hpsearch tune --max-trials 30 --directory runs/t1 --dataset fashion-mnist-sample
    """
    from hpsearch.locks import project_lock
    from hpsearch.search.project import Project
    from hpsearch.search.space import build_space
    from hpsearch.search.tuner import TUNERS, TuneSettings

    _check(tuner in TUNERS, f"--tuner {tuner!r} is unknown; choose one of {', '.join(TUNERS)}")
    _check(max_trials >= 1, f"--max-trials must be at least 1, got {max_trials}")
    _check(folds >= 2, f"--folds must be at least 2 for k-fold CV, got {folds}")
    _check(workers >= 0, f"--workers must be 0 or more, got {workers}")
    _check(max_failures >= 1, f"--max-failures must be at least 1, got {max_failures}")
    _check(0 <= port < 65536, f"--port must be in 0..65535, got {port}")
    _check(not (tensorboard and workers), "--tensorboard logs from this process only; drop "
           "--workers or --tensorboard")
    space = build_space(space_file, fix, ModelConfig(epochs=epochs, patience=patience))
    settings = TuneSettings(tuner=tuner, max_trials=max_trials, folds=folds, seed=seed,
                            prune=prune, max_failures=max_failures)
    meta = {"fingerprint": space.fingerprint(), "tuner": tuner, "folds": folds,
            "dataset": dataset, "data_dir": str(data_dir) if data_dir else None, "seed": seed,
            "prune": prune, "max_trials": max_trials, "space": space.to_dict(),
            "settings": settings.__dict__}
    if dry_run:
        _dry_run(space, settings, dataset, data_dir, json_out)
        return
    project = Project(directory)
    project.check(meta, resume, overwrite)  # refuse early, before loading any data
    data = load_data(dataset, data_dir, folds)
    with project_lock(directory) as notes:  # a second live process is refused
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        meta = project.open(meta, resume, overwrite)
        for note in project.notes:  # what --resume repaired from the other copy
            typer.echo(f"resume: {note}", err=True)
        if workers:
            from hpsearch.search.distributed import run_distributed

            run_distributed(space, settings, project, workers, bind, port, quiet or json_out)
        else:
            _run_local(space, settings, project, data, quiet or json_out, tensorboard)
        rows = project.write_results(folds, meta)
        _report(project, rows, dataset, data_dir, json_out)


def _run_local(space: Any, settings: Any, project: Any, data: Any, quiet: bool,
               tensorboard: Path | None = None) -> None:
    from hpsearch.progress import tracker
    from hpsearch.search.tuner import Hooks, build_tuner, run_search

    done = [r for r in project.records() if r.final]
    epochs = space.base.epochs  # the bar counts trial-epochs: all folds train together
    with tracker(settings.max_trials * epochs, "tuning", quiet) as bar:
        state = {"best": max((r.mean for r in done if r.status == "ok"), default=None),
                 "trial": "", "epochs": {}}
        bar.advance(min(len(done), settings.max_trials) * epochs)

        def label() -> str:
            best = "-" if state["best"] is None else f"{state['best']:.4f}"
            return f"trial {state['trial']} best {best}"

        def trial_begin(trial_id: str, cfg: Any) -> None:
            state["trial"], state["epochs"][trial_id] = trial_id, 0
            bar.describe(label())

        def epoch(fold: int, epoch_no: int, logs: dict[str, float]) -> None:
            if fold != 0:
                return
            acc = logs.get("val_accuracy")
            state["epochs"][state["trial"]] = epoch_no
            bar.advance(1, f"{label()} | epoch {epoch_no}"
                        + (f" fold-1 acc {acc:.3f}" if acc is not None else ""))

        def trial_end(record: Any) -> None:
            if record.status == "ok" and (state["best"] is None or record.mean > state["best"]):
                state["best"] = record.mean
            bar.advance(max(0, epochs - state["epochs"].get(record.trial_id, 0)), label())

        hooks = Hooks(trial_begin, epoch, trial_end, tensorboard)
        tuner = build_tuner(space, settings, project, hooks)
        try:
            run_search(tuner, data)
        except KeyboardInterrupt:
            rows = project.write_results(settings.folds)
            saved = sum(r["status"] != "running" for r in rows)
            typer.echo(f"interrupted: {saved} finished trial(s) are saved in {project.dir}; "
                       "continue with the same command plus --resume", err=True)
            raise
        finally:
            project.write_results(settings.folds)


def export_command(directory: Path, dataset: str, data_dir: Path | None) -> str:
    parts = ["hpsearch", "export", "--from", str(directory), "--out",
             str(directory / "export")]
    if dataset != "fashion-mnist":
        parts += ["--dataset", dataset]
    if data_dir:
        parts += ["--data-dir", str(data_dir)]
    return shlex.join(parts)


def _report(project: Any, rows: list[dict], dataset: str, data_dir: Path | None,
            json_out: bool) -> None:
    ranked = sorted((r for r in rows if r["rank_val_accuracy"]),
                    key=lambda r: r["rank_val_accuracy"])
    counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "pruned", "failed",
                                                                "running")}
    command = export_command(project.dir, dataset, data_dir)
    note = top_k_note(ranked[:5])  # Nadeau-Bengio corrected t by fold, Holm over the top 5
    payload = {"directory": str(project.dir), "counts": counts, "top": ranked[:5],
               "noise": note, "export_command": command}

    def render() -> None:
        table = Table(title=f"top {min(5, len(ranked))} of {len(rows)} trials in {project.dir}")
        for column in ("rank", "trial", "val accuracy (mean ± std)", "folds", "status",
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


def _dry_run(space: Any, settings: Any, dataset: str, data_dir: Path | None,
             json_out: bool) -> None:
    from hpsearch.search.budget import calibrate

    data = load_data(dataset, data_dir)
    estimate = calibrate(space, settings, data)
    emit(estimate, json_out, lambda: console.print(estimate["summary"]))


@app.command()
def worker(
    oracle: Annotated[str, typer.Option(help="HOST:PORT of the chief's oracle.")],
    directory: Annotated[Path, typer.Option(
        "--directory", "-o", help="The chief's project directory (shared file system).")],
    worker_id: Annotated[str | None, typer.Option(
        "--id", help="Unique worker name (default: host-pid).")] = None,
    threads: Annotated[int, typer.Option(help="CPU threads for TensorFlow (0 = all).")] = 0,
    quiet: Quiet = True,
) -> None:
    """Join a running search as a worker (Keras Tuner's gRPC protocol).

    Example: hpsearch worker --oracle 10.0.0.5:8000 --directory /shared/runs/t1
    """
    from hpsearch.search.distributed import run_worker

    run_worker(oracle, directory, worker_id, threads)
