"""Turn a study directory into summary.csv, verdict.json, figures and summary.md.

Everything is rebuilt from the files on disk (study.json, results.csv, curves.csv), so a
resumed or copied study reports exactly what its runs measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from hpsearch.fileio import atomic_write_json, atomic_write_text
from hpsearch.reports.study_figures import draw_all
from hpsearch.stats import SD_LABEL, PairedTest, mean_std
from hpsearch.studies.store import (
    CURVES_FILE,
    RESULTS_FILE,
    read_csv,
    read_study,
    to_csv,
)
from hpsearch.studies.timing import TIMING_COLUMNS, read_timing, timing_scores
from hpsearch.studies.verdict import Verdict, collect, decide, study_test

SUMMARY_FILE = "summary.csv"
VERDICT_FILE = "verdict.json"
MARKDOWN_FILE = "summary.md"
CARD_PATH = Path("export") / "model_card.json"
STAT_METRICS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss",
                "test_accuracy", "steady_time_s", "fit_time_s")
DIFF_METRICS = ("test_accuracy", "test_loss", "val_accuracy", "val_loss", "steady_time_s")
SUMMARY_COLUMNS = (
    "study", "variant", "value", "is_base", "description", "n", "n_failed",
    *(f"{m}_{s}" for m in STAT_METRICS for s in ("mean", "std")),
    *(f"{m}_{s}" for m in DIFF_METRICS for s in ("diff", "diff_low", "diff_high", "vs_base")),
    *(f"{m}_test" for m in DIFF_METRICS),  # appended: the test behind each diff interval
    # appended: seconds per steady epoch from the interleaved timing repeats (timing.csv)
    "epoch_time_s_mean", "epoch_time_s_std", "epoch_time_s_n", "epoch_time_s_diff",
    "epoch_time_s_diff_low", "epoch_time_s_diff_high", "epoch_time_s_vs_base", "epoch_time_s_test",
)


@dataclass(frozen=True)
class StudyRead:
    """A study directory's files, read once: everything a report of it needs.

    A report is built from this value, never by reading study.json again: one command reads
    each study.json once (tests/test_study_reads.py counts the reads).
    """

    out: Path
    meta: dict[str, Any]
    rows: list[dict[str, str]]
    curves: list[dict[str, str]]
    timing: list[dict[str, str]]

    @classmethod
    def of(cls, out: Path, meta: dict[str, Any] | None = None) -> StudyRead:
        """Read `out`; pass `meta` when the caller already holds its study.json."""
        results, curves = out / RESULTS_FILE, out / CURVES_FILE
        return cls(out, read_study(out) if meta is None else meta,
                   read_csv(results) if results.is_file() else [],
                   read_csv(curves) if curves.is_file() else [], read_timing(out))

    @cached_property
    def summary(self) -> list[dict[str, Any]]:
        return summary_rows(self.meta, self.rows, self.timing)

    @cached_property
    def verdict(self) -> dict[str, Verdict]:
        return verdicts(self.meta, self.rows, self.timing)


def primary_metrics(meta: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Role -> (column, higher is better): what the verdicts judge."""
    split = "val" if meta["protocol"]["kind"] == "kfold" else "test"
    return {"accuracy": (f"{split}_accuracy", True), "loss": (f"{split}_loss", False),
            "time": ("steady_time_s", False)}


def _decide(meta: dict[str, Any], rows: list[dict[str, str]], metric: str,
            higher: bool) -> Verdict:
    """The verdict on `metric` with the test the study's protocol calls for; accuracies get
    the binomial variance floor of the images they were measured on (`stats.binomial_floor`)."""
    test = study_test(meta["protocol"], len(meta["seeds"]))
    if metric.endswith("_accuracy"):
        test = test.accuracies_on(accuracy_examples(meta, metric))
    return decide(collect(rows, metric), meta["reference"], metric, higher, test)


