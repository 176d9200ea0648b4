"""A tune builds one `Project` and reads its project.json at most once (issue 22): the
settings are checked, the space restored and the project opened from one read, and what the
search writes is kept in memory, not read back."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

TUNE = ["--max-trials", "2", "--epochs", "1", "--folds", "2", "--fix", "layers=1",
        "--fix", "units=32", "--dataset", "fashion-mnist-sample", "-q"]


@pytest.fixture
def counted(monkeypatch):
    """Projects built and project.json reads (any reader: counted where bytes are read)."""
    import hpsearch.search.project as project_module

    count: Counter[str] = Counter()
    real_init = project_module.Project.__init__

    def spy(real):
        def read(self, *args, **kwargs):
            if self.name == project_module.PROJECT_FILE:
                count["reads"] += 1
            return real(self, *args, **kwargs)
        return read

    def init(self, *args, **kwargs):
        count["projects"] += 1
        real_init(self, *args, **kwargs)

    for method in ("read_bytes", "read_text"):
        monkeypatch.setattr(Path, method, spy(getattr(Path, method)))
    monkeypatch.setattr(project_module.Project, "__init__", init)
    return count


@pytest.mark.parametrize("tuner", ["random", "bayesian", "hyperband"])
def test_a_tune_and_its_resume_build_one_project_and_read_project_json_once(
        tmp_path, counted, cli, tuner):
    directory = str(tmp_path / "t")
    code, _, err = cli("tune", *TUNE, "--tuner", tuner, "--directory", directory)
    assert code == 0, err
    assert counted == {"projects": 1}  # a new project: written, never read back
    counted.clear()
    code, _, err = cli("tune", "--directory", directory, "--resume", "--max-trials", "3", "-q")
    assert code == 0, err
    assert counted == {"projects": 1, "reads": 1}


def test_report_and_export_from_read_project_json_once(tmp_path, counted, cli):
    directory = str(tmp_path / "t")
    assert cli("tune", *TUNE, "--directory", directory)[0] == 0
    counted.clear()
    code, _, err = cli("report", directory)
    assert code == 0, err
    assert counted["reads"] == 1, counted
    counted.clear()
    code, _, err = cli("export", "--from", directory, "--out", str(tmp_path / "e"), "-q")
    assert code == 0, err
    assert counted["reads"] == 1 and counted["projects"] == 1, counted
