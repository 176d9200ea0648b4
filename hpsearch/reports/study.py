"""`hpsearch report` for a study directory or a `study all` lab-report directory.

The study engineer's code already turns runs into summaries, figures and verdicts
(`study_report`, `study_collect`); this module only calls it on whatever has finished so far
(so it works while a study is running or after a kill) and hands the markdown on to be made
into report.md and a self-contained report.html. Nothing here re-implements a study plot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpsearch.errors import ProjectError
from hpsearch.reports.study_summary import StudyRead
from hpsearch.studies.store import STUDY_FILE, read_study

ALL = "all"
STUDY_TABLES = ("results.csv", "summary.csv", "curves.csv")


@dataclass(frozen=True)
class StudyMarkdown:
    """The report text, its title, and the tables (CSV files beside it) it relies on."""

    title: str
    markdown: str
    tables: tuple[Path, ...]
    summary: str = ""


def is_study(directory: Path) -> bool:
    return (directory / STUDY_FILE).is_file()


def _progress(meta: dict[str, Any], directory: Path) -> str:
    """How much of the planned study is on disk: `n of m runs finished`."""
    planned = len(meta.get("variants", [])) * len(meta.get("seeds", []))
    done = len(list((directory / "runs").glob("*.json")))
    if not planned or done >= planned:
        return f"All {done} planned runs finished."
    return (f"**Partial:** {done} of {planned} planned runs finished (the study is still "
            "running or was interrupted; `hpsearch study ... --resume` continues it). Numbers "
            "below cover the finished runs only.")


def single_study(directory: Path, meta: dict[str, Any]) -> StudyMarkdown:
    """Rebuild the study's summary, figures and verdicts from its runs, return its markdown.

    `meta` is the study.json the caller read; nothing here reads it again."""
    from hpsearch.reports.study_summary import markdown_section, write_report

    study = StudyRead.of(directory, meta)
    if not study.rows:
        raise ProjectError(f"{directory} holds study {meta.get('study')!r} with no finished "
                           "run yet; wait for the first run (or resume it) and report again")
    digest = write_report(study)  # idempotent: summary.csv, verdict.json, PNGs
    markdown = _after_title(markdown_section(study),
                            [_progress(meta, directory), "", _tables_line("")])
    tables = tuple(directory / name for name in STUDY_TABLES if (directory / name).is_file())
    return StudyMarkdown(f"hpsearch study {meta['study']}", markdown, tables,
                         f"study {meta['study']}: {digest['headline']}")


def lab_report(directory: Path, meta: dict[str, Any]) -> StudyMarkdown:
    """`study all`: every sub-study with runs is reported, then the lab report is rebuilt.

    `meta` is the `study all` directory's study.json; each sub-study's is read once here."""
    from hpsearch.reports.lab import lab_markdown
    from hpsearch.reports.study_summary import write_report

    names = meta.get("studies") or sorted(p.name for p in directory.iterdir() if is_study(p))
    read = [StudyRead.of(directory / n) for n in names if is_study(directory / n)]
    studies = [study for study in read if study.rows]
    if not studies:
        raise ProjectError(f"{directory} is a `study all` directory with no finished run yet; "
                           "wait for the first run (or resume it) and report again")
    for study in studies:
        write_report(study)
    subdirs = [study.out for study in studies]
    markdown = lab_markdown(studies)  # the writer writes report.md, once
    missing = [n for n in names if directory / n not in subdirs]
    if missing:
        markdown = _after_title(markdown, [f"**Partial:** no finished runs yet for "
                                           f"{', '.join(missing)}; those studies are left out."])
    tables = tuple(sub / name for sub in subdirs for name in STUDY_TABLES
                   if (sub / name).is_file())
    return StudyMarkdown("hpsearch lab report", markdown, tables,
                         f"lab report over {len(subdirs)} of {len(names)} studies")


def _after_title(markdown: str, insert: list[str]) -> str:
    """`insert` (as paragraphs) right after the first heading of `markdown`."""
    lines = markdown.splitlines()
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("#")), 0)
    return "\n".join([*lines[:at], "", *insert, *lines[at:]]) + "\n"


def _tables_line(prefix: str) -> str:
    return (f"Tables: [{prefix}results.csv]({prefix}results.csv) (one row per run and fold), "
            f"[{prefix}summary.csv]({prefix}summary.csv) (one row per variant), "
            f"[{prefix}curves.csv]({prefix}curves.csv) (per epoch).\n")


def study_markdown(directory: Path) -> StudyMarkdown:
    """Dispatch on study.json (read here, once): a single study, or the `study all` lab
    report."""
    meta = read_study(directory)
    if meta.get("study") == ALL:
        return lab_report(directory, meta)
    return single_study(directory, meta)