def accuracy_examples(meta: dict[str, Any], metric: str) -> int:
    """Images behind one accuracy of `metric`: the test set, or one validation fold; 0 unknown."""
    data = meta.get("dataset") or {}
    if metric.startswith("test_"):
        return int(data.get("n_test") or 0)
    folds = int(meta["protocol"].get("folds") or 0)
    n_train = int(data.get("n_train") or 0)
    return n_train // folds if metric.startswith("val_") and folds > 1 else 0


def timing_verdict(meta: dict[str, Any], timing: list[dict[str, Any]]) -> Verdict:
    """The time verdict from the interleaved timing repeats: seconds per steady epoch, paired
    by round (every variant timed with the same seed in a round), plain paired t (the rounds
    are independent fits), Holm-adjusted."""
    return decide(timing_scores(timing), meta["reference"], "epoch_time_s", False,
                  PairedTest.plain())


def summary_rows(meta: dict[str, Any], rows: list[dict[str, str]],
                 timing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One row per variant: mean/sd (n-1) of every metric and the paired difference to the base
    (the same Holm-adjusted comparisons as the verdicts); with `timing`, the seconds per
    steady epoch of the timing repeats and their paired difference to the base."""
    versus = {m: {c.variant: c for c in _decide(meta, rows, m,
                                                 not m.endswith(("loss", "time_s"))).comparisons}
              for m in DIFF_METRICS}
    if timing:
        versus["epoch_time_s"] = {c.variant: c for c in timing_verdict(meta, timing).comparisons}
        per_variant = timing_scores(timing)
    summary = []
    for variant in meta["variants"]:
        name = variant["name"]
        mine = [r for r in rows if r["variant"] == name]
        ok = [r for r in mine if r["status"] == "ok"]
        failed_runs = {r["seed"] for r in mine if r["status"] != "ok"}
        row: dict[str, Any] = {"study": meta["study"], "variant": name, "value": variant["value"],
                               "is_base": variant["is_base"],
                               "description": variant["description"], "n": len(ok),
                               "n_failed": len(failed_runs)}
        for metric in STAT_METRICS:
            values = [float(r[metric]) for r in ok if r.get(metric) not in (None, "")]
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean_std(values) if values else (None,
                                                                                          None)
        if timing:
            seconds = list(per_variant.get(name, {}).values())
            row["epoch_time_s_mean"], row["epoch_time_s_std"] = (
                mean_std(seconds) if seconds else (None, None))
            row["epoch_time_s_n"] = len(seconds)
        for metric in versus:
            comparison = versus[metric].get(name)
            if comparison is None or comparison.interval.n == 0:
                continue
            interval = comparison.interval
            row |= {f"{metric}_diff": interval.mean, f"{metric}_diff_low": _finite(interval.low),
                    f"{metric}_diff_high": _finite(interval.high),
                    f"{metric}_vs_base": comparison.outcome, f"{metric}_test": interval.method}
        summary.append(row)
    return summary


def verdicts(meta: dict[str, Any], rows: list[dict[str, str]],
             timing: list[dict[str, Any]] | None = None) -> dict[str, Verdict]:
    """Accuracy, loss and time verdicts. Time comes from the timing repeats when the study
    has them; older studies (no timing.csv) fall back to the runs' shared tower times."""
    out = {role: _decide(meta, rows, column, higher)
           for role, (column, higher) in primary_metrics(meta).items()}
    if timing:
        out["time"] = timing_verdict(meta, timing)
    return out


def _finite(value: float) -> float | None:
    """JSON and CSV have no infinity: a one-pair interval is written as empty bounds."""
    return value if math.isfinite(value) else None


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    lead = verdict.lead
    return {"metric": verdict.metric, "higher_is_better": verdict.higher_is_better,
            "test": verdict.test.name, "leader": verdict.leader,
            "runner_up": verdict.runner_up, "best": verdict.best,
            "lead": None if lead is None else lead.to_dict(),
            "vs_leader": {n: iv.to_dict() for n, iv in verdict.ranking.versus.items()},
            "vs_base": {c.variant: c.interval.to_dict() | {"outcome": c.outcome}
                        for c in verdict.comparisons},
            "text": verdict.text()}


def _f(value: Any, digits: int = 4) -> str:
    return "–" if value in (None, "") else f"{float(value):.{digits}f}"


def _pm(row: dict[str, Any], metric: str, digits: int = 4) -> str:
    if row.get(f"{metric}_mean") is None:
        return "–"
    return f"{_f(row[f'{metric}_mean'], digits)} ± {_f(row[f'{metric}_std'], digits)}"


def _diff(row: dict[str, Any], metric: str) -> str:
    if row.get(f"{metric}_diff") is None:
        return "base" if row["is_base"] else "–"
    mark = {"better": " ✔", "worse": " ✘"}.get(row[f"{metric}_vs_base"], "")
    if row.get(f"{metric}_diff_low") is None:
        return f"{row[f'{metric}_diff']:+.4f} (one pair: no interval)"
    return (f"{row[f'{metric}_diff']:+.4f} [{row[f'{metric}_diff_low']:+.4f}, "
            f"{row[f'{metric}_diff_high']:+.4f}]{mark}")


def markdown_table(meta: dict[str, Any], summary: list[dict[str, Any]]) -> list[str]:
    kfold = meta["protocol"]["kind"] == "kfold"
    held = "CV" if kfold else "test"
    split = "val" if kfold else "test"
    timed = any(row.get("epoch_time_s_mean") is not None for row in summary)
    time_metric, time_head = (("epoch_time_s", "s/epoch (timing)") if timed
                              else ("steady_time_s", "time (s)"))
    lines = [f"| variant | train loss | train acc | {held} loss | {held} acc | {time_head} | "
             f"Δ {held} acc vs base [interval] | n |", "|" + "---|" * 8]
    for row in summary:
        name = f"**{row['variant']}** (base)" if row["is_base"] else row["variant"]
        failed = f" ({row['n_failed']} failed)" if row["n_failed"] else ""
        lines.append(f"| {name} | {_pm(row, 'train_loss')} | {_pm(row, 'train_accuracy')} | "
                     f"{_pm(row, f'{split}_loss')} | {_pm(row, f'{split}_accuracy')} | "
                     f"{_pm(row, time_metric, 3)} | {_diff(row, f'{split}_accuracy')} | "
                     f"{row['n']}{failed} |")
    return lines


def _setup(meta: dict[str, Any], timed: bool = False) -> str:
    base = next(v for v in meta["variants"] if v["is_base"])
    seeds = meta["seeds"]
    data = meta["dataset"]
    protocol = meta["protocol"]
    if protocol["kind"] == "kfold":
        how = (f"{protocol['folds']}-fold stratified CV on the {data['n_train']} training "
               "images (a fresh model per fold; the test set is not touched). Pairs are "
               "(seed, fold); folds of one seed share training data, so the intervals use the "
               f"corrected t with n_test/n_train = 1/{protocol['folds'] - 1} "
               "(Nadeau-Bengio; Bouckaert-Frank over seeds × folds)")
        varied = f"presets {', '.join(v['name'] for v in meta['variants'])}"
    else:
        how = (f"each run trains on {1 - protocol['validation_fraction']:.0%} of the "
               f"{data['n_train']} training images ({protocol['validation_fraction']:.0%} "
               f"held out for validation curves) and is tested once on the {data['n_test']} "
               "test images; the seeds are independent repeats, so the plain paired t "
               "applies")
        values = ", ".join(v["value"] + (" (base)" if v["is_base"] else "")
                           for v in meta["variants"])
        varied = f"`{meta['field']}` ∈ {{{values}}}; every other field is fixed"
    return (f"Base `{meta['base_source']}`: {base['description']}, {meta['epochs']} epochs. "
            f"Varied: {varied}. Data: `{data['name']}`; {how}. {len(seeds)} repeat(s) with "
            f"seeds {', '.join(map(str, seeds))}, the same for every variant (paired: same "
            "split, initial weights and shuffling). "
            + ("Time: the timing repeats below the table, on " if timed else
               "Time = each run's share of its variant's tower fit without the first epoch's "
               "warm-up (one measurement per variant), on ")
            + f"{meta.get('threads', {}).get('cpu_count', '?')} CPU(s). Tables: {SD_LABEL} over "
            "seeds" + (" and folds." if protocol["kind"] == "kfold" else ".")
            + (" With a single epoch the time cannot exclude the warm-up."
               if meta["epochs"] == 1 and not timed else ""))


def _lab_note(meta: dict[str, Any]) -> list[str]:
    reported = meta.get("lab_reported") or {}
    if not reported:
        return []
    items = "; ".join(f"{k}: {v}" for k, v in reported.items())
    caveat = ("" if meta["dataset"]["name"] == "fashion-mnist" else
              f" Not comparable in level: those used all 60,000 images, this run "
              f"`{meta['dataset']['name']}`.")
    return ["", f"*The lab ({meta['lab_task']}) reported from one run each:* {items}.{caveat}"]


def shared_times(rows: list[dict[str, str]]) -> dict[str, float] | None:
    """Variant -> seconds per run when each variant's runs share one measured time.

    A variant's repeats train together as towers of one model, so each run's time is the
    variant's time divided by its runs: one measurement per variant, nothing to pair.
    None when the runs were timed one by one (their times differ)."""
    times: dict[str, set[float]] = {}
    for row in rows:
        if row.get("status") == "ok" and row.get("steady_time_s") not in (None, ""):
            times.setdefault(str(row["variant"]), set()).add(round(float(row["steady_time_s"]),
                                                                   9))
    if not times or any(len(v) != 1 for v in times.values()):
        return None
    return {name: next(iter(v)) for name, v in times.items()}


def _answers(verdict: dict[str, Verdict], rows: list[dict[str, str]] | None = None) -> list[str]:
    acc, time = verdict["accuracy"], verdict["time"]
    shared = None if time.metric == "epoch_time_s" else shared_times(rows or [])
    time_line = f"- **Time:** {time.text()}"
    if shared:
        per_run = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in shared.items())
        time_line = (f"- **Time:** each variant's runs train together as towers of one model, "
                     f"so a run's time is its variant's share: one measurement per variant, "
                     f"no interval (a difference can be trusted only when it is large). Per "
                     f"run: {per_run}.")
    lines = [f"- **Accuracy:** {acc.text()}", f"- **Loss:** {verdict['loss'].text()}",
             time_line]
    if shared and acc.best:
        quickest = min(shared, key=shared.get)
        lines.append(f"- The most accurate is {acc.best}; {quickest} took the least time in "
                     "its one shared measurement, which names no fastest variant (no repeats, "
                     "no interval).")
    elif acc.best and time.best:
        same = "is also" if acc.best == time.best else "is not"
        lines.append(f"- The fastest ({time.best}) {same} the most accurate ({acc.best}).")
    else:
        lines.append(f"- Fastest on average: {time.leader}; most accurate on average: "
                     f"{acc.leader} (" + ("clear" if acc.best else "not separable from "
                                          f"{acc.runner_up}") + " on accuracy, " +
                     ("clear" if time.best else "not separable") + " on time).")
    return lines


