"""`hpsearch report DIR --serve`: a live dashboard watched in a real browser while a tiny
`tune` runs in another process, is killed, and is resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from web_support import chromium, running, skip_reason, wait_for

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


def _tune(directory: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "hpsearch", "tune", "--directory", str(directory),
               "--tuner", "random", "--folds", "2", "--epochs", "1", "--quiet",
               "--dataset", "fashion-mnist-sample", *extra]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=os.environ | {"CUDA_VISIBLE_DEVICES": ""})


def _rows(driver) -> set[str]:
    return set(driver.execute_script(
        "return [...document.querySelectorAll('#trials tbody tr')].map(r => r.dataset.trial)"))


def _polls(driver) -> int:
    return int(driver.execute_script("return document.body.dataset.polls || '0'"))


def test_dashboard_follows_a_running_search_through_kill_and_resume(tmp_path):
    from hpsearch.web.dashboard_api import dashboard_app

    project = tmp_path / "search"
    tune = _tune(project, "--max-trials", "3")
    try:
        deadline = time.time() + 90
        while not (project / "project.json").is_file():
            assert tune.poll() is None, tune.stderr.read().decode()[-2000:]
            assert time.time() < deadline, "tune never wrote project.json"
            time.sleep(0.2)
        with running(dashboard_app(project)) as url, chromium() as driver:
            driver.get(url)
            wait_for(driver, lambda d: _polls(d) >= 1, what="the first poll")
            first = _rows(driver)
            wait_for(driver, lambda d: _rows(d) - first, timeout=120,
                     what="a new trial row while tune runs")
            assert "finished" in driver.find_element("id", "progress-text").text
            # a second browser tab watches the same project at the same time
            main = driver.current_window_handle
            driver.switch_to.new_window("tab")
            driver.get(url)
            wait_for(driver, lambda d: _rows(d), what="rows in the second tab")
            driver.switch_to.window(main)
            # kill -9 mid-search: the page keeps polling and shows no error
            tune.send_signal(signal.SIGKILL)
            tune.wait(timeout=30)
            polls, seen = _polls(driver), _rows(driver)
            wait_for(driver, lambda d: _polls(d) >= polls + 2, what="polls after the kill")
            assert driver.find_element("id", "error").get_attribute("hidden") is not None
            assert _rows(driver) >= seen
            # resume to completion: every planned trial ends up in the table
            tune = _tune(project, "--max-trials", "3", "--resume")
            wait_for(driver, lambda d: "complete" in d.find_element("id", "eta").text,
                     timeout=150, what="the resumed search to complete")
            assert len(_rows(driver)) == 3
            assert driver.find_element("id", "best-score").text not in ("", "–")
        assert tune.wait(timeout=60) == 0, tune.stderr.read().decode()[-2000:]
    finally:
        if tune.poll() is None:
            tune.kill()
            tune.wait()
