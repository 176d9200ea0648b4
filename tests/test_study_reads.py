"""Each command reads a study.json once and passes the value on (issue 22: no file used as
a channel between our own functions). The reads are counted at the one reader, `read_json`."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from test_report import make_study

STUDY = ["batch-size", "--values", "512", "--repeats", "1", "--epochs", "1", "--dataset",
         "fashion-mnist-sample", "-q"]


@pytest.fixture
def reads(monkeypatch):
    """study.json path -> times read, during the test."""
    import hpsearch.studies.store as store

    counted: Counter[Path] = Counter()
    real = store.read_json

    def spy(path, *args, **kwargs):
        if Path(path).name == store.STUDY_FILE:
            counted[Path(path)] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(store, "read_json", spy)
    return counted


def test_reporting_a_study_reads_its_study_json_once(tmp_path, reads, cli):
    directory = make_study(tmp_path / "s")
    code, _, err = cli("report", str(directory))
    assert code == 0, err
    assert reads == {directory / "study.json": 1}


def test_a_lab_report_reads_each_study_json_once(tmp_path, reads, cli):
    from hpsearch.studies.store import write_study

    lab = tmp_path / "lab"
    write_study(lab, {"study": "all", "studies": ["optimizer", "batch-size"]})
    make_study(lab / "optimizer", runs=3)
    make_study(lab / "batch-size", runs=4)
    code, _, err = cli("report", str(lab))
    assert code == 0, err
    assert reads == {lab / "study.json": 1, lab / "optimizer" / "study.json": 1,
                     lab / "batch-size" / "study.json": 1}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    from hpsearch.cli import run

    out = tmp_path_factory.mktemp("study") / "s"
    assert run(["study", *STUDY, "--out", str(out)]) == 0
    return out


def test_a_study_run_reads_its_study_json_at_most_once(finished, tmp_path, reads, cli):
    out = tmp_path / "s"
    shutil.copytree(finished, out)
    code, _, err = cli("study", *STUDY, "--out", str(out), "--resume")  # nothing left to run
    assert code == 0, err
    assert reads == {out / "study.json": 1}  # the resume check; the report reuses its value
    reads.clear()
    code, _, err = cli("study", *STUDY, "--out", str(tmp_path / "fresh"))
    assert code == 0, err
    assert not reads  # a new study writes study.json and reports from what it wrote
    assert (tmp_path / "fresh" / "summary.md").read_text() \
        .replace(str(tmp_path / "fresh"), "D").count("Study `batch-size`") == 1