def _refit(out: Path) -> list[str]:
    from hpsearch.training.export import read_card

    card = read_card((out / CARD_PATH).parent)
    if card is None:
        return []
    return ["", "## Refit and test (lab Task 3)", "",
            f"Selected **{card['source'].split(': ')[-1]}** and refit it on all "
            f"{card['dataset']['n_train']} training images for {card['train']['epochs']} "
            f"epochs (seed {card['seed']}), then tested once: **test accuracy "
            f"{_f(card['test']['accuracy'])}**, test loss {_f(card['test']['loss'])} (train "
            f"accuracy {_f(card['train']['accuracy'])}). Exported to `export/model.keras` "
            "with `export/model_card.json`."]


def _timing_note(meta: dict[str, Any], timing: list[dict[str, Any]]) -> list[str]:
    """How the s/epoch column was measured (nothing for a study without timing repeats)."""
    if not timing:
        return []
    rounds = len({int(r["repeat"]) for r in timing})
    steady = min(int(r["steady_epochs"]) for r in timing)
    return ["", f"s/epoch: seconds per steady epoch of one model (k = 1), measured after the "
            f"accuracy runs in {rounds} interleaved rounds (A B C A B C ...; round r uses the "
            f"same seed for every variant), {steady} epoch(s) each after a warm-up epoch; "
            f"{SD_LABEL} over rounds; the time verdict is a paired t over rounds "
            f"({', '.join(TIMING_COLUMNS)} in timing.csv)."]


