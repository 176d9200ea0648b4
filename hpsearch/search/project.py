"""The tune project directory: its identity, one record per trial, and the results table.

`fold_summary`, `now` and `TrialRecord` (trial_record.py) are re-exported here for callers.

Every trial writes its own `trials/trial_<id>.json` (atomically, after each fold), and
`results.csv`/`results.json` are rebuilt from those records. The table is therefore a pure
function of files on disk: a killed run, a resumed run and several workers all agree on it.

Every file here is untrusted when read back (a disk that filled up, a copy over a shared file
system): `scan` names each damaged file with what another file still says about it, and never
lets a damaged record silently drop out of a result. This module is the only reader of tune
projects; reports and `export --from` go through it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from hpsearch.errors import ConfigError, DamagedFile, ProjectError
from hpsearch.fileio import Damage, atomic_write_json, atomic_write_text, kind_of, read_json
from hpsearch.locks import LOCK_FILE
from hpsearch.search.results import (
    RESULTS_CSV,
    RESULTS_JSON,
    STATUSES,
    describe_row,
    read_results,
    record_from_row,
    rows_to_csv,
    trial_order,
)
from hpsearch.search.spec import TuneSpec
from hpsearch.search.trial_record import TrialRecord, now
from hpsearch.search.trial_record import fold_summary as fold_summary  # re-exported
from hpsearch.search.view import ProjectView

DEFAULT_SPEC = TuneSpec()
PROJECT_FILE = "project.json"
PROJECT_KIND = "hpsearch-tune"
TRIALS_DIR = "trials"
KT_DIR = "kt"  # Keras Tuner's own oracle/trial state lives under DIR/kt
# Where projects written before `TuneSpec` kept settings (read by TuneSpec.from_meta; a
# resume rewrites project.json with "spec" alone).
LEGACY_KEYS = ("tuner", "folds", "dataset", "data_dir", "seed", "prune", "max_trials",
               "settings", "options")


class Project:
    """A tune project directory: created, resumed or overwritten only when asked to."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.meta: dict[str, Any] | None = None  # in force once opened (kept in results.json)
        # project.json as this object last read or wrote it: one command reads it once
        # (tests/test_project_reads.py), since only this object writes it meanwhile.
        self._stored: dict[str, Any] | None = None
        self.notes: list[str] = []  # what `repair` did on --resume, for the CLI to print
        # A worker's check that its chief is still there (chief_watch.ChiefWatch.confirm):
        # asked before every write, so nothing is written once the chief is gone.
        self.before_write: Callable[[], None] | None = None

    def guard(self) -> None:
        """Ask `before_write` (if set) before writing into the project."""
        if self.before_write is not None:
            self.before_write()

    # ------------------------------------------------------------ identity
    @property
    def meta_path(self) -> Path:
        return self.dir / PROJECT_FILE

    @property
    def trials_dir(self) -> Path:
        return self.dir / TRIALS_DIR

    def read_meta(self, use_copy: bool = False) -> dict[str, Any]:
        """project.json, validated. A damaged one is refused, naming what results.json still
        holds; with `use_copy` (resume) that copy is returned instead (`repair` writes it)."""
        if not self.dir.is_dir():
            raise ProjectError(f"{self.dir} does not exist; pass the --directory of a "
                               "`hpsearch tune` run")
        meta, problem = self.stored_meta()
        if not problem:
            return meta
        foreign = isinstance(meta, dict) and isinstance(meta.get("kind"), str) \
            and meta["kind"] != PROJECT_KIND
        if foreign or not self._has_tune_files():
            what = ("was not written by `hpsearch tune`" if meta is not None
                    else f"no readable {PROJECT_FILE}")
            raise ProjectError(f"{self.dir} is not an hpsearch tune project ({what}); pass the "
                               "--directory of a `hpsearch tune` run")
        copy = self.meta_copy()
        if copy is not None and use_copy:
            return copy
        if copy is not None:
            raise DamagedFile(f"{self.meta_path}: {problem}; {RESULTS_JSON} still holds its "
                              f"settings (tuner {copy.get('tuner')}, {copy.get('folds')} folds,"
                              f" dataset {copy.get('dataset')}): run the same `hpsearch tune` "
                              "command with --resume to repair it", self.meta_path)
        raise DamagedFile(f"{self.meta_path}: {problem}, and no other file holds the search's "
                          "settings; restore it from a backup, or start again with --overwrite",
                          self.meta_path)

    def _has_tune_files(self) -> bool:
        return any(self.trials_dir.glob("trial_*.json")) or (self.dir / KT_DIR).is_dir() \
            or bool(read_results(self.dir)[1])

    def meta_copy(self) -> dict[str, Any] | None:
        """The settings results.json keeps beside its rows (written with every table)."""
        results, problem = read_json(self.dir / RESULTS_JSON)
        copy = results.get("project") if not problem and isinstance(results, dict) else None
        return copy if not meta_problem(copy, PROJECT_KIND) else None

    def check(self, resume: bool, overwrite: bool) -> dict[str, Any] | None:
        """Refuse what `open` would refuse, writing nothing. Returns the old metadata.

        Whether resumed settings match the stored ones is `TuneSpec.resume`'s question
        (asked before this, by `session.resolve`), not this one's."""
        if resume and overwrite:
            raise ProjectError("pass either --resume or --overwrite, not both")
        exists = self.dir.is_dir() and any(p.name != LOCK_FILE for p in self.dir.iterdir())
        if not exists:
            if resume:
                raise ProjectError(f"nothing to resume: {self.dir} does not hold a tune project;"
                                   " drop --resume to start a new search")
            if self.dir.exists() and not self.dir.is_dir():
                raise ProjectError(f"{self.dir} is a file; choose a directory for --directory")
            return None
        if overwrite:  # a damaged project may be overwritten; a foreign directory may not
            try:
                return self.read_meta()
            except DamagedFile:
                return {}
        old = self.read_meta(use_copy=resume)  # refuses a non-empty directory not ours
        if resume:  # Keras Tuner's state cannot be repaired: refuse before loading data
            check_kt_state(self.dir / KT_DIR, {r.trial_id for r in self.records() if r.final})
        if overwrite:
            return old
        if not resume:
            raise ProjectError(f"{self.dir} already holds a tune project; pass --resume to "
                               "continue it or --overwrite to start again")
        return old

    def open(self, meta: dict[str, Any], resume: bool, overwrite: bool) -> dict[str, Any]:
        """Create, resume or overwrite; never silently reuse. Returns the metadata in force."""
        old = self.check(resume, overwrite)
        if old is None:
            return self._create(meta)
        if overwrite:
            self.clear()
            return self._create(meta)
        spec = spec_of(meta)  # the stored settings with the resumable ones given now
        self.notes = self.repair(spec.folds)
        merged = {k: v for k, v in old.items() if k not in LEGACY_KEYS} \
            | {"version": 2, "spec": spec.to_dict(), "resumed": now()}
        self.write_meta(merged)
        if self.notes:  # the tables are rebuilt now, not at the end of the search
            self.write_results(spec.folds, merged)
        return merged

    def _create(self, meta: dict[str, Any]) -> dict[str, Any]:
        try:
            self.trials_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectError(f"cannot create {self.dir} ({exc.strerror or exc}); choose a "
                               "writable --directory") from exc
        meta = {"kind": PROJECT_KIND, "version": 2, "created": now()} | meta
        self.write_meta(meta)
        return meta

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Write project.json: the settings in force from now on (also kept in memory)."""
        atomic_write_json(self.meta_path, meta)
        self.meta = self._stored = meta

    def clear(self) -> None:
        """Remove only what a tune run writes (never other files a user put there)."""
        for name in (TRIALS_DIR, KT_DIR):
            shutil.rmtree(self.dir / name, ignore_errors=True)
        for name in (RESULTS_CSV, RESULTS_JSON, PROJECT_FILE):
            (self.dir / name).unlink(missing_ok=True)

    # ------------------------------------------------------------ trial records
    def record_path(self, trial_id: str) -> Path:
        return self.trials_dir / f"trial_{trial_id}.json"

    def record_paths(self) -> dict[str, Path]:
        """Trial id -> its record file, for every record file there is now."""
        return {p.stem.removeprefix("trial_"): p for p in self.trials_dir.glob("trial_*.json")}

    def write_record(self, record: TrialRecord) -> None:
        self.guard()
        atomic_write_json(self.record_path(record.trial_id), asdict(record))

    def read_record(self, trial_id: str) -> TrialRecord | None:
        """The record, or None when it is missing or damaged (`scan` says which and why)."""
        return self._load_record(self.record_path(trial_id), trial_id)[0]

    def _load_record(self, path: Path, trial_id: str) -> tuple[TrialRecord | None, str]:
        data, problem = read_json(path)
        problem = problem or record_problem(data, trial_id)
        return (None, problem) if problem else (TrialRecord.from_dict(data), "")

    def records(self) -> list[TrialRecord]:
        """Every intact trial record, by trial id (damaged ones: see `scan`)."""
        return self.scan().records

    def scan(self) -> Scan:
        """Every record, checked against the results table that still lists what it held.

        Returns:
            A `Scan`: the intact records, the damaged or missing ones (each with the row of
            results.json/csv that still describes it), and damaged tables.

        Example:
            >>> [d.line() for d in Project("tune-project").scan().damaged]  # doctest: +SKIP
            ['tune-project/trials/trial_1.json: not valid JSON (...); results.csv lists ...']
        """
        rows, source, tables = read_results(self.dir)
        # a table without trials/ is a copied-out table, not a project missing its records
        by_id = {str(r.get("trial_id")): r for r in rows} if self.trials_dir.is_dir() else {}
        records, damaged = [], []
        paths = self.record_paths()
        for trial_id in sorted(set(paths) | set(by_id), key=trial_order):
            path = paths.get(trial_id, self.record_path(trial_id))
            record, problem = self._load_record(path, trial_id)
            if record is not None:
                records.append(record)
                continue
            row = by_id.get(trial_id)
            damaged.append(Damage(path, problem, describe_row(row, source) if row else "",
                                  trial_id, row))
        return Scan(records, damaged, tables, rows, source)

    def repair(self, folds: int) -> list[str]:
        """On --resume: put back what another file still holds, or refuse (writing nothing).

        Returns:
            What was done, one sentence each (the CLI prints them).
        """
        scan = self.scan()
        check_kt_state(self.dir / KT_DIR, {r.trial_id for r in scan.records if r.final})
        actions = []
        for damage in scan.damaged:
            row = damage.row or {}
            if row.get("status") in ("ok", "pruned", "failed"):
                actions.append((damage, record_from_row(row, folds)))
            elif row or self._kt_status(damage.key) in (None, "RUNNING"):
                actions.append((damage, None))
            else:
                raise DamagedFile(f"{damage.line()}; no other file holds its result: restore "
                                  "it from a backup, or start again with --overwrite",
                                  damage.path)
        done = []
        _, problem = self.stored_meta()
        if problem:
            copy = self.read_meta(use_copy=True)
            atomic_write_json(self.meta_path, copy)
            self._stored = copy
            done.append(f"repaired {self.meta_path} ({problem}) from {RESULTS_JSON}")
        for damage, record in actions:
            if record is not None:
                self.write_record(TrialRecord.from_dict(record))
                done.append(f"repaired {damage.path} ({damage.problem}) from {scan.source}; "
                            "its per-epoch history is lost")
            else:
                damage.path.unlink(missing_ok=True)
                done.append(f"{damage.path} was {damage.problem} and its trial had not "
                            "finished: it runs again")
        done += [f"rebuilt {t.path} ({t.problem}) from {TRIALS_DIR}/" for t in scan.tables]
        return done

    def _kt_status(self, trial_id: str | None) -> str | None:
        data, problem = read_json(self.dir / KT_DIR / f"trial_{trial_id}" / "trial.json")
        return None if problem or not isinstance(data, dict) else data.get("status")

    # ------------------------------------------------------------ the view
    def view(self, meta: dict[str, Any] | None = None) -> ProjectView:
        """The project read once: trials ranked, ordered, counted, damage marked, best picked.

        Args:
            meta: the settings in force, when the caller has them (else project.json, or the
                copy in results.json, or none).

        Returns:
            A `ProjectView`.

        Example:
            >>> Project("tune-project").view().best["trial_id"]  # doctest: +SKIP
            '3'
        """
        if meta is None:
            meta = self.meta or self._current_meta() or self.meta_copy() or {}
        return ProjectView.build(meta, stored_spec(meta), self.scan())

    # ------------------------------------------------------------ results table
    def write_results(self, folds: int, meta: dict[str, Any] | None = None) -> ProjectView:
        """Rebuild results.json/csv from the records. A damaged record keeps the row the old
        table had for it (never silently dropped); project.json's settings ride along in
        results.json as the copy `repair` restores it from.

        Returns:
            The view the tables were written from."""
        self.guard()
        meta = meta or self.meta or self._current_meta()
        view = ProjectView.build(meta, replace(stored_spec(meta) or TuneSpec(), folds=folds),
                                 self.scan())
        rows = view.rows
        payload = {"project": meta, "metric": "val_accuracy", "folds": folds, "trials": rows}
        atomic_write_json(self.dir / RESULTS_JSON, payload)
        atomic_write_text(self.dir / RESULTS_CSV, rows_to_csv(rows, folds))
        return view

    def _current_meta(self) -> dict[str, Any]:
        meta, problem = self.stored_meta()
        return {} if problem else meta

    def stored_meta(self) -> tuple[Any, str]:
        """(project.json, "") or (what was read, the problem with it), without raising: for
        readers that report a damaged file instead of refusing it. Read once per Project."""
        if self._stored is not None:
            return self._stored, ""
        meta, problem = read_json(self.meta_path)
        problem = problem or meta_problem(meta, PROJECT_KIND)
        if not problem:
            self._stored = meta
        return meta, problem

    def best(self, folds: int, skip_damaged: bool = False) -> tuple[dict[str, Any], Scan]:
        """The best intact trial's row, refusing while any record is damaged or missing
        (unless `skip_damaged`): the best might be the one we cannot read."""
        view = self.view()
        scan = view.scan
        if scan.damaged and not skip_damaged:
            by_table = sorted((d for d in scan.damaged if (d.row or {}).get("rank_val_accuracy")),
                              key=lambda d: d.row["rank_val_accuracy"])
            first = by_table[0] if by_table else scan.damaged[0]
            which = " (the best trial by the table)" if first.row and \
                first.row.get("rank_val_accuracy") == 1 else ""
            more = f" and {len(scan.damaged) - 1} more" if len(scan.damaged) > 1 else ""
            raise DamagedFile(f"{first.line()}{which}{more}; run the same `hpsearch tune` "
                              "command with --resume to repair it, or pass --skip-damaged to "
                              "export the best intact trial", first.path)
        intact = ProjectView.build(view.meta, replace(view.spec or TuneSpec(), folds=folds),
                                   replace(scan, damaged=[]))  # the best *intact* trial
        if not scan.records or intact.best is None:
            raise ProjectError(f"{self.dir} has no completed trial yet; run or resume "
                               "`hpsearch tune` first")
        return intact.best, scan


@dataclass
class Scan:
    """A project as read from disk: what is intact, what is damaged, and the other copy."""

    records: list[TrialRecord]
    damaged: list[Damage]  # trial records damaged or missing (listed by the table)
    tables: list[Damage]  # results.json / results.csv that could not be read
    rows: list[dict[str, Any]]  # the table's rows (the other copy of each record)
    source: str  # which table the rows came from


# ---------------------------------------------------------------- shapes of our files
SPEC_TYPES = {"tuner": str, "folds": int, "dataset": str, "seed": int, "prune": bool,
              "max_trials": int}


def spec_of(meta: dict[str, Any]) -> TuneSpec:
    """The settings a project.json (or its copy in results.json) holds.

    Raises:
        ConfigError: they are not valid settings (`meta_problem` says so first).
    """
    return TuneSpec.from_meta(meta)


def stored_spec(meta: Any) -> TuneSpec | None:
    """The settings of a project.json that reads well; None for an unknown or damaged one
    (a report then says the settings are unknown)."""
    return spec_of(meta) if meta and not meta_problem(meta) else None


def meta_problem(meta: Any, kind: str = PROJECT_KIND) -> str:
    """What is wrong with a project.json's content ("" when nothing): wrong shape counts."""
    if not isinstance(meta, dict):
        return f"holds {kind_of(meta)}, not the project's settings (wrong shape)"
    if meta.get("kind") != kind:
        return f"kind is {meta.get('kind')!r}, not {kind!r} (wrong shape)"
    if not isinstance(meta.get("fingerprint"), str):
        return f"fingerprint is {meta.get('fingerprint')!r}, not str (wrong shape)"
    stored = meta.get("spec") if isinstance(meta.get("spec"), dict) else meta
    for key, expected in SPEC_TYPES.items():
        value = stored.get(key, getattr(DEFAULT_SPEC, key))
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            return f"{key} is {value!r}, not {expected.__name__} (wrong shape)"
    try:
        spec_of(meta)
    except (ConfigError, TypeError) as exc:
        return f"{exc} (wrong shape)"
    return ""


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def record_problem(data: Any, trial_id: str) -> str:
    """What is wrong with a trial record's content ("" when nothing)."""
    if not isinstance(data, dict):
        return f"holds {kind_of(data)}, not a trial record (wrong shape)"
    if str(data.get("trial_id")) != trial_id:
        return f"trial_id {data.get('trial_id')!r} does not match the file name (wrong shape)"
    if data.get("status") not in STATUSES:
        return f"status {data.get('status')!r} is not one of {', '.join(STATUSES)}"
    if not isinstance(data.get("params"), dict) or not isinstance(data.get("config"), dict):
        return "params or config is not a table (wrong shape)"
    folds = data.get("folds")
    if not isinstance(folds, list) or not all(
            isinstance(f, dict) and isinstance(f.get("fold"), int)
            and _number_or_none(f.get("val_accuracy")) for f in folds):
        return "folds is not a list of fold scores (wrong shape)"
    if data["status"] == "ok" and not folds:
        return "status ok but no fold scores (wrong shape)"
    return ""


