"""A disk that fills up (or turns read-only) while a search or a study writes: one line, a
non-zero exit, every trial or run finished before intact, and `--resume` finishes the job.

The project lives on a tiny real tmpfs (needs root, as CI has); the disk is filled, or
remounted read-only, right after the first trial's final record (the first study run) is
written, so the very next write hits the real ENOSPC / EROFS.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

TUNE = ["--dataset", "fashion-mnist-sample", "-q", "-k", "2", "--epochs", "1", "--tuner",
        "random", "--max-trials", "2", "--no-prune", "--fix", "hidden=16", "--fix",
        "batch_size=512"]
STUDY = ["batch-size", "--values", "256,512", "--repeats", "1", "--epochs", "1", "--dataset",
         "fashion-mnist-sample", "-q"]


@pytest.fixture
def disk(tmp_path):
    """A 4 MiB tmpfs; yields (mount point, break(how), heal())."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    filler = mount / "filler"

    def break_(how: str) -> None:
        if how == "read-only":
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            return
        with filler.open("wb") as handle:
            try:
                while True:
                    handle.write(b"\0" * 65536)
                    handle.flush()
            except OSError:
                pass

    def heal() -> None:
        subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
        filler.unlink(missing_ok=True)

    yield mount, break_, heal
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _error_line(err: str, how: str, where: Path) -> None:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    words = "no space left on device" if how == "full" else "read-only file system"
    assert len(lines) == 1 and lines[0].startswith(f"error: {words} while writing {where}/"), err
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["full", "read-only"])
def test_tune_on_a_full_disk_stops_with_one_line_and_resumes(disk, how, cli, monkeypatch):
    from hpsearch.search.project import Project

    mount, break_, heal = disk
    directory = mount / "proj"
    original = Project.write_record
    saved: dict[str, bytes] = {}

    def write_then_fill(self, record):
        original(self, record)
        if record.final and not saved:
            saved[record.trial_id] = self.record_path(record.trial_id).read_bytes()
            break_(how)

    monkeypatch.setattr(Project, "write_record", write_then_fill)
    code, _, err = cli("tune", "--directory", str(directory), *TUNE)
    assert code != 0
    _error_line(err, how, directory)
    monkeypatch.setattr(Project, "write_record", original)
    (trial_id, before), = saved.items()
    assert Project(directory).record_path(trial_id).read_bytes() == before
    assert not list(directory.rglob("*.tmp")), "temporary files left behind"

    heal()
    code, _, err = cli("tune", "--directory", str(directory), *TUNE, "--resume")
    assert code == 0, err
    records = Project(directory).records()
    assert [r.status for r in records] == ["ok", "ok"]
    assert Project(directory).record_path(trial_id).read_bytes() == before  # not re-run


def test_study_on_a_full_disk_stops_with_one_line_and_resumes(disk, cli, monkeypatch):
    import hpsearch.studies.runner as runner

    mount, break_, heal = disk
    out = mount / "study"
    original = runner.save_run
    saved: dict[Path, bytes] = {}

    def save_then_fill(where, record):
        original(where, record)
        if not saved:
            path = next((where / "runs").glob("*.json"))
            saved[path] = path.read_bytes()
            break_("full")

    monkeypatch.setattr(runner, "save_run", save_then_fill)
    code, _, err = cli("study", *STUDY, "--out", str(out))
    assert code != 0
    _error_line(err, "full", out)
    monkeypatch.setattr(runner, "save_run", original)
    (path, before), = saved.items()
    assert path.read_bytes() == before

    heal()
    code, _, err = cli("study", *STUDY, "--out", str(out), "--resume")
    assert code == 0, err
    assert path.read_bytes() == before and len(list((out / "runs").glob("*.json"))) == 3  # base + 2
