"""One `tune` run from start to finish: settings (stored ones reused on resume), the project
directory, the lock, the search (in process or with workers) and the results table.

Errors name settings in library terms (`max_trials`, in backticks); the CLI shows each as its
flag (--max-trials).

`hpsearch tune` and `hpsearch.tune` both call `run_tune`; the CLI only parses flags and prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch.data import Dataset
from hpsearch.errors import ConfigError
from hpsearch.progress import fmt_duration
from hpsearch.search.spec import TuneSpec, Value, parse_duration

if TYPE_CHECKING:
    from hpsearch.search.project import Project
    from hpsearch.search.space import Space
    from hpsearch.search.view import ProjectView

__all__ = ["TuneRun", "TuneSpec", "parse_duration", "resolve", "run_tune"]

def resolve(directory: Path | Project, given: Mapping[str, Value], resume: bool,
            overwrite: bool = False) -> TuneSpec:
    """The settings in force: `given` over the defaults, or, on resume, over the stored ones.

    Args:
        directory: the project directory, or the command's one `Project` of it (whose
            project.json is then read once for the whole command).
        given: the settings the caller gave (None: not given), by `TuneSpec` field name.
        resume: continue the stored search (`TuneSpec.resume` compares, in one place).
        overwrite: start again over an existing project.

    Raises:
        ConfigError: an invalid setting. ProjectError: a conflicting setting on resume (or
            nothing to resume).
    """
    given = TuneSpec.given(given)
    if not resume:
        return TuneSpec(**given)  # type: ignore[arg-type]
    from hpsearch.locks import LOCK_FILE
    from hpsearch.search.project import Project

    project = directory if isinstance(directory, Project) else Project(directory)
    used = project.dir.is_dir() and any(p.name != LOCK_FILE for p in project.dir.iterdir())
    if overwrite or not used:
        project.check(resume, overwrite)  # "not both" / "nothing to resume"
    meta = project.read_meta(use_copy=True)
    return TuneSpec.from_meta(meta).resume(given, meta.get("fingerprint"), project.dir)


def project_meta(spec: TuneSpec, space: Space) -> dict[str, object]:
    """What project.json records: the space (its fingerprint is the identity a resume must
    match) and the settings, once."""
    return {"fingerprint": space.fingerprint(), "space": space.to_dict(),
            "spec": spec.to_dict()}


@dataclass
class TuneRun:
    """What `run_tune` leaves: the project, its view (ranked trials) and how it ended."""

    project: Any
    view: ProjectView
    stopped_on_time: bool = False
    notes: list[str] | None = None


def run_tune(directory: Path | Project, options: TuneSpec, data: Dataset, *,
             resume: bool = False,
             overwrite: bool = False, workers: int = 0, bind: str = "127.0.0.1", port: int = 0,
             tensorboard: Path | None = None, quiet: bool = False,
             note: Callable[[str], None] | None = None) -> TuneRun:
    """Open (create, resume or overwrite) the project, run the search, write the table.

    `directory` may be the command's one `Project` of it, so project.json is read once.

    Raises:
        ProjectError: the directory cannot be used as asked (refused before any training).
        ProjectLocked: another live process holds it. TrialFailed: too many failures.
        KeyboardInterrupt: after the finished trials' table is written.
    """
    from hpsearch.locks import project_lock
    from hpsearch.search.project import Project

    if tensorboard and workers:
        raise ConfigError("`tensorboard` logs from this process only; drop `workers` or "
                          "`tensorboard`")
    if options.time_budget and workers:
        raise ConfigError("`time_budget` is kept by the process that runs the trials; drop "
                          "`workers` or `time_budget`")
    project = directory if isinstance(directory, Project) else Project(directory)
    space = search_space(project, options, resume)
    meta = project_meta(options, space)
    project.check(resume, overwrite)  # refuse early, before loading any data
    data.check_folds(options.folds)
    say = note or (lambda line: None)
    stopped = False
    with project_lock(project.dir) as lock_notes:  # a second live process is refused
        for line in lock_notes:
            say(f"note: {line}")
        meta = project.open(meta, resume, overwrite)
        if meta.pop("stopped", None):  # a resumed search gets a new budget
            project.write_meta(meta)
        for line in project.notes:  # what --resume repaired from the other copy
            say(f"resume: {line}")
        done = grid_done(space, options, project) if resume else None
        if done:
            say(f"resume: {done}")
        elif workers:
            from hpsearch.search.distributed import run_distributed

            run_distributed(space, options, project, workers, bind, port, quiet)
        else:
            deadline = time.time() + options.time_budget if options.time_budget else None
            stopped = run_local(space, options, project, data, quiet, tensorboard, deadline)
        if stopped:
            meta = meta | {"stopped": stop_note(options, project)}
            project.write_meta(meta)
        view = project.write_results(options.folds, meta)
    return TuneRun(project, view, stopped, list(project.notes))


def grid_done(space: Space, spec: TuneSpec, project: Any) -> str | None:
    """Why a resumed grid search has nothing left to run (None: it has, or it is no grid)."""
    if spec.tuner != "grid" or any(not r.final for r in project.records()):
        return None
    from hpsearch.search.oracles.grid import grid_progress

    finished = [r.params for r in project.records()]
    covered, size = grid_progress(space.declare(), finished)
    if covered >= size:
        return (f"the grid's {size} points are all done ({len(finished)} trials in "
                f"{project.dir}); nothing left to run")
    if len(finished) >= spec.max_trials:
        return (f"all {len(finished)} trials of --max-trials {spec.max_trials} are done and "
                f"the grid has {size - covered} more of its {size} points; raise --max-trials "
                "to run them")
    return None


def search_space(project: Any, spec: TuneSpec, resume: bool) -> Space:
    """The space: built from `spec`, or on resume the stored one, so a resumed search is the
    same search (even when its space file has moved since)."""
    if not resume or not project.meta_path.is_file():
        return spec.space()
    from hpsearch.search.space import Space

    return Space.from_dict(project.read_meta(use_copy=True)["space"])


def run_local(space: Space, settings: TuneSpec, project: Any, data: Dataset, quiet: bool,
              tensorboard: Path | None = None, deadline: float | None = None) -> bool:
    """The search in this process, with a progress bar counting trial-epochs (all folds train
    together). Returns True when it stopped on time."""
    from hpsearch.progress import tracker
    from hpsearch.search.tuner import Hooks, build_tuner, run_search

    done = [r for r in project.records() if r.final]
    epochs = space.longest_trial()
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

        tuner = build_tuner(space, settings, project,
                            Hooks(trial_begin, epoch, trial_end, tensorboard))
        try:
            return run_search(tuner, data, deadline)
        finally:
            project.write_results(settings.folds)


def stop_note(options: TuneSpec, project: Any) -> str:
    done = sum(r.final for r in project.records())
    return (f"stopped on time: the {fmt_duration(options.time_budget or 0)} budget had no "
            f"room for another trial after {done} of {options.max_trials}")
