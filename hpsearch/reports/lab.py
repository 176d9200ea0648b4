"""`study all`: one lab report that answers every lab question from the per-study directories."""

from __future__ import annotations

import json
from pathlib import Path

from hpsearch.fileio import atomic_write_text
from hpsearch.reports.study_summary import CARD_PATH, StudyRead, markdown_section, shared_times

REPORT_FILE = "report.md"


def _answer(study: StudyRead) -> str:
    study_dir, meta, rows, timing, verdict = (study.out, study.meta, study.rows, study.timing,
                                              study.verdict)
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


def lab_markdown(studies: list[StudyRead]) -> str:
    """The lab report: an answers table, then every study's section with its figures."""
    data = studies[0].meta["dataset"]
    lines = ["# The lab, answered with repeats and paired intervals", "",
             f"Data: `{data['name']}` ({data['n_train']} training / {data['n_test']} test "
             f"images). Every study holds all but one field of its base config fixed, runs "
             "every variant with the same seeds, and names a winner only when the 95% paired "
             "interval of its lead excludes zero. Per-run numbers: `<study>/results.csv`; per "
             "variant: `<study>/summary.csv`.", "",
             "## Answers", "", "| study | lab | question | answer |", "|---|---|---|---|",
             *(_answer(study) for study in studies), ""]
    for study in studies:
        lines.append(markdown_section(study, prefix=f"{study.out.name}/", level=2))
    return "\n".join(lines)


def write_lab_report(out: Path, studies: list[StudyRead | Path]) -> Path:
    """Write `lab_markdown` to `out/report.md` (the end of `study all`).

    Args:
        out: the `study all` directory.
        studies: each sub-study as already read (`StudyRead`), or its directory.
    """
    path = out / REPORT_FILE
    read = [s if isinstance(s, StudyRead) else StudyRead.of(s) for s in studies]
    atomic_write_text(path, lab_markdown(read))
    return path
