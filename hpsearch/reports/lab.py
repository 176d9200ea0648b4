"""`study all`: one lab report that answers every lab question from the per-study directories."""

from __future__ import annotations

import json
from pathlib import Path

from hpsearch.fileio import atomic_write_text
from hpsearch.reports.study_summary import CARD_PATH, markdown_section, shared_times, verdicts
from hpsearch.studies.store import RESULTS_FILE, read_csv, read_study
from hpsearch.studies.timing import read_timing

REPORT_FILE = "report.md"


def _answer(study_dir: Path) -> str:
    meta = read_study(study_dir)
    rows = read_csv(study_dir / RESULTS_FILE)
    timing = read_timing(study_dir)
    verdict = verdicts(meta, rows, timing)
    line = (f"| [{meta['study']}](#study-{meta['study']}) | {meta.get('lab_task', '')} | "
            f"{meta['question']} | {verdict['accuracy'].what}: {verdict['accuracy'].short()}")
    card = study_dir / CARD_PATH
    if card.is_file():
        test = json.loads(card.read_text(encoding="utf-8"))["test"]
        line += f"; refit test accuracy {test['accuracy']:.4f}"
    elif not timing and (shared := shared_times(rows)) is not None:  # one measured time per variant
        fastest = min(shared, key=shared.get)
        line += f"; time (one measurement per variant, no interval): fastest {fastest}"
    else:
        line += f"; {verdict['time'].what}: {verdict['time'].short()}"
    return line + " |"


def lab_markdown(study_dirs: list[Path]) -> str:
    """The lab report: an answers table, then every study's section with its figures."""
    first = read_study(study_dirs[0])
    data = first["dataset"]
    lines = ["# The lab, answered with repeats and paired intervals", "",
             f"Data: `{data['name']}` ({data['n_train']} training / {data['n_test']} test "
             f"images). Every study holds all but one field of its base config fixed, runs "
             "every variant with the same seeds, and names a winner only when the 95% paired "
             "interval of its lead excludes zero. Per-run numbers: `<study>/results.csv`; per "
             "variant: `<study>/summary.csv`.", "",
             "## Answers", "", "| study | lab | question | answer |", "|---|---|---|---|",
             *(_answer(d) for d in study_dirs), ""]
    for study_dir in study_dirs:
        lines.append(markdown_section(study_dir, prefix=f"{study_dir.name}/", level=2))
    return "\n".join(lines)


def write_lab_report(out: Path, study_dirs: list[Path]) -> Path:
    """Write `lab_markdown` to `out/report.md` (the end of `study all`)."""
    path = out / REPORT_FILE
    atomic_write_text(path, lab_markdown(study_dirs))
    return path
