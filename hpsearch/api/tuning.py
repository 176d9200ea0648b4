"""`tune`: a Keras Tuner search scored by k-fold CV, resumable; the `Search` it returns; and
`report`, the report of any tune project or study directory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.api.display import Shown, frame
from hpsearch.api.evaluation import as_data
from hpsearch.config import ModelConfig
from hpsearch.data import Dataset, load_dataset, reloadable
from hpsearch.errors import ConfigError, DataError, ProjectError
from hpsearch.search.spec import TuneSpec
from hpsearch.search.view import ProjectView


@dataclass(repr=False)
class Search(Shown):
    """A tune project: its trials as a table, the best config, and its export.

    Attributes:
        directory: the project directory (`project.json`, `trials/`, `results.csv`).
        view: the project as read once (`Project.view()`): ranked rows, counts, the best.
        stopped_on_time: the time budget ended the search before `max_trials`.
        data: what it was tuned on, for `export` (else the stored name).
    """

    directory: Path
    view: ProjectView
    stopped_on_time: bool = False
    data: Dataset | None = None

    @property
    def meta(self) -> dict[str, Any]:
        """The project's project.json."""
        return self.view.meta

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per trial, as in `results.csv`."""
        return self.view.rows

    def ranked(self) -> list[dict[str, Any]]:
        return self.view.ranked()

    def results(self) -> Any:
        """One row per trial like `cv_results_` (split scores, mean, sample std, rank,
        params, status, times): a pandas DataFrame indexed by trial id, best first."""
        rows = [{k: v for k, v in r.items() if k != "config"}
                for r in self.ranked() + [r for r in self.rows if not r.get("rank_val_accuracy")]]
        return frame(rows, index="trial_id")

    def table(self) -> Any:
        columns = ["rank_val_accuracy", "mean_val_accuracy", "std_val_accuracy", "status",
                   "n_folds_done", "describe"]
        out = self.results()
        return out[[c for c in columns if c in out]].head(10)

    @property
    def best(self) -> dict[str, Any] | None:
        """The best completed trial's row (None before any trial completed)."""
        return self.view.best

    @property
    def best_config(self) -> ModelConfig | None:
        """The best trial's config as it was searched (`export` refits it for the length its CV
        score was taken at)."""
        best = self.best
        return None if best is None else ModelConfig.from_dict(best["config"],
                                                               source=f"trial {best['trial_id']}")

    @property
    def verdict(self) -> str:
        from hpsearch.stats import top_k_note

        best = self.best
        done = ", ".join(f"{n} {s}" for s, n in self.view.counts().items() if n)
        if best is None:
            return f"no completed trial yet ({done or 'no trials'})"
        text = (f"best: trial {best['trial_id']}, {best['mean_val_accuracy']:.4f} ± "
                f"{best['std_val_accuracy'] or 0:.4f} over {best['n_folds_done']} folds "
                f"({done}).")
        note = top_k_note(self.ranked()[:5])
        stopped = self.meta.get("stopped")
        return " ".join(x for x in (text, note, f"({stopped}.)" if stopped else "") if x)

    def plot(self) -> Any:
        """Each trial's mean CV score in trial order and the best so far: a Figure."""
        from hpsearch.reports.figures import trials_figure

        rows = self.view.in_trial_order()
        return trials_figure([r.get("mean_val_accuracy") if r["status"] == "ok" else None
                              for r in rows], f"{self.spec.tuner} search, "
                              f"{self.spec.folds}-fold CV")

    def export(self, out: str | Path | None = None, data: Dataset | str | None = None,
               overwrite: bool = False, skip_damaged: bool = False, seed: int | None = None,
               quiet: bool = False, ensemble: int = 1) -> Any:
        """Refit the best trial on all training data, test it once, write `model.keras` and
        `model_card.json` (the card holds its CV score). Default `out`: DIRECTORY/export;
        default `seed`: the search's own.
        `data` defaults to what it was tuned on; a search of in-memory data read back by
        `load_search` needs it passed again (`data=`), as no file holds it.

        Returns:
            `Exported` (model and card paths, the card, the test accuracy).
        """
        from hpsearch.api.exporting import export_project

        return export_project(self.directory, out, data or self.data, overwrite=overwrite,
                              skip_damaged=skip_damaged, seed=seed, quiet=quiet,
                              ensemble=ensemble)

    @property
    def spec(self) -> TuneSpec:
        """The search's settings, as stored in project.json."""
        from hpsearch.search.project import spec_of

        return self.view.spec or spec_of(self.meta)

    def export_command(self) -> str:
        from hpsearch.search.best import export_command

        spec = self.spec
        return export_command(self.directory, spec.dataset, spec.data_dir,
                              dict(spec.data_options or {}))

    def _title(self) -> str:
        return f"Search {self.directory}: {len(self.rows)} trials"


