"""Every tune-project file is untrusted: damaged each way, no command exits 0 with a result
that silently differs from the undamaged project's.

One real two-trial search is run once; each case copies it, damages one file one way
(truncated, empty, invalid JSON, valid JSON of the wrong shape, missing), then runs `report`,
`export --from` and `tune --resume` on it. A command either gives the undamaged answer, or
exits non-zero with one `error:` line naming the damaged file, or (resume) says what it
repaired and ends with the undamaged table.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

TUNE = ["--dataset", "fashion-mnist-sample", "-q", "-k", "2", "--epochs", "1", "--tuner",
        "random", "--max-trials", "2", "--no-prune", "--fix", "hidden=16", "--fix",
        "batch_size=512", "--fix", "optimizer=adam"]
HOW = ("truncated", "empty", "invalid JSON", "wrong shape", "missing")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    from hpsearch.cli import run

    directory = tmp_path_factory.mktemp("integrity") / "proj"
    assert run(["tune", "--directory", str(directory), *TUNE, "--seed", "3"]) == 0
    rows = list(csv.DictReader((directory / "results.csv").open()))
    best = next(r for r in rows if r["rank_val_accuracy"] == "1")
    assert len(rows) == 2 and all(r["status"] == "ok" for r in rows)
    return {"dir": directory, "best": best["trial_id"], "mean": float(best["mean_val_accuracy"]),
            "csv": (directory / "results.csv").read_text()}


def _damage(path: Path, how: str) -> None:
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "empty":
        path.write_text("")
    elif how == "invalid JSON":
        path.write_text("{this is not json" if path.suffix == ".json" else "\x00\xff\xfe")
    else:  # valid JSON of the wrong shape; for the CSV a table of the wrong shape
        path.write_text("[1, 2, 3]" if path.suffix == ".json" else "a,b\n1,2\n")


def _files(base: dict) -> dict[str, str]:
    best = base["best"]
    return {"record": f"trials/trial_{best}.json", "project": "project.json",
            "results.csv": "results.csv", "results.json": "results.json",
            "oracle": "kt/oracle.json", "kt trial": f"kt/trial_{best}/trial.json"}


def _one_error(err: str, name: str) -> None:
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and Path(name).name in errors[0], err
    assert "Traceback" not in err


CASES = [(kind, how) for kind in ("record", "project", "results.csv", "results.json", "oracle",
                                  "kt trial") for how in HOW]


@pytest.mark.parametrize("kind, how", CASES, ids=[f"{k}-{h}" for k, h in CASES])
def test_damaged_file_never_silently_changes_a_result(base, kind, how, tmp_path, cli):
    directory = tmp_path / "proj"
    shutil.copytree(base["dir"], directory)
    name = _files(base)[kind]
    _damage(directory / name, how)

    # report: the best is the undamaged best, or the report says it is damaged
    code, out, err = cli("report", str(directory), "--json")
    assert code == 0, err
    summary = json.loads(out)["summary"]
    assert f"best trial {base['best']} {base['mean']:.4f}" in summary, summary
    if kind == "record":
        assert "damaged" in summary
        markdown = (directory / "report.md").read_text()
        assert f"| {base['best']} | damaged |" in markdown and Path(name).name in markdown

    # export --from: the undamaged best, or refused naming the file
    out_dir = tmp_path / "export"
    if kind in ("record", "project") or how == "truncated":
        code, out, err = cli("export", "--from", str(directory), "--out", str(out_dir), "-q",
                             "--json")
    if kind in ("record", "project"):
        assert code == 2 and not out_dir.exists()
        _one_error(err, name)
        assert "--resume" in err
    elif how == "truncated":  # one real refit per file; the other ways pick the same trial
        assert code == 0, err
        card = json.loads(out)
        assert card["cv"]["trial_id"] == base["best"]
        assert card["cv"]["mean"] == pytest.approx(base["mean"])
    else:
        from hpsearch.search.best import best_from_project

        _, cv, _ = best_from_project(directory)
        assert (cv["trial_id"], cv["mean"]) == (base["best"], pytest.approx(base["mean"]))

    # tune --resume: repairs from the other copy and says so, or refuses changing nothing
    before = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
    code, out, err = cli("tune", "--directory", str(directory), *TUNE, "--seed", "3",
                         "--resume")
    if kind in ("oracle", "kt trial"):
        assert code == 2
        _one_error(err, name)
        after = {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}
        assert after == before
        return
    assert code == 0, err
    if kind in ("record", "project") or (how != "missing"):
        assert f"resume: repaired {directory / name}" in err or (
            f"resume: rebuilt {directory / name}" in err), err
    rows = list(csv.DictReader((directory / "results.csv").open()))
    original = list(csv.DictReader(base["csv"].splitlines()))
    keys = ("trial_id", "status", "rank_val_accuracy", "mean_val_accuracy",
            "split0_val_accuracy", "split1_val_accuracy", "config")
    assert [[r[k] for k in keys] for r in rows] == [[r[k] for k in keys] for r in original]


def test_skip_damaged_exports_the_best_intact_trial_and_says_so(base, tmp_path, cli):
    directory = tmp_path / "proj"
    shutil.copytree(base["dir"], directory)
    _damage(directory / _files(base)["record"], "truncated")
    code, out, err = cli("export", "--from", str(directory), "--out", str(tmp_path / "e"),
                         "-q", "--json", "--skip-damaged")
    assert code == 0, err
    card = json.loads(out)
    assert card["cv"]["trial_id"] != base["best"]
    assert card["cv"]["skipped_damaged"] == [base["best"]]
    assert f"warning: skipped damaged trial {base['best']}" in err
