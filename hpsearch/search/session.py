"""One `tune` run from start to finish: settings (stored ones reused on resume), the project
directory, the lock, the search (in process or with workers) and the results table.

Errors name settings in library terms (`max_trials`, in backticks); the CLI shows each as its
flag (--max-trials).

`hpsearch tune` and `hpsearch.tune` both call `run_tune`; the CLI only parses flags and prints.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from hpsearch.config import ModelConfig
from hpsearch.data import Dataset
from hpsearch.errors import ConfigError, ProjectError
from hpsearch.fileio import atomic_write_json
from hpsearch.progress import fmt_duration

# Settings that may differ on --resume: more trials, a new failure limit or time budget.
RESUMABLE = ("max_trials", "max_failures", "time_budget")

@dataclass(frozen=True)
class TuneOptions:
    """What decides a search. Defaults are `hpsearch tune`'s; `time_budget` is in seconds."""

    tuner: str = "bayesian"
    max_trials: int = 30
    folds: int = 2
    epochs: int = 15
    patience: int = 0
    space_file: str | None = None
    fix: tuple[str, ...] = ()
    prune: bool = True
    seed: int = 0
    max_failures: int = 5
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    time_budget: float | None = None
    data_options: dict[str, Any] | None = None  # a table's target, test, scale, one_hot

    def check(self) -> None:
        """Refuse values no search can use, naming the flag (ConfigError)."""
        from hpsearch.search.oracles import ORACLES as TUNERS

        for ok, message in (
                (self.tuner in TUNERS, f"`tuner` {self.tuner!r} is unknown; choose one of "
                                       f"{', '.join(TUNERS)}"),
                (self.max_trials >= 1, f"`max_trials` must be at least 1, got {self.max_trials}"),
                (self.folds >= 2, f"`folds` must be at least 2 for k-fold CV, got {self.folds}"),
                (self.max_failures >= 1, "`max_failures` must be at least 1, got "
                                         f"{self.max_failures}"),
                (self.time_budget is None or self.time_budget > 0,
                 f"`time_budget` must be positive, got {self.time_budget}")):
            if not ok:
                raise ConfigError(message)

    def space(self) -> Any:
        from hpsearch.search.space import build_space

        return build_space(self.space_file, list(self.fix),
                           ModelConfig(epochs=self.epochs, patience=self.patience))

    def settings(self) -> Any:
        from hpsearch.search.tuner import TuneSettings

        return TuneSettings(tuner=self.tuner, max_trials=self.max_trials, folds=self.folds,
                            seed=self.seed, prune=self.prune, max_failures=self.max_failures)


def parse_duration(text: str | float | int | None) -> float | None:
    """`"20m"`, `"1h30m"`, `"90s"`, `"2h"` or a number of seconds -> seconds (None stays None).

    Example:
        >>> parse_duration("1h30m")
        5400.0
    """
    if text is None or isinstance(text, int | float):
        return None if text is None else float(text)
    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*"
                         r"(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or parts is None or not any(parts.groups()):
        raise ConfigError(f"`time_budget` {text!r}: write a duration like 20m, 1h30m or 90s")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def stored_options(meta: Mapping[str, Any]) -> TuneOptions:
    """The options a project was started with (older projects lack some: defaults then)."""
    known = {f.name for f in fields(TuneOptions)}
    stored = {k: v for k, v in (meta.get("options") or {}).items() if k in known}
    space = meta.get("space") or {}
    base = space.get("base") or {}
    derived = {"tuner": meta.get("tuner"), "folds": meta.get("folds"), "seed": meta.get("seed"),
               "prune": meta.get("prune"), "dataset": meta.get("dataset"),
               "data_dir": meta.get("data_dir"), "max_trials": meta.get("max_trials"),
               "epochs": base.get("epochs"), "patience": base.get("patience")}
    merged = {k: v for k, v in derived.items() if v is not None} | stored
    merged["fix"] = tuple(merged.get("fix") or ())
    return TuneOptions(**merged)


def resolve(directory: Path, given: Mapping[str, Any], resume: bool,
            overwrite: bool = False) -> TuneOptions:
    """The options in force: `given` over the defaults, or, on resume, over the stored ones.

    On resume an explicitly given option that differs from the stored one is refused in one
    line that shows both, except `RESUMABLE` ones (`max_trials` may grow).

    Raises:
        ProjectError: a conflicting option on resume (or nothing to resume).
    """
    given = {k: (tuple(v) if k == "fix" else v) for k, v in given.items() if v is not None}
    if not resume:
        return replace(TuneOptions(), **given)
    from hpsearch.locks import LOCK_FILE
    from hpsearch.search.project import Project

    project = Project(directory)
    used = project.dir.is_dir() and any(p.name != LOCK_FILE for p in project.dir.iterdir())
    if overwrite or not used:
        project.check({}, resume, overwrite)  # "not both" / "nothing to resume"
    meta = project.read_meta(use_copy=True)
    stored = stored_options(meta)
    conflicts = [k for k, v in given.items() if k not in RESUMABLE
                 and k not in ("space_file", "fix") and _stored(stored, k, v) != v]
    if "space_file" in given or "fix" in given:  # compare what they build, not the file names
        rebuilt = replace(stored, **{k: given[k] for k in ("space_file", "fix") if k in given})
        if rebuilt.space().fingerprint() != meta.get("fingerprint"):
            conflicts += [k for k in ("space_file", "fix") if k in given]
    if conflicts:
        what = "; ".join(f"`{k}` {_show(_stored(stored, k, given[k]))} -> {_show(given[k])}"
                         for k in conflicts)
        raise ProjectError(f"cannot resume {directory}: it was started with a different search "
                           f"({what}); `resume` reuses the stored settings, so drop the setting,"
                           " or use another `directory` or `overwrite`")
    return replace(stored, **{k: v for k, v in given.items() if k in RESUMABLE})


