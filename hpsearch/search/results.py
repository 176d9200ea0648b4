"""The results table of a tune project: `results.csv` and `results.json`, written and read.

One row per trial like scikit-learn's `cv_results_` (params, split scores, mean, std, rank,
times, status), rebuilt from the trial records after every trial. The table is also the other
copy of each record: when a record is damaged, its row still says what the trial held, so
`trials.Project.repair` can put it back and reports and `export --from` can name it. Read back,
the table is untrusted like every project file: `read_results` validates it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpsearch.fileio import Damage, kind_of, read_json
from hpsearch.stats import sample_std

if TYPE_CHECKING:
    from hpsearch.search.trial_record import TrialRecord

RESULTS_CSV, RESULTS_JSON = "results.csv", "results.json"
STATUSES = ("ok", "pruned", "failed", "running")
TEXT_CELLS = ("trial_id", "config", "describe", "reason", "status", "worker", "started",
              "finished")


def _nan_to_none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return float(np.mean(values)), sample_std(values)  # ddof 1, as every hpsearch table


def results_rows(records: list[TrialRecord], folds: int) -> list[dict[str, Any]]:
    """One row per trial, scikit-learn `cv_results_` style. Ranked: ok first, then pruned."""
    rows = []
    for rec in records:
        row: dict[str, Any] = {"trial_id": rec.trial_id, "status": rec.status,
                               "reason": rec.reason, "rank_val_accuracy": None}
        for key in ("val_accuracy", "val_loss"):
            mean, std = _mean_std(rec.scores(key))
            row[f"mean_{key}"], row[f"std_{key}"] = mean, std
            for i in range(folds):
                done = [f for f in rec.folds if f["fold"] == i]
                row[f"split{i}_{key}"] = done[0][key] if done else None
        for i in range(folds):
            done = [f for f in rec.folds if f["fold"] == i]
            row[f"split{i}_best_epoch"] = done[0]["best_epoch"] if done else None
        row["mean_best_epoch"] = _mean_std(rec.scores("best_epoch"))[0]
        row["mean_epochs_run"] = _mean_std(rec.scores("epochs_run"))[0]
        row["mean_fit_time"], row["std_fit_time"] = _mean_std(rec.scores("fit_time"))
        row["total_time"] = rec.wall_time
        row["n_folds_done"] = len(rec.folds)
        row["epochs_budget"] = rec.epochs_budget
        row["worker"] = rec.worker
        row["started"], row["finished"] = rec.started, rec.finished
        row["describe"] = _describe(rec.config)
        row["params"] = rec.params
        row["config"] = rec.config
        rows.append(row)
    return rank_rows(rows)


def trial_order(trial_id: str) -> tuple[int, str]:
    """Numeric ids in number order (`2` before `10`), anything else after them."""
    return (int(trial_id) if trial_id.isdigit() else 10**9, trial_id)


def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rank in place (completed by mean val accuracy, then pruned) and sort by trial id."""
    rows = sorted(rows, key=lambda r: trial_order(str(r["trial_id"])))
    for row in rows:
        row["rank_val_accuracy"] = None
    ranked = sorted((r for r in rows if r["status"] in ("ok", "pruned")
                     and isinstance(r.get("mean_val_accuracy"), int | float)),
                    key=lambda r: (r["status"] != "ok", -r["mean_val_accuracy"]))
    for rank, row in enumerate(ranked, start=1):
        row["rank_val_accuracy"] = rank
    return rows


def _describe(config: dict[str, Any]) -> str:
    from hpsearch.config import ModelConfig

    try:  # a trial's length is searched too: show it
        cfg = ModelConfig.from_dict(config)
        return f"{cfg.describe()}, {cfg.epochs} epochs"
    except Exception:  # an old record with a config we can no longer build: still list it
        return json.dumps(config)


def csv_columns(folds: int, rows: list[dict[str, Any]]) -> list[str]:
    splits = lambda key: [f"split{i}_{key}" for i in range(folds)]  # noqa: E731
    params = sorted({k for r in rows for k in r["params"]})
    return ["trial_id", "status", "reason", "rank_val_accuracy", "mean_val_accuracy",
            "std_val_accuracy", *splits("val_accuracy"), "mean_val_loss", "std_val_loss",
            *splits("val_loss"), *splits("best_epoch"), "mean_best_epoch", "mean_epochs_run",
            "mean_fit_time", "std_fit_time", "total_time", "n_folds_done", "epochs_budget",
            "worker", "started", "finished", "describe", *[f"param_{p}" for p in params],
            "config"]


