"""CI proves what it claims: under CI=true a skipped browser test fails the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


@pytest.fixture
def suite(tmp_path):
    """A copy of this suite's conftest and web_support beside one browser test that skips."""
    for name in ("conftest.py", "web_support.py"):
        (tmp_path / name).write_text((TESTS / name).read_text())
    (tmp_path / "test_browser.py").write_text(
        "import pytest\nfrom web_support import BROWSER_MISSING\n\n"
        "def test_page():\n    pytest.skip(BROWSER_MISSING + ' (not here)')\n\n"
        "def test_other_skip():\n    pytest.skip('unrelated reason')\n")
    return tmp_path


def _run(directory: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in __import__("os").environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(directory)], cwd=directory, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_skipped_browser_test_fails_under_ci(suite):
    result = _run(suite, "true")
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "1 skipped" in result.stdout
    assert "CI=true but a browser test was skipped" in result.stdout


def test_outside_ci_it_only_skips(suite):
    result = _run(suite, None)
    assert result.returncode == 0, result.stdout
    assert "2 skipped" in result.stdout