def load_search(directory: str | Path) -> Search:
    """An existing tune project as a `Search` (read through its one reader, `Project`).

    Example:
        >>> hp.load_search("runs/t1").results()  # doctest: +SKIP
    """
    from hpsearch.search.project import Project

    project = Project(directory)
    meta = project.read_meta()
    return Search(Path(directory), project.view(meta), bool(meta.get("stopped")))


def tune_settings(directory: str | Path, *, resume: bool = False, overwrite: bool = False,
                  **given: object) -> TuneSpec:
    """The settings a tune in `directory` would run with, checked, without running it.

    Args:
        directory: the project directory.
        resume: compare with the settings stored there (a different one is refused).
        overwrite: the search there would start again.
        **given: `TuneSpec` fields; None (or absent) means not given: the default, or on
            resume the stored value.

    Returns:
        The `TuneSpec` in force.

    Raises:
        ConfigError: an invalid setting. ProjectError: a conflict on resume.

    Example:
        >>> hp.tune_settings("runs/t1", resume=True, max_trials=50).folds  # doctest: +SKIP
        3
    """
    from hpsearch.search.session import resolve

    return resolve(Path(directory), given, resume, overwrite)


def spec_dataset(spec: TuneSpec) -> Dataset:
    """Load the data set a tune's settings name (its file or name, data directory and table
    options): what `tune` and `tune_budget` load once the settings are checked."""
    return load_dataset(spec.dataset, spec.data_dir, **(spec.data_options or {}))


