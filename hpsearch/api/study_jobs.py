"""One or more studies run into a directory: plans and seeds, directory checks before any
training, the lock, the runs, the reports and (`study all`) the lab report. It lives in api/
because it uses both `studies` (runs, store) and `reports` (summaries, lab report), which
never import each other's way back.

`hpsearch study` and `hpsearch.study` both call `plan_jobs` and `run_jobs`; the CLI only
parses flags and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch.data import Dataset
from hpsearch.errors import ConfigError
from hpsearch.studies.plan import ALL, STUDIES, STUDY_NAMES, StudyPlan, build_plan

if TYPE_CHECKING:
    from hpsearch.reports.study_summary import StudyRead
    from hpsearch.studies.budget import Budget
    from hpsearch.studies.store import DirCheck

QUICK = {"dataset": "fashion-mnist-sample", "epochs": 3, "repeats": 3, "folds": 3}
DEFAULT_REPEATS = {"architectures": 1}  # k-fold gives the pairs; others default to 5
QUICK_REPEATS = {"architectures": 2}  # others: QUICK["repeats"]
ALL_ORDER = ("architectures", "batch-size", "optimizer", "kernel-regularization",
             "activity-regularization", "dropout", "loss")


@dataclass(frozen=True)
class Job:
    """One study to run: its plan, seeds and directory."""

    plan: StudyPlan
    seeds: tuple[int, ...]
    folds: int
    out: Path

    def settings(self) -> Any:
        from hpsearch.studies.runner import RunSettings

        return RunSettings(self.seeds, self.folds)


def default_out(name: str) -> Path:
    return Path("lab-report") if name == ALL else Path("studies") / name


def plan_jobs(name: str, base: str | None = None, values: str | None = None,
              rate: float | None = None, repeats: int | None = None, epochs: int | None = None,
              folds: int = 5, seed: int = 0, out: Path | None = None,
              quick: bool = False) -> list[Job]:
    """The studies `name` stands for (one, or the lab's six for `all`), with their seeds.

    Raises:
        ConfigError: an unknown study, or a setting that does not apply.
    """
    from hpsearch.studies.runner import seeds_for

    if name != ALL and name not in STUDIES:
        raise ConfigError(f"unknown study {name!r}; choose one of {', '.join(STUDY_NAMES)}")
    if name == ALL:
        for setting, given in (("base", base), ("values", values), ("rate", rate)):
            if given is not None:
                raise ConfigError(f"`{setting}` applies to a single study; `all` uses the "
                                  "lab's settings (run a study on its own to change them)")
    if repeats is not None and repeats < 1:
        raise ConfigError(f"`repeats` must be at least 1, got {repeats}")
    if folds < 2:
        raise ConfigError(f"`folds` must be at least 2, got {folds}")
    if epochs is None and quick:
        epochs = QUICK["epochs"]
    out = out or default_out(name)
    jobs = []
    for study_name in ALL_ORDER if name == ALL else (name,):
        plan = build_plan(study_name, base, values, rate, epochs)
        n = repeats or (QUICK_REPEATS.get(study_name, QUICK["repeats"]) if quick
                        else DEFAULT_REPEATS.get(study_name, 5))
        jobs.append(Job(plan, seeds_for(seed, n), folds,
                        out / study_name if name == ALL else out))
    return jobs


def max_folds(jobs: list[Job]) -> int | None:
    """The folds the data must fill (k-fold studies only)."""
    kfold = [job.folds for job in jobs if job.plan.study.is_kfold]
    return max(kfold) if kfold else None


def check_dirs(name: str, jobs: list[Job], out: Path, data: Dataset, resume: bool,
               overwrite: bool) -> dict[Path, DirCheck]:
    """Refuse before any training, not after the first study of `all` has run.

    Returns:
        Each job directory's check (its stored study.json when resuming), for `run_job` to
        pass on instead of reading the file again.
    """
    from hpsearch.studies.runner import study_meta
    from hpsearch.studies.store import check_dir, prepare_dir

    if name != ALL:
        return {out: check_dir(out, study_meta(jobs[0].plan, jobs[0].settings(), data), resume,
                               overwrite)}
    meta = {"study": ALL, "studies": [j.plan.study.name for j in jobs],
            "dataset": {"name": data.name, "sha256": data.checksum()}}
    checked = check_dir(out, meta, resume, overwrite)

    def check_jobs() -> dict[Path, DirCheck]:
        return {job.out: check_dir(job.out, study_meta(job.plan, job.settings(), data), True,
                                   False) for job in jobs}

    jobs_checked = {} if overwrite else check_jobs()  # refuse before writing anything
    prepare_dir(out, meta, resume, overwrite, checked)
    return jobs_checked or check_jobs()  # after --overwrite cleared them


def pending_epochs(jobs: list[Job]) -> int:
    """Epochs still to train, timing repeats included (the progress bar's total)."""
    from hpsearch.studies.runner import pending_runs
    from hpsearch.studies.timing import pending_timing_epochs
    from hpsearch.training.export import read_card

    total = 0
    for job in jobs:
        per_run = job.folds if job.plan.study.is_kfold else 1
        total += sum(v.config.epochs * per_run
                     for v, _ in pending_runs(job.plan, job.settings(), job.out))
        if job.plan.study.is_kfold and read_card(job.out / "export") is None:
            total += job.plan.base.epochs
        total += pending_timing_epochs(job.plan, job.out, job.settings().timing_repeats)
    return total


@dataclass(frozen=True)
class DryRun:
    """What `hpsearch study --dry-run` shows: each study's budget, the runs already done, and
    the timing-repeat settings the estimate assumes. The CLI only renders it."""

    dataset: str
    n_train: int
    budgets: tuple[Budget, ...]  # one per job
    runs_done: dict[str, int]  # study name -> runs already finished in its directory
    timing_repeats: int
    timed_epochs: int

    @property
    def seconds(self) -> float:
        return sum(b.seconds for b in self.budgets)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "n_train": self.n_train,
                "estimated_seconds": self.seconds,
                "studies": [b.to_dict() | {"runs_already_done": self.runs_done[b.study]}
                            for b in self.budgets]}


def study_budget(jobs: list[Job], dataset: str, load: Callable[[], Dataset]) -> DryRun:
    """The budget of `jobs` on `dataset` without training anything.

    Args:
        jobs: from `plan_jobs`.
        dataset: the data set's name; Fashion-MNIST's size is known, so nothing loads.
        load: called only for another data set, to count its training rows.

    Returns:
        A `DryRun` (budgets, runs already done in each study's directory).

    Example: study_budget(plan_jobs("dropout"), "fashion-mnist", lambda: load_dataset(...))
    """
    from hpsearch.studies.budget import KNOWN_SIZES, budget
    from hpsearch.studies.runner import VALIDATION_FRACTION, pending_runs
    from hpsearch.studies.timing import TIMED_EPOCHS, TIMING_REPEATS

    n_train = KNOWN_SIZES[dataset][0] if dataset in KNOWN_SIZES else len(load().y_train)
    budgets = tuple(budget(j.plan, len(j.seeds), j.folds, n_train, VALIDATION_FRACTION)
                    for j in jobs)
    done = {j.plan.study.name: len(j.plan.variants) * len(j.seeds)
            - len(pending_runs(j.plan, j.settings(), j.out)) for j in jobs}
    return DryRun(dataset, n_train, budgets, done, TIMING_REPEATS, TIMED_EPOCHS)


def run_job(job: Job, data: Dataset, bar: Any, resume: bool, overwrite: bool,
            checked: DirCheck) -> tuple[dict[str, Any], StudyRead]:
    """Run one study's pending runs (and the architectures winner's refit), then its report.

    Args:
        checked: `check_dirs`'s check of the job's directory; its study.json is not read
            again.

    Returns:
        The report's digest, and the study as the report read it.
    """
    from hpsearch.reports.study_summary import StudyRead, write_report
    from hpsearch.studies.runner import run_study, select_and_export

    epochs = job.plan.base.epochs

    def finished(record: dict[str, Any]) -> None:  # early stopping / NaN: skip unused epochs
        unused = sum(epochs - f["epochs_run"] for f in record["folds"])
        if record["status"] != "ok":
            unused = epochs * (job.folds if job.plan.study.is_kfold else 1)
        bar.advance(max(unused, 0))

    records = run_study(job.plan, data, job.out, job.settings(), resume=resume,
                        overwrite=overwrite, hook_for=bar.epoch_hook, on_run=finished,
                        checked=checked)  # fills checked.written
    if job.plan.study.is_kfold:
        bar.describe("architectures: refit of the winner on all training data")
        select_and_export(job.plan, data, job.out, records, job.seeds[0],
                          bar.epoch_hook("architectures: refit"))
    study = StudyRead.of(job.out, checked.written)
    return write_report(study), study


def run_jobs(name: str, jobs: list[Job], out: Path, data: Dataset, *, resume: bool = False,
             overwrite: bool = False, quiet: bool = False,
             note: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Check the directories, take the lock, run every job and write the reports.

    Returns:
        One digest per study: {study, out, summary rows, verdict}.

    Raises:
        ProjectError: a directory cannot be used as asked. ProjectLocked: it is in use.
    """
    from hpsearch.locks import project_lock
    from hpsearch.progress import tracker

    checked = check_dirs(name, jobs, out, data, resume, overwrite)
    with project_lock(out, "study") as notes:  # a second live process is refused
        for line in notes:
            (note or (lambda _: None))(f"note: {line}")
        with tracker(pending_epochs(jobs), f"study {name}", quiet) as bar:
            done = [run_job(job, data, bar, resume or name == ALL, overwrite and name != ALL,
                            checked[job.out]) for job in jobs]
        if name == ALL:
            from hpsearch.reports.lab import write_lab_report

            write_lab_report(out, [study for _, study in done])
    digests = [digest for digest, _ in done]
    return digests
