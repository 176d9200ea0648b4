"""A damaged study file (a run record or study.json) is refused on --resume with one line
naming it, never silently re-run or dropped from the tables."""

from __future__ import annotations

import shutil

import pytest

STUDY = ["batch-size", "--values", "512", "--repeats", "1", "--epochs", "1", "--dataset",
         "fashion-mnist-sample", "-q"]
HOW = ("truncated", "empty", "invalid JSON", "wrong shape")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    from hpsearch.cli import run

    out = tmp_path_factory.mktemp("study") / "s"
    assert run(["study", *STUDY, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("which", ["run", "study.json"])
@pytest.mark.parametrize("how", HOW)
def test_damaged_study_file_is_refused_naming_it(finished, which, how, tmp_path, cli):
    out = tmp_path / "s"
    shutil.copytree(finished, out)
    path = next((out / "runs").glob("*.json")) if which == "run" else out / "study.json"
    raw = path.read_bytes()
    path.write_bytes({"truncated": raw[: len(raw) // 2], "empty": b"",
                      "invalid JSON": b"{nope", "wrong shape": b"[1, 2]"}[how])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, _, err = cli("study", *STUDY, "--out", str(out), "--resume")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"error: {path}: "), err
    if which == "run":
        assert "results.csv still lists it" in lines[0]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
