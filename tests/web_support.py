"""Shared helpers for the browser tests: a server on a free port and headless Chromium.

Chromium runs through selenium with Debian's chromium-driver; where either is missing the
tests that need them skip with the reason (CI installs both, see .ci/run).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")


# Every browser test's skip reason starts with this, so that conftest.py can turn such a
# skip into a failure under CI=true: CI claims the browser tests ran, so they must.
BROWSER_MISSING = "browser test: needs headless Chromium"


def skip_reason() -> str | None:
    """Why browser tests cannot run here, or None."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        return (BROWSER_MISSING + " and its driver (apt-get install chromium "
                "chromium-driver; .ci/run installs them)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return BROWSER_MISSING + " with selenium (pip install -e '.[test]')"
    return None


@contextmanager
def running(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    from hpsearch.web.server import make_server, url_of

    server = make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium driven by selenium, with a fresh profile."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="hpsearch-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver, condition, timeout: float = 20.0, what: str = "the page"):
    """Poll ``condition(driver)`` until truthy; fails the test naming ``what`` on timeout."""
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except Exception as exc:  # TimeoutException, with the browser's console for context
        logs = ""
        try:
            logs = "; ".join(str(e.get("message")) for e in driver.get_log("browser"))
        except Exception:  # noqa: BLE001 - logs are a courtesy
            pass
        raise AssertionError(f"timed out waiting for {what} ({exc!r}) {logs}") from None