def _stored(stored: TuneOptions, key: str, given: Any) -> Any:
    """The stored value to compare with a given one; of a dict setting (`data_options`) only
    the keys given, so `--resume --scale none` names just the scale."""
    value = getattr(stored, key)
    if isinstance(given, dict):
        return {k: (value or {}).get(k) for k in given}
    return value


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return str(value)


def project_meta(options: TuneOptions, space: Any, settings: Any) -> dict[str, Any]:
    """What project.json records: the identity a resume must match, and every option."""
    options_dict = asdict(options) | {"fix": list(options.fix)}
    return {"fingerprint": space.fingerprint(), "tuner": options.tuner, "folds": options.folds,
            "dataset": options.dataset, "data_dir": options.data_dir, "seed": options.seed,
            "prune": options.prune, "max_trials": options.max_trials, "space": space.to_dict(),
            "settings": settings.__dict__, "options": options_dict}


@dataclass
class TuneRun:
    """What `run_tune` leaves: the project, its results rows and how the search ended."""

    project: Any
    rows: list[dict[str, Any]]
    stopped_on_time: bool = False
    notes: list[str] | None = None


def run_tune(directory: Path, options: TuneOptions, data: Dataset, *, resume: bool = False,
             overwrite: bool = False, workers: int = 0, bind: str = "127.0.0.1", port: int = 0,
             tensorboard: Path | None = None, quiet: bool = False,
             note: Callable[[str], None] | None = None) -> TuneRun:
    """Open (create, resume or overwrite) the project, run the search, write the table.

    Raises:
        ProjectError: the directory cannot be used as asked (refused before any training).
        ProjectLocked: another live process holds it. TrialFailed: too many failures.
        KeyboardInterrupt: after the finished trials' table is written.
    """
    from hpsearch.locks import project_lock
    from hpsearch.search.project import Project

    options.check()
    if tensorboard and workers:
        raise ConfigError("`tensorboard` logs from this process only; drop `workers` or "
                          "`tensorboard`")
    if options.time_budget and workers:
        raise ConfigError("`time_budget` is kept by the process that runs the trials; drop "
                          "`workers` or `time_budget`")
    project = Project(directory)
    space, settings = search_for(project, options, resume)
    meta = project_meta(options, space, settings)
    project.check(meta, resume, overwrite)  # refuse early, before loading any data
    data.check_folds(options.folds)
    say = note or (lambda line: None)
    stopped = False
    with project_lock(directory) as lock_notes:  # a second live process is refused
        for line in lock_notes:
            say(f"note: {line}")
        meta = project.open(meta, resume, overwrite)
        if meta.pop("stopped", None):  # a resumed search gets a new budget
            atomic_write_json(project.meta_path, meta)
        for line in project.notes:  # what --resume repaired from the other copy
            say(f"resume: {line}")
        if workers:
            from hpsearch.search.distributed import run_distributed

            run_distributed(space, settings, project, workers, bind, port, quiet)
        else:
            deadline = time.time() + options.time_budget if options.time_budget else None
            stopped = run_local(space, settings, project, data, quiet, tensorboard, deadline)
        if stopped:
            project.meta = meta = meta | {"stopped": stop_note(options, project)}
            atomic_write_json(project.meta_path, meta)
        rows = project.write_results(options.folds, meta)
    return TuneRun(project, rows, stopped, list(project.notes))


def search_for(project: Any, options: TuneOptions, resume: bool) -> tuple[Any, Any]:
    """The space and settings: built from `options`, or on resume the stored ones (with the
    resumable settings from `options`), so a resumed search is the same search."""
    if not resume or not project.meta_path.is_file():
        return options.space(), options.settings()
    from hpsearch.search.space import Space
    from hpsearch.search.tuner import TuneSettings

    meta = project.read_meta(use_copy=True)
    settings = TuneSettings(**meta["settings"])
    return Space.from_dict(meta["space"]), replace(settings, max_trials=options.max_trials,
                                                   max_failures=options.max_failures)


def run_local(space: Any, settings: Any, project: Any, data: Dataset, quiet: bool,
              tensorboard: Path | None = None, deadline: float | None = None) -> bool:
    """The search in this process, with a progress bar counting trial-epochs (all folds train
    together). Returns True when it stopped on time."""
    from hpsearch.progress import tracker
    from hpsearch.search.tuner import Hooks, build_tuner, run_search

    done = [r for r in project.records() if r.final]
    epochs = space.base.epochs
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


def stop_note(options: TuneOptions, project: Any) -> str:
    done = sum(r.final for r in project.records())
    return (f"stopped on time: the {fmt_duration(options.time_budget or 0)} budget had no "
            f"room for another trial after {done} of {options.max_trials}")
