"""The search report: budget spent, top-k table, figures, and the export command for the best.

Markdown is the source of truth (report.md); tables are also written as CSV beside it so they
load straight into pandas or a spreadsheet, like the tune side's results.csv.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpsearch.fileio import atomic_write_text
from hpsearch.reports.search_figures import (
    curves_plot,
    history_plot,
    parallel_plot,
    params_plot,
)
from hpsearch.reports.trials import SearchReport, Trial, read_search_report
from hpsearch.stats import top_k_note

if TYPE_CHECKING:
    from hpsearch.search.project import Project

TOP_CSV, TRIALS_CSV, BUDGET_CSV = "report_top.csv", "report_trials.csv", "report_budget.csv"
FIGURES = {"history": "report_history.png", "params": "report_params.png",
           "parallel": "report_parallel.png", "curves": "report_curves.png"}
CURVE_TRIALS = 3


@dataclass
class SearchMarkdown:
    title: str
    markdown: str
    figures: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    summary: str = ""


def _f(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _when(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def budget(search: SearchReport) -> dict[str, Any]:
    """What the search has spent so far, as a flat dict (also written as report_budget.csv)."""
    counts = {s: len(search.by_status(s)) for s in ("ok", "pruned", "failed", "running",
                                                     "damaged")}
    spec = search.spec
    planned = spec.max_trials if spec else None
    folds_done = sum(len(t.folds) for t in search.trials)
    starts = [d for t in search.trials if (d := _when(t.started))]
    ends = [d for t in search.trials if (d := _when(t.finished))]
    span = (max(ends + starts) - min(starts)).total_seconds() if starts else None
    return {"trials_started": len(search.trials), "trials_planned": planned,
            "completed": counts["ok"], "pruned": counts["pruned"], "failed": counts["failed"],
            "running_or_interrupted": counts["running"], "damaged": counts["damaged"],
            "folds_per_trial": search.folds,
            "folds_done": folds_done,
            "folds_planned": planned * search.folds if planned and search.folds else None,
            "epochs_done": sum(t.epochs for t in search.trials),
            "compute_seconds": round(sum(t.wall_time for t in search.trials), 1),
            "wall_seconds": None if span is None else round(span, 1),
            "workers": len({t.worker for t in search.trials if t.worker}) or None,
            "tuner": spec and spec.tuner, "dataset": spec and spec.dataset,
            "seed": spec and spec.seed, "source": search.source}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def export_command(search: SearchReport) -> str:
    """The exact `hpsearch export` line for the best trial, as the tune command prints it."""
    from hpsearch.search.best import export_command as command

    spec = search.spec
    if spec is None:
        return command(search.directory)
    return command(search.directory, spec.dataset, spec.data_dir,
                   dict(spec.data_options or {}))


def _table_rows(trials: list[Trial], folds: int) -> list[dict[str, Any]]:
    params = sorted({k for t in trials for k in t.params})
    rows = []
    for t in trials:
        row: dict[str, Any] = {"rank": t.rank, "trial_id": t.trial_id, "status": t.status,
                               "mean_val_accuracy": t.mean, "std_val_accuracy": t.std}
        for i in range(folds):
            fold = t.fold(i)
            row[f"split{i}_val_accuracy"] = None if fold is None else fold.get("val_accuracy")
        losses = t.scores("val_loss")
        row |= {"mean_val_loss": sum(losses) / len(losses) if losses else None,
                "n_folds_done": len(t.folds), "epochs": t.epochs,
                "wall_time_s": round(t.wall_time, 2), "describe": t.describe,
                "reason": t.reason}
        row |= {f"param_{p}": t.params.get(p) for p in params}
        rows.append(row)
    return rows


def _csv(rows: list[dict[str, Any]]) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r)) or ["trial_id"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def top_table(trials: list[Trial], folds: int) -> list[str]:
    """Markdown: rank, trial, status, mean ± std, one column per fold, epochs, time, config."""
    fold_heads = "".join(f" fold {i} |" for i in range(folds))
    lines = [f"| rank | trial | status | val acc mean ± std |{fold_heads} val loss | epochs | "
             "time (s) | config |", "|" + "---|" * (8 + folds)]
    for row, t in zip(_table_rows(trials, folds), trials, strict=True):
        splits = "".join(f" {_f(row[f'split{i}_val_accuracy'])} |" for i in range(folds))
        config = (t.describe or json.dumps(t.params)).replace("|", "\\|")
        lines.append(f"| {t.rank or '–'} | {t.trial_id} | {t.status} | {_f(t.mean)} ± "
                     f"{_f(t.std)} |{splits} {_f(row['mean_val_loss'])} | {t.epochs} | "
                     f"{t.wall_time:.1f} | {config} |")
    return lines


def all_table(trials: list[Trial]) -> list[str]:
    """Markdown: every trial in the order started, with why it was pruned or failed."""
    lines = ["| trial | status | rank | val acc mean ± std | folds | epochs | time (s) | config |"
             " note |", "|" + "---|" * 9]
    for t in trials:
        config = (t.describe or json.dumps(t.params)).replace("|", "\\|")
        note = t.reason.replace("|", "\\|")
        lines.append(f"| {t.trial_id} | {t.status} | {t.rank or '–'} | {_f(t.mean)} ± "
                     f"{_f(t.std)} | {len(t.folds)} | {t.epochs} | {t.wall_time:.1f} | "
                     f"{config} | {note} |")
    return lines


def _budget_lines(b: dict[str, Any], search: SearchReport) -> list[str]:
    planned = f" of {b['trials_planned']} planned" if b["trials_planned"] else ""
    folds = f" of at most {b['folds_planned']}" if b["folds_planned"] else ""
    lines = [f"- **Trials:** {b['trials_started']} started{planned}: {b['completed']} "
             f"completed, {b['pruned']} pruned, {b['failed']} failed"
             + (f", {b['running_or_interrupted']} running or interrupted"
                if b["running_or_interrupted"] else "")
             + (f", **{b['damaged']} damaged** (see Notes)" if b["damaged"] else ""),
             f"- **Folds:** {b['folds_done']} fitted{folds} ({b['folds_per_trial']}-fold CV "
             f"per trial; pruning stops a trial after a fold)",
             f"- **Epochs:** {b['epochs_done']} trained in all",
             f"- **Time:** {_duration(b['compute_seconds'])} of trial time, "
             f"{_duration(b['wall_seconds'])} wall clock from the first trial's start to the "
             "last update" + (f", {b['workers']} worker(s)" if b["workers"] else ""),
             f"- **Setup:** tuner `{b['tuner'] or '?'}`, data `{b['dataset'] or '?'}`, seed "
             f"{b['seed'] if b['seed'] is not None else '?'}; read from `{b['source']}`"]
    unfinished = b["running_or_interrupted"] or (
        b["trials_planned"] and b["completed"] + b["pruned"] + b["failed"]
        < b["trials_planned"])
    resume = f"`hpsearch tune --directory {shlex.quote(str(search.directory))} --resume`"
    if search.meta.get("stopped"):  # the time budget ended it: not a kill, not running
        lines += ["", f"**Stopped on time:** {search.meta['stopped']}; continue with {resume} "
                  "(a new --time-budget, or none)."]
    elif unfinished:
        lines += ["", "**Partial:** this search is still running or was interrupted. Report "
                  f"again later, or continue it with {resume}."]
    return lines


def search_markdown(directory: Path, top_k: int = 10,
                    project: Project | None = None) -> SearchMarkdown:
    """Read the project (`project`: the command's one `Project` of `directory`), draw the
    figures, write the CSV tables, return the markdown."""
    search = read_search_report(directory, project)
    b = budget(search)
    ranked = search.ranked()
    top = ranked[:top_k]
    best = next((t for t in ranked if t.status in ("ok", "damaged")), None)
    figures = {key: fn for key, fn in (
        ("history", history_plot(search, directory / FIGURES["history"])),
        ("params", params_plot(search, directory / FIGURES["params"])),
        ("parallel", parallel_plot(search, top, directory / FIGURES["parallel"])),
        ("curves", curves_plot([t for t in ranked if t.status == "ok"][:CURVE_TRIALS],
                               directory / FIGURES["curves"])),
    ) if fn is not None}
    for key, name in FIGURES.items():  # a figure that no longer applies must not linger
        if key not in figures:
            (directory / name).unlink(missing_ok=True)
    tables = [directory / TOP_CSV, directory / TRIALS_CSV, directory / BUDGET_CSV]
    top_rows = _table_rows(top, search.folds)
    atomic_write_text(tables[0], _csv(top_rows))
    atomic_write_text(tables[1], _csv(_table_rows(search.trials, search.folds)))
    atomic_write_text(tables[2], _csv([{"key": k, "value": v} for k, v in b.items()]))

    lines = [f"# Search report: `{directory}`", "", "## Budget spent", "",
             *_budget_lines(b, search), "", f"## Top {len(top)} trials", ""]
    if top:
        lines += [*top_table(top, search.folds), "", "Mean ± std over the folds a trial ran "
                  "(sample std, ddof 1, as in every hpsearch table); a pruned trial's mean "
                  "covers only its folds. Ranked: completed trials by mean, then pruned ones."]
        note = top_k_note(top_rows)  # paired by fold: every trial sees the same folds
        lines += ["", note] if note else []
    else:
        lines.append("No trial has a score yet.")
    lines += ["", f"Tables: [{TOP_CSV}]({TOP_CSV}), [{TRIALS_CSV}]({TRIALS_CSV}) (every trial),"
              f" [{BUDGET_CSV}]({BUDGET_CSV}).", "", "## Export the best", ""]
    if best is not None and best.status == "damaged":
        lines += [f"The best trial by the results table, **{best.trial_id}** ({_f(best.mean)}), "
                  f"is damaged: {best.reason}. `hpsearch export --from` refuses until "
                  "`hpsearch tune ... --resume` repairs it (or pass `--skip-damaged` to export "
                  "the best intact trial)."]
    elif best is not None:
        lines += [f"Best completed trial: **{best.trial_id}**, CV val accuracy "
                  f"{_f(best.mean)} ± {_f(best.std)} ({best.describe}). Refit it on all "
                  "training data, test once and save:", "", "```", export_command(search),
                  "```"]
    else:
        lines.append("No completed trial yet: nothing to export.")
    lines += ["", f"## All {len(search.trials)} trials", "", *all_table(search.trials)]
    lines += ["", "## Figures", ""]
    captions = {"history": "optimization history", "params": "hyperparameters vs score",
                "parallel": "parallel coordinates of the top trials",
                "curves": "learning curves of the best trials per fold"}
    lines += [f"![{captions[k]}]({p.name})\n" for k, p in figures.items()]
    if "curves" not in figures:
        lines.append("*Learning curves: the trial records hold no per-epoch history, so "
                     "there are none to draw (see docs/REPORT.md).*")
    if search.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in search.notes)]
    summary = (f"{b['trials_started']} trials ({b['completed']} completed, {b['pruned']} "
               f"pruned, {b['failed']} failed); best "
               + (f"trial {best.trial_id} {_f(best.mean)} ± {_f(best.std)}" if best else "none")
               + (f" (damaged: {b['damaged']} trial(s), see the report's notes)"
                  if b["damaged"] else ""))
    return SearchMarkdown(f"hpsearch report: {directory}", "\n".join(lines) + "\n",
                          list(figures.values()), tables, summary)