def rows_to_csv(rows: list[dict[str, Any]], folds: int) -> str:
    columns = csv_columns(folds, rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {k: ("" if v is None else v) for k, v in row.items()}
        flat.update({f"param_{k}": v for k, v in row["params"].items()})
        flat["config"] = json.dumps(row["config"], sort_keys=True)
        writer.writerow(flat)
    return buffer.getvalue()


# ---------------------------------------------------------------- reading it back
def _number(text: str) -> Any:
    """CSV cells back to numbers where they are numbers."""
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _json_rows(path: Path) -> tuple[list[dict[str, Any]], str]:
    data, problem = read_json(path)
    if problem:
        return [], problem
    if not isinstance(data, dict) or not isinstance(data.get("trials"), list):
        return [], f"holds {kind_of(data)} without a list of trials (wrong shape)"
    bad = [r for r in data["trials"] if not isinstance(r, dict) or "trial_id" not in r
           or r.get("status") not in STATUSES]
    if bad:
        return [], f"{len(bad)} of {len(data['trials'])} rows are not trial rows (wrong shape)"
    return [_normal(r) for r in data["trials"]], ""


def _csv_rows(path: Path) -> tuple[list[dict[str, Any]], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], "missing"
    except (OSError, UnicodeDecodeError) as exc:
        return [], f"cannot be read ({exc})"
    if not text.strip():
        return [], "empty"
    table = list(csv.reader(io.StringIO(text)))
    header = table[0]
    if "trial_id" not in header or "status" not in header:
        return [], "has no trial_id/status header (wrong shape)"
    ragged = [i for i, cells in enumerate(table[1:], start=2) if len(cells) != len(header)]
    if ragged or not text.endswith("\n"):
        return [], f"truncated (row {ragged[0] if ragged else len(table)} is incomplete)"
    rows = [{k: (v if k in TEXT_CELLS else _number(v)) for k, v in zip(header, cells,
                                                                       strict=True)}
            for cells in table[1:]]
    if any(r["status"] not in STATUSES for r in rows):
        return [], "has rows whose status is not a trial status (wrong shape)"
    return [_normal(r) for r in rows], ""


def _normal(row: dict[str, Any]) -> dict[str, Any]:
    """A row from either file with `params` and `config` as tables and an id as text."""
    row = dict(row)
    row["trial_id"] = str(row["trial_id"])
    params = row.get("params")
    if not isinstance(params, dict):
        params = {k[6:]: _number(v) if isinstance(v, str) else v for k, v in row.items()
                  if k.startswith("param_") and v not in (None, "")}
    row["params"] = params
    config = row.get("config")
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            config = None
    row["config"] = config if isinstance(config, dict) else {}
    return row


def read_results(directory: Path) -> tuple[list[dict[str, Any]], str, list[Damage]]:
    """The table's rows from results.json, else results.csv, each validated.

    Args:
        directory: the tune project.

    Returns:
        (rows, the file they came from or "", the tables that exist but are damaged).

    Example:
        >>> rows, source, damaged = read_results(Path("tune-project"))  # doctest: +SKIP
    """
    found: list[tuple[list[dict[str, Any]], str]] = []
    damaged = []
    for name, reader in ((RESULTS_JSON, _json_rows), (RESULTS_CSV, _csv_rows)):
        rows, problem = reader(directory / name)
        if problem and problem != "missing":
            damaged.append(Damage(directory / name, problem))
        elif not problem:
            found.append((rows, name))
    rows, source = found[0] if found else ([], "")
    return rows, source, damaged


def describe_row(row: dict[str, Any], source: str) -> str:
    """What the table still says about a trial, for a message about its damaged record."""
    text = f"{source} lists trial {row['trial_id']} as {row.get('status')}"
    mean = row.get("mean_val_accuracy")
    if isinstance(mean, int | float):
        text += f", mean val accuracy {mean:.4f} over {row.get('n_folds_done')} folds"
    if row.get("rank_val_accuracy"):
        text += f" (rank {row['rank_val_accuracy']})"
    return text


def record_from_row(row: dict[str, Any], folds: int) -> dict[str, Any]:
    """A trial record (as a dict) rebuilt from its table row: scores, best epochs, params and
    config survive; per-epoch histories and per-fold times do not."""
    fold_rows = []
    for i in range(max(folds, max_split(row))):
        if not isinstance(row.get(f"split{i}_val_accuracy"), int | float):
            continue
        fold_rows.append({"fold": i, "val_accuracy": row[f"split{i}_val_accuracy"],
                          "val_loss": row.get(f"split{i}_val_loss"),
                          "best_epoch": row.get(f"split{i}_best_epoch"),
                          "epochs_run": row.get("mean_epochs_run"),
                          "fit_time": row.get("mean_fit_time"), "history": {}})
    return {"trial_id": row["trial_id"], "params": row.get("params") or {},
            "config": row.get("config") or {}, "status": row.get("status") or "running",
            "reason": row.get("reason") or "", "folds": fold_rows,
            "started": row.get("started") or "", "finished": row.get("finished") or "",
            "wall_time": float(row.get("total_time") or 0.0), "worker": row.get("worker") or "",
            "epochs_budget": int(row.get("epochs_budget") or 0)}


def max_split(row: dict[str, Any]) -> int:
    """How many folds a row has split columns for (`split1_val_accuracy` -> 2)."""
    found = [int(m[1]) for k in row if (m := re.match(r"split(\d+)_val_accuracy$", k))]
    return max(found) + 1 if found else 0