ORACLE_KEYS = {"ongoing_trials": dict, "start_order": list, "end_order": list,
               "retry_queue": list, "tried_so_far": list, "id_to_hash": dict,
               "hyperparameters": dict, "run_times": dict}


def check_kt_state(kt_dir: Path, finished: set[str]) -> None:
    """Refuse to resume over damaged Keras Tuner state: it would reload with a traceback, or
    (oracle.json or a trial.json missing) start over and reuse the ids of finished trials.

    Args:
        kt_dir: DIR/kt, where Keras Tuner keeps oracle.json and trial_<id>/trial.json.
        finished: ids of trials whose records are final (their KT files must exist).

    Raises:
        DamagedFile: naming the file, the problem and what still holds the results.
    """
    trial_files = sorted(kt_dir.glob("trial_*/trial.json"))
    if not kt_dir.is_dir() or not (trial_files or finished):
        return
    keep = (f"the {len(finished)} finished trials in {TRIALS_DIR}/ are intact (report and "
            "export --from still work); restore the file from a backup, or continue the "
            "search in a new --directory")
    oracle = kt_dir / "oracle.json"
    data, problem = read_json(oracle)
    if problem == "missing" and not finished:
        return  # killed before Keras Tuner's first save: nothing finished to lose
    if not problem and not isinstance(data, dict):
        problem = f"holds {kind_of(data)}, not Keras Tuner's oracle state (wrong shape)"
    if not problem:
        wrong = [k for k, t in ORACLE_KEYS.items() if not isinstance(data.get(k), t)]
        problem = f"{wrong[0]} is missing or not {ORACLE_KEYS[wrong[0]].__name__} (wrong " \
            "shape)" if wrong else ""
    if problem:
        raise DamagedFile(f"{oracle}: {problem}; {keep}", oracle)
    tuner_file = kt_dir / "tuner0.json"
    data, problem = read_json(tuner_file)
    if problem != "missing" and (problem or not isinstance(data, dict)):
        problem = problem or f"holds {kind_of(data)}, not Keras Tuner's state (wrong shape)"
        raise DamagedFile(f"{tuner_file}: {problem}; {keep}", tuner_file)
    ids = {p.parent.name.removeprefix("trial_") for p in trial_files} | finished
    for trial_id in sorted(ids, key=trial_order):
        path = kt_dir / f"trial_{trial_id}" / "trial.json"
        data, problem = read_json(path)
        if not problem and not (isinstance(data, dict) and isinstance(data.get("trial_id"), str)
                                and isinstance(data.get("hyperparameters"), dict)
                                and isinstance(data.get("status"), str)):
            problem = f"holds {kind_of(data)} that is not a Keras Tuner trial (wrong shape)"
        if problem:
            raise DamagedFile(f"{path}: {problem}; {keep}", path)