def _marks(verdict: Verdict) -> str:
    """The legend under the table: which test and level the ✔/✘ marks come from."""
    method = (verdict.comparisons[0].interval.method if verdict.comparisons
              else verdict.test.name)
    return (f"Cells: {SD_LABEL}. Δ: mean paired difference to the base with its interval "
            f"({method}; 95 % family-wise). ✔/✘: the interval excludes 0 (better/worse than "
            "the base); no mark: inside the noise.")


def markdown_section(study: StudyRead, prefix: str = "", level: int = 1) -> str:
    """The study as markdown; `prefix` is prepended to figure paths (for `study all`)."""
    out, meta, rows, timing = study.out, study.meta, study.rows, study.timing
    summary, verdict = study.summary, study.verdict
    hashes = "#" * level
    title = f"{hashes} Study `{meta['study']}`" + (f" (lab {meta['lab_task']})"
                                                   if meta.get("lab_task") else "")
    anchor = f'<a id="study-{meta["study"]}"></a>'
    lines = [anchor, "", title, "", f"> {meta['question']}", "", _setup(meta, bool(timing)), "",
             *markdown_table(meta, summary), "", _marks(verdict["accuracy"]),
             *_timing_note(meta, timing), "",
             f"{hashes}# Verdict", "", *_answers(verdict, rows), *_lab_note(meta)]
    lines += [line.replace("## ", hashes + "# ", 1) if line.startswith("## ") else line
              for line in _refit(out)]
    lines += ["", f"{hashes}# Figures", ""]
    for name, alt in (("accuracy.png", "accuracy"), ("loss.png", "loss"),
                      ("time.png", "training time"), ("curves.png", "learning curves")):
        if (out / name).is_file():
            lines.append(f"![{alt}]({prefix}{name})")
    return "\n".join(lines) + "\n"


def write_report(study: StudyRead | Path) -> dict[str, Any]:
    """Write summary.csv, verdict.json, the PNGs and summary.md; return a JSON-able digest
    (its "headline" is the accuracy verdict's one line, for callers that show it).

    Args:
        study: the study as read (`StudyRead.of`), or its directory (read here, once).
    """
    study = study if isinstance(study, StudyRead) else StudyRead.of(study)
    out, meta, summary = study.out, study.meta, study.summary
    atomic_write_text(out / SUMMARY_FILE, to_csv(SUMMARY_COLUMNS, summary))
    built = study.verdict  # built once: written below, rendered and returned as values
    verdict = {role: verdict_json(v) for role, v in built.items()}
    atomic_write_json(out / VERDICT_FILE, verdict)
    draw_all(out, study.rows, study.curves, [v["name"] for v in meta["variants"]],
             meta["protocol"]["kind"] == "kfold", study.timing)
    atomic_write_text(out / MARKDOWN_FILE, markdown_section(study))
    return {"study": meta["study"], "out": str(out), "summary": summary, "verdict": verdict,
            "headline": built["accuracy"].headline()}
