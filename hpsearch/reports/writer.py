"""`hpsearch report DIR`: tell a tune project from a study by its files, write report.md/.html.

One entry point, `write_report`, so the CLI (and anyone scripting) never has to know which
kind of directory it was given. The markdown is the source; the HTML is made from it with every
figure inlined, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hpsearch.errors import ProjectError
from hpsearch.fileio import atomic_write_text

if TYPE_CHECKING:
    from hpsearch.search.project import Project

MARKDOWN_FILE = "report.md"
HTML_FILE = "report.html"
SEARCH, STUDY = "search", "study"


@dataclass(frozen=True)
class Written:
    """What `write_report` produced, for the CLI to print and for tests to check."""

    kind: str
    directory: Path
    markdown: Path
    html: Path
    figures: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    summary: str = ""


def detect(directory: Path, project: Project | None = None) -> str:
    """`search` or `study`, judged from the files; ProjectError when it is neither."""
    from hpsearch.reports.study import is_study
    from hpsearch.reports.trials import is_search

    if not directory.exists():
        raise ProjectError(f"{directory} does not exist; pass a directory written by "
                           "`hpsearch tune` or `hpsearch study`")
    if not directory.is_dir():
        raise ProjectError(f"{directory} is a file; pass the directory written by "
                           "`hpsearch tune` or `hpsearch study`")
    if is_study(directory):
        return STUDY
    if is_search(directory, project):
        return SEARCH
    raise ProjectError(f"{directory} is neither a tune project (no project.json, trials/ or "
                       "results.json) nor a study (no study.json); pass the --directory of "
                       "`hpsearch tune` or the --out of `hpsearch study`")


def write_report(directory: str | Path, top_k: int = 10) -> Written:
    """Write report.md (+ figures and CSV tables beside it) and a self-contained report.html."""
    from hpsearch.reports.html import html_page
    from hpsearch.search.project import Project

    directory = Path(directory)
    project = Project(directory)  # a tune's project.json is read once for the whole report
    kind = detect(directory, project)
    if kind == STUDY:
        from hpsearch.reports.study import study_markdown

        study = study_markdown(directory)
        title, markdown, tables = study.title, study.markdown, list(study.tables)
        figures = sorted(p for p in directory.rglob("*.png"))
        summary = study.summary or title
    else:
        from hpsearch.reports.search import search_markdown

        search = search_markdown(directory, top_k, project)
        title, markdown = search.title, search.markdown
        tables, figures, summary = search.tables, search.figures, search.summary
    md_path, html_path = directory / MARKDOWN_FILE, directory / HTML_FILE
    atomic_write_text(md_path, markdown)
    atomic_write_text(html_path, html_page(markdown, directory, title))
    return Written(kind, directory, md_path, html_path, figures, tables, summary)
