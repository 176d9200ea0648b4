"""What the live dashboard shows, read fresh from a tune project or a study directory.

Reads only through the formats' own readers (``report_trials.read_search_report`` and
``report_search.budget`` for tune projects, ``study_store`` for studies), which already
tolerate a search that is running, killed or resumed: a half-written file is left out with a
note, never an error. Each call re-reads the files, so any number of browsers (and a ``tune``
resuming in another process) see the same truth.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from hpsearch.reports.writer import SEARCH, detect

CURVE_TRIALS = 4  # learning curves shown: the running trials, else the latest finished


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None (the page shows a dash)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _last_write(paths: list[Path]) -> float | None:
    times = []
    for path in paths:
        try:
            times.append(path.stat().st_mtime)
        except OSError:
            pass
    return max(times) if times else None


def _eta(done: int, planned: int | None, seconds: float | None) -> float | None:
    """Remaining seconds at the pace so far (None when unknown or finished)."""
    if not planned or not done or seconds is None or done >= planned:
        return None
    return seconds / done * (planned - done)


def search_snapshot(directory: Path) -> dict[str, Any]:
    """A tune project now: progress + ETA, best so far, trials, history, learning curves.

    Example:
        >>> search_snapshot(Path("tune-project"))["kind"]  # doctest: +SKIP
        'search'
    """
    from hpsearch.reports.search import budget
    from hpsearch.reports.trials import read_search_report

    search = read_search_report(directory)
    spent = budget(search)
    finished = spent["completed"] + spent["pruned"] + spent["failed"]
    planned = spent["trials_planned"]
    folds_done, folds_planned = spent["folds_done"], spent["folds_planned"]
    running = [t for t in search.trials if t.status == "running"]
    trials = [{"trial_id": t.trial_id, "status": t.status, "mean": t.mean, "std": t.std,
               "rank": t.rank, "folds": t.scores(), "epochs": t.epochs,
               "describe": t.describe or ", ".join(f"{k}={v}" for k, v in t.params.items()),
               "started": t.started, "finished": t.finished, "wall_time": t.wall_time,
               "reason": t.reason} for t in search.trials]
    ranked = search.ranked()
    best = next((t for t in trials if ranked and t["trial_id"] == ranked[0].trial_id
                 and ranked[0].status == "ok"), None)
    shown = running or [t for t in search.trials if t.folds][-CURVE_TRIALS:]
    curves = [{"trial_id": t.trial_id, "status": t.status, "fold": f.get("fold"),
               "history": {k: v for k, v in (f.get("history") or {}).items()
                           if k in ("loss", "val_loss", "accuracy", "val_accuracy")}}
              for t in shown[-CURVE_TRIALS:] for f in t.folds if f.get("history")]
    files = list((directory / "trials").glob("trial_*.json"))
    last = _last_write(files + [directory / "results.json"])
    wall = spent["wall_seconds"]
    return _clean({
        "kind": "search", "directory": str(directory), "title": f"Search: {directory.name}",
        "settings": {k: spent.get(k) for k in ("tuner", "dataset", "seed", "folds_per_trial",
                                                "workers", "source")},
        "progress": {"done": finished, "planned": planned, "running": len(running),
                     "folds_done": folds_done, "folds_planned": folds_planned,
                     "fraction": (folds_done / folds_planned) if folds_planned else None,
                     "wall_seconds": wall,
                     "eta_seconds": _eta(folds_done, folds_planned, wall)
                     if running or finished < (planned or 0) else None,
                     "complete": bool(planned) and finished >= planned},
        "best": best, "trials": trials, "curves": curves, "notes": search.notes,
        "metric": "CV val accuracy", "last_write": last,
        "now": time.time(),
    })


def study_snapshot(directory: Path) -> dict[str, Any]:
    """A study now: runs finished of planned + ETA, best variant so far, runs, curves."""
    from hpsearch.studies.store import load_run, read_study

    meta = read_study(directory)
    metric = meta.get("primary_metric") or "val_accuracy"
    variants, seeds = meta.get("variants") or [], meta.get("seeds") or []
    runs = []
    for seed in seeds:
        for variant in variants:
            record = load_run(directory, variant["name"], seed)
            if record is not None:
                runs.append(record)
    rows, by_seed = [], {}
    for variant in variants:
        done = [r for r in runs if r["variant"] == variant["name"]]
        by_seed[variant["name"]] = {r["seed"]: s for r in done
                                    if (s := _run_score(r, metric)) is not None}
        scores = list(by_seed[variant["name"]].values())
        rows.append({"trial_id": variant["name"], "status": "ok" if len(done) == len(seeds)
                     else ("running" if done else "waiting"),
                     "mean": sum(scores) / len(scores) if scores else None,
                     "std": _std(scores), "folds": scores, "epochs": None,
                     "describe": variant.get("description", ""), "rank": None,
                     "runs": f"{len(done)}/{len(seeds)}"})
    ranked = sorted((r for r in rows if r["mean"] is not None), key=lambda r: -r["mean"])
    for rank, row in enumerate(ranked, start=1):
        row["rank"] = rank
    history = [{"trial_id": f"{r['variant']} s{r['seed']}", "status": r.get("status"),
                "mean": _run_score(r, metric)} for r in runs]
    curves = [{"trial_id": f"{r['variant']} s{r['seed']}", "status": "ok",
               "fold": f.get("fold"), "history": f.get("history") or {}}
              for r in runs[-CURVE_TRIALS:] for f in r.get("folds", []) if f.get("history")]
    wall = sum(float(r.get("wall_time_s") or 0) for r in runs)
    planned = len(variants) * len(seeds)
    files = list((directory / "runs").glob("*.json"))
    return _clean({
        "kind": "study", "directory": str(directory),
        "title": f"Study: {meta.get('study', directory.name)}",
        "settings": {"study": meta.get("study"), "field": meta.get("field"),
                     "seeds": len(seeds), "epochs": meta.get("epochs"),
                     "dataset": (meta.get("dataset") or {}).get("name")},
        "question": meta.get("question"),
        "progress": {"done": len(runs), "planned": planned, "running": 0,
                     "folds_done": len(runs), "folds_planned": planned,
                     "fraction": len(runs) / planned if planned else None,
                     "wall_seconds": wall, "eta_seconds": _eta(len(runs), planned, wall),
                     "complete": bool(planned) and len(runs) >= planned},
        "best": _study_leader(ranked, by_seed), "trials": rows, "history": history,
        "curves": curves, "notes": [], "metric": metric.replace("_", " "),
        "last_write": _last_write(files), "now": time.time(),
    })


def _run_score(record: dict[str, Any], metric: str) -> float | None:
    if metric == "test_accuracy":
        return record.get("test_accuracy")
    values = [f[metric] for f in record.get("folds", []) if f.get(metric) is not None]
    return sum(values) / len(values) if values else None


def _std(values: list[float]) -> float | None:
    """The sample std (ddof=1) every other hpsearch output shows; None below two values."""
    from hpsearch.stats import sample_std

    return sample_std(values) if len(values) >= 2 else None


def _study_leader(ranked: list[dict[str, Any]], scores: dict[str, dict[int, float]]
                  ) -> dict[str, Any] | None:
    """The top mean so far, with its paired interval against the runner-up over shared seeds.

    Why: the top mean alone crowns a winner inside the noise; the study's own verdict names a
    best only when this interval excludes 0, so the dashboard says the same. `ranked` is the
    snapshot's own ranking (variants with a mean, best first), not sorted again here.
    """
    from hpsearch.stats import paired_interval

    if not ranked:
        return None
    leader = dict(ranked[0])
    if len(ranked) < 2:
        leader["lead"], leader["clear"] = "no other variant scored yet", False
        return leader
    runner = ranked[1]["trial_id"]
    a, b = scores[leader["trial_id"]], scores[runner]
    seeds = sorted(set(a) & set(b))
    lead = paired_interval([a[s] for s in seeds], [b[s] for s in seeds])
    leader["clear"] = lead.excludes_zero
    verdict = "ahead" if lead.excludes_zero else "inside the noise"
    leader["lead"] = f"top mean; vs {runner}: {lead} over {len(seeds)} seeds, {verdict}"
    return leader


def snapshot(directory: Path) -> dict[str, Any]:
    """The dashboard's data for ``directory``, whichever kind it is (ProjectError if neither).

    Args:
        directory: a ``hpsearch tune`` --directory or a ``hpsearch study`` --out.

    Returns:
        A JSON-ready dict: ``kind``, ``title``, ``progress`` (done, planned, fraction,
        eta_seconds), ``best``, ``trials`` (table rows), ``curves`` and ``notes``.

    Example:
        >>> snapshot(Path("runs/t1"))["progress"]["planned"]  # doctest: +SKIP
        30
    """
    return search_snapshot(directory) if detect(directory) == SEARCH \
        else study_snapshot(directory)