def tune(directory: str | Path, data: Dataset | str | None = None,
         max_trials: int | None = None, folds: int | None = None, epochs: int | None = None,
         tuner: str | None = None, space: str | Path | None = None,
         fix: list[str] | dict[str, Any] | None = None, resume: bool = False,
         overwrite: bool = False, time_budget: str | float | None = None,
         patience: int | None = None, prune: bool | None = None, seed: int | None = None,
         max_failures: int | None = None, workers: int = 0,
         tensorboard: str | Path | None = None, quiet: bool = False, *,
         data_dir: str | Path | None = None, data_options: dict[str, Any] | None = None,
         bind: str = "127.0.0.1", port: int = 0,
         on_note: Callable[[str], None] | None = None, pruner: str | None = None,
         prune_peers: str | None = None) -> Search:
    """Search the space with Keras Tuner, scoring every trial by k-fold CV on training data.

    Every trial writes its record as it ends, so an interrupted search resumes with
    `resume=True`: the stored settings are reused, and any setting you pass must equal the
    stored one (even when it equals the default); only `max_trials`, `max_failures` and
    `time_budget` may change. The test set is never read. A setting left at None takes its
    default from `hpsearch.search.spec.TuneSpec` (shown in brackets). Every setting is checked,
    and the directory too, before any data loads.

    Args:
        directory: the project directory (created; an existing one needs `resume` or
            `overwrite`).
        data: a `Dataset`, or a name/path that `load_dataset` loads once the settings are
            checked (on resume: None reuses the stored one).
        max_trials: configs to try [30].
        folds: stratified CV folds per trial [2].
        epochs: max epochs per fold (the cosine schedule anneals over them) [15].
        tuner: `"random"`, `"bayesian"`, `"tpe"` (Optuna's TPE; needs optuna),
            `"hyperband"` or `"grid"` [bayesian].
        space: a TOML file that replaces or narrows knobs of the default space.
        fix: pin knobs or config fields, e.g. `{"optimizer": "adam"}` or `["optimizer=adam"]`.
        resume: continue the search in `directory`.
        overwrite: delete the search in `directory` and start again.
        time_budget: `"20m"`, `"1h"`, or seconds: start no trial that would end after it at
            a full-length trial's time (trials end within the budget plus one trial's
            length); the table then says it stopped on time.
        patience: early stopping on validation loss (0 = off) [0].
        prune: stop hopeless trials early, once per epoch [True].
        seed: fixes the folds, the oracle and the initial weights [0].
        max_failures: stop after this many failed trials in a row [5].
        workers: run N worker processes on this machine (0 = in process).
        tensorboard: log every fold to this directory (HParams plugin).
        quiet: no progress bar.
        data_dir: where a named data set's files are (a name `data` only).
        data_options: a table's `target`, `test`, `test_size`, `scale`, `one_hot`.
        bind: the address the oracle listens on (with `workers`).
        port: the oracle's port (0 = a free one).
        on_note: called with each note line (a stale lock taken over, a repair on resume).
        pruner: `"median"` (a trial below the median of finished trials at the same epoch
            stops) or `"asha"` (successive halving: the top third of the trials that reached
            epoch 1, 3, 9, ... goes on) [median].
        prune_peers: the median's peers, `"finished"` trials or `"all"` that reached the
            epoch [finished].

    Returns:
        The `Search`: `.results()`, `.best_config`, `.verdict`, `.plot()`, `.export(out)`.

    Raises:
        ProjectError: the directory cannot be used as asked, or a setting conflicts with the
            stored one on resume. ConfigError / SpaceError: invalid settings or space.

    Example:
        >>> import hpsearch as hp
        >>> search = hp.tune("runs/t1", "fashion-mnist-sample", max_trials=5, epochs=3,
        ...                  time_budget="5m")  # doctest: +SKIP
        >>> search.best_config, search.results().head()  # doctest: +SKIP
    """
    from hpsearch.search.project import Project
    from hpsearch.search.session import resolve, run_tune
    from hpsearch.search.spec import parse_duration

    if workers < 0:
        raise ConfigError(f"`workers` must be 0 or more, got {workers}")
    if not 0 <= port < 65536:
        raise ConfigError(f"`port` must be in 0..65535, got {port}")
    if data is None and not resume:
        raise ConfigError("`data` is needed to start a search (a Dataset or a data set name)")
    # a Dataset's source: how workers and export --from load it again (none: in memory)
    source = (data.source or {"dataset": data.name}) if isinstance(data, Dataset) else {}
    if workers and isinstance(data, Dataset) and not data.source:
        raise ConfigError(f"`workers` load the data set from its name or file, and in-memory "
                          f"data ({data.name!r}) has neither: use workers=0, or save it as a "
                          "table (DataFrame.to_csv) and pass hp.load_dataset(FILE, target=...)")
    if isinstance(fix, dict):
        fix = [f"{k}={_fix_value(v)}" for k, v in fix.items()]
    project = Project(directory)  # the one Project of this tune: project.json is read once
    spec = resolve(project, dict(
        tuner=tuner, max_trials=max_trials, folds=folds, epochs=epochs, patience=patience,
        space_file=str(space) if space else None, fix=tuple(fix) if fix else None, prune=prune,
        pruner=pruner, prune_peers=prune_peers, seed=seed, max_failures=max_failures,
        dataset=source["dataset"] if isinstance(data, Dataset) else data,
        data_dir=str(data_dir) if data_dir else source.get("data_dir"),
        data_options=data_options or source.get("data_options"),
        time_budget=parse_duration(time_budget)), resume, overwrite)
    if not resume:  # refuse a used directory before loading any data
        project.check(False, overwrite)
    if data is None and not reloadable(spec.dataset):
        raise DataError(f"{directory} was tuned on in-memory data ({spec.dataset!r}, e.g. "
                        "from hp.Dataset.from_arrays), which no file holds: resume it in "
                        f"Python with the same data, hp.tune({str(directory)!r}, data, "
                        "resume=True)")
    loaded = data if isinstance(data, Dataset) else spec_dataset(spec)
    loaded = as_data(loaded, spec.folds)
    run = run_tune(project, spec, loaded, resume=resume, overwrite=overwrite,
                   workers=workers, bind=bind, port=port,
                   tensorboard=Path(tensorboard) if tensorboard else None, quiet=quiet,
                   note=on_note)
    return Search(Path(directory), run.view, run.stopped_on_time, loaded)


def _fix_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def report(directory: str | Path, top_k: int = 10) -> Path:
    """Write `report.md` (figures and CSV tables beside it) and a self-contained
    `report.html` for a tune project or a study directory; return the HTML's path.

    Args:
        directory: written by `tune` (or `hpsearch tune`) or `study`.
        top_k: trials in a search report's top table.

    Returns:
        The path of report.html.

    Raises:
        ProjectError: the directory is neither a tune project nor a study.

    Example:
        >>> hp.report("runs/t1")  # doctest: +SKIP
        PosixPath('runs/t1/report.html')
    """
    from hpsearch.reports.writer import write_report

    if not Path(directory).exists():
        raise ProjectError(f"{directory} does not exist; pass a directory written by tune or "
                           "study")
    return write_report(directory, top_k).html
