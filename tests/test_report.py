"""`hpsearch report`: finished, interrupted and running searches, studies, the lab report, the
self-contained HTML (rendered in headless Chromium when installed) and one-line errors.

Fixtures are written with the tune and study sides' own writers (`trials.Project`,
`study_store`), so the files have exactly their format, without training (fast tests).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from web_support import BROWSER_MISSING

from hpsearch.errors import ProjectError
from hpsearch.reports.writer import detect, write_report

FOLDS = 2
PARAMS = [  # trial id -> (status, params, per-fold val accuracy)
    ("0", "ok", {"layers": 2, "activation": "relu", "learning_rate": 1e-3, "units_0": 256,
                 "units_1": 256}, [0.81, 0.83]),
    ("1", "ok", {"layers": 1, "activation": "tanh", "learning_rate": 3e-3, "units_0": 64},
     [0.78, 0.80]),
    ("2", "pruned", {"layers": 3, "activation": "elu", "learning_rate": 2e-2, "units_0": 32,
                     "units_1": 32, "units_2": 32}, [0.41]),
    ("3", "failed", {"layers": 1, "activation": "sigmoid", "learning_rate": 3e-2,
                     "units_0": 512}, []),
    ("4", "ok", {"layers": 2, "activation": "gelu", "learning_rate": 5e-4, "units_0": 128,
                 "units_1": 64}, [0.79, 0.77]),
]
SPACE = {"knobs": {"layers": {"name": "layers", "min": 1, "max": 4},
                   "units": {"name": "units", "min": 32, "max": 512, "sampling": "log"},
                   "activation": {"name": "activation",
                                  "values": ["relu", "elu", "gelu", "tanh", "sigmoid"]},
                   "learning_rate": {"name": "learning_rate", "min": 1e-4, "max": 3e-2,
                                     "sampling": "log"}}}


def _config(params: dict) -> dict:
    hidden = [params[f"units_{i}"] for i in range(params["layers"])]
    return {"hidden": hidden, "activation": params["activation"], "optimizer": "adam",
            "learning_rate": params["learning_rate"], "batch_size": 128, "epochs": 3}


def _fold(i: int, acc: float, history: bool) -> dict:
    fold = {"fold": i, "val_accuracy": acc, "val_loss": 1.5 - acc, "train_accuracy": acc + .02,
            "train_loss": 1.4 - acc, "best_epoch": 3, "epochs_run": 3, "fit_time": 2.0,
            "init_digest": f"d{i}"}
    if history:  # what the report draws when the tune side keeps per-epoch curves
        fold["history"] = {"accuracy": [acc - .2, acc - .05, acc + .02],
                           "val_accuracy": [acc - .15, acc - .03, acc],
                           "loss": [1.2, .8, 1.4 - acc], "val_loss": [1.1, .9, 1.5 - acc]}
    return fold


def make_search(directory: Path, upto: int = len(PARAMS), running: bool = False,
                max_trials: int = 5) -> Path:
    """A tune project with trials 0..upto-1 (and optionally a running trial with one fold)."""
    from hpsearch.search.project import Project, TrialRecord

    project = Project(directory)
    meta = {"fingerprint": "f", "tuner": "random", "folds": FOLDS, "seed": 0, "prune": True,
            "dataset": "fashion-mnist-sample", "data_dir": None, "max_trials": max_trials,
            "space": SPACE}
    meta = project.open(meta, resume=False, overwrite=False)
    for n, (trial_id, status, params, scores) in enumerate(PARAMS[:upto]):
        record = TrialRecord(trial_id, params, _config(params), status=status,
                             reason="loss became NaN" if status == "failed" else "",
                             folds=[_fold(i, s, history=n == 0) for i, s in enumerate(scores)],
                             started=f"2026-01-01T00:0{n}:00+00:00",
                             finished=f"2026-01-01T00:0{n}:50+00:00", wall_time=50.0,
                             worker="tuner0", epochs_budget=3)
        project.write_record(record)
    project.write_results(FOLDS, meta)
    if running:  # written after results.json: only the trial files know about it
        params = {"layers": 1, "activation": "relu", "learning_rate": 1e-3, "units_0": 99}
        project.write_record(TrialRecord("9", params, _config(params),
                                         folds=[_fold(0, 0.7, False)], worker="tuner0",
                                         started="2026-01-01T00:09:00+00:00",
                                         epochs_budget=3))
    return directory


STUDY_META = {
    "study": "optimizer", "question": "Which optimizer trains fastest?", "lab_task": "Task 5",
    "field": "optimizer", "base_source": "model1", "reference": "sgd",
    "primary_metric": "test_accuracy",
    "variants": [{"name": "sgd", "value": "sgd", "is_base": True, "description": "[32] sgd"},
                 {"name": "adam", "value": "adam", "is_base": False,
                  "description": "[32] adam"}],
    "seeds": [0, 1], "repeats": 2, "epochs": 2,
    "protocol": {"kind": "train_test", "folds": 1, "validation_fraction": 0.2},
    "dataset": {"name": "fashion-mnist-sample", "n_train": 6000, "n_test": 1000},
    "threads": {"cpu_count": 2}}


def make_study(directory: Path, runs: int = 4) -> Path:
    """A study directory with the first `runs` of its 4 runs finished (study_store format)."""
    from hpsearch.studies.store import save_run, write_study, write_tables

    write_study(directory, STUDY_META)
    records = []
    for n, (variant, seed) in enumerate([("sgd", 0), ("sgd", 1), ("adam", 0),
                                         ("adam", 1)][:runs]):
        acc = (0.55 if variant == "sgd" else 0.78) + 0.01 * seed
        fold = {"fold": 0, "train_loss": 1.5 - acc, "train_accuracy": acc, "val_loss": 1.6 - acc,
                "val_accuracy": acc - .01, "best_epoch": 2, "epochs_run": 2, "fit_time_s": 3.0,
                "steady_time_s": 1.0 + 0.1 * n, "n_train": 4800, "n_val": 1200,
                "epoch_times": [2.0, 1.0],
                "history": {"accuracy": [acc - .1, acc], "loss": [1.6 - acc, 1.5 - acc],
                            "val_accuracy": [acc - .08, acc - .01],
                            "val_loss": [1.7 - acc, 1.6 - acc]}}
        record = {"study": "optimizer", "variant": variant, "value": variant,
                  "is_base": variant == "sgd", "seed": seed, "status": "ok", "error": None,
                  "test_loss": 1.55 - acc, "test_accuracy": acc, "folds": [fold]}
        save_run(directory, record)
        records.append(record)
    write_tables(directory, records)
    return directory


def _images(html: str) -> int:
    return html.count('src="data:image/png;base64,')


def _self_contained(html: str) -> None:
    assert not re.search(r'(src|href)="(https?:)?//', html), "points outside the file"
    assert "<script" not in html and "<link" not in html


# ------------------------------------------------------------------ searches
@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    directory = make_search(tmp_path_factory.mktemp("search") / "t1")
    write_report(directory)
    return directory


def test_finished_search_report_has_every_part(finished):
    html = (finished / "report.html").read_text()
    markdown = (finished / "report.md").read_text()
    for trial_id, *_ in PARAMS:
        assert f"<td>{trial_id}</td>" in html, trial_id
    assert _images(html) == 4  # history, knobs vs score, parallel coordinates, curves
    _self_contained(html)
    for name in ("report_history.png", "report_params.png", "report_parallel.png",
                 "report_curves.png", "report_top.csv", "report_trials.csv",
                 "report_budget.csv"):
        assert (finished / name).is_file(), name
    assert "5 started of 5 planned: 3 completed, 1 pruned, 1 failed" in markdown
    assert "7 fitted of at most 10" in markdown and "21 trained" in markdown
    assert "0.8200 ± 0.0141 | 0.8100 | 0.8300 |" in markdown  # mean ± std, then per fold
    assert ("hpsearch export --from " + str(finished) + " --out " + str(finished / "export")
            + " --dataset fashion-mnist-sample") in markdown
    assert "| 3 | failed | – |" in markdown and "loss became NaN |" in markdown
    assert "Partial" not in markdown
    top = (finished / "report_top.csv").read_text().splitlines()
    assert top[0].startswith("rank,trial_id,status,mean_val_accuracy,std_val_accuracy,"
                             "split0_val_accuracy,split1_val_accuracy")
    assert [line.split(",")[1] for line in top[1:]] == ["0", "1", "4", "2"]


def test_interrupted_search_reads_trial_files_beyond_the_stale_results(tmp_path):
    directory = make_search(tmp_path / "t2", upto=2, running=True, max_trials=8)
    written = write_report(directory)
    markdown = written.markdown.read_text()
    html = written.html.read_text()
    assert written.kind == "search"
    assert "3 started of 8 planned: 2 completed, 0 pruned, 0 failed, 1 running" in markdown
    assert "**Partial:**" in markdown and "--resume" in markdown
    for trial_id in ("0", "1", "9"):
        assert f"<td>{trial_id}</td>" in html
    assert _images(html) >= 3


def test_copied_results_csv_alone_is_enough(tmp_path, finished):
    directory = tmp_path / "copy"
    directory.mkdir()
    shutil.copy(finished / "results.csv", directory / "results.csv")
    written = write_report(directory)
    markdown = written.markdown.read_text()
    assert "read from `results.csv`" in markdown and "settings are unknown" in markdown
    assert "| 1 | 0 | ok | 0.8200 ± 0.0141 |" in markdown
    assert "no per-epoch history" in markdown  # results.csv has no curves


# ------------------------------------------------------------------ studies
def test_study_report_reuses_the_study_figures_and_verdicts(tmp_path):
    directory = make_study(tmp_path / "opt")
    written = write_report(directory)
    html, markdown = written.html.read_text(), written.markdown.read_text()
    assert written.kind == "study" and "All 4 planned runs finished." in markdown
    assert "## Verdict" in markdown and "**Accuracy:**" in markdown
    assert _images(html) == 4  # accuracy, loss, time bars and learning curves
    _self_contained(html)
    assert "<td>adam</td>" in html and (directory / "summary.csv").is_file()


def test_partial_study_and_partial_lab_report(tmp_path):
    lab = tmp_path / "lab"
    from hpsearch.studies.store import write_study

    write_study(lab, {"study": "all", "studies": ["optimizer", "batch-size"]})
    make_study(lab / "optimizer", runs=3)
    written = write_report(lab)
    markdown = written.markdown.read_text()
    assert "no finished runs yet for batch-size" in markdown
    assert "## Answers" in markdown and _images(written.html.read_text()) == 4
    single = write_report(lab / "optimizer").markdown.read_text()
    assert "**Partial:** 3 of 4 planned runs finished" in single


def test_study_without_runs_and_a_foreign_directory_are_project_errors(tmp_path):
    from hpsearch.studies.store import write_study

    write_study(tmp_path / "empty", STUDY_META)
    with pytest.raises(ProjectError, match="no finished run"):
        write_report(tmp_path / "empty")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("hi")
    with pytest.raises(ProjectError, match="neither a tune project"):
        detect(tmp_path / "other")


# ------------------------------------------------------------------ CLI
def test_cli_report_json_and_one_line_errors(cli, finished, tmp_path):
    code, out, err = cli("report", str(finished), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["kind"] == "search" and payload["html"].endswith("report.html")
    code, out, err = cli("report", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert "Traceback" not in err
    code, out, err = cli("report", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in err


# ------------------------------------------------------------------ browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp_path: Path, *args: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
               *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90,
                          check=True).stdout


@pytest.mark.skipif(CHROMIUM is None, reason=BROWSER_MISSING + " (apt-get install chromium "
                    "chromium-driver; .ci/run installs it)")
def test_report_renders_in_headless_chromium(finished, tmp_path):
    url = (finished / "report.html").resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert "<table>" in dom and "<th>val acc mean ± std</th>" in dom
    for trial_id, *_ in PARAMS:
        assert f"<td>{trial_id}</td>" in dom
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", url)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
