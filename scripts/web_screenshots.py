"""Take the README's screenshots of the two pages (docs/web-playground.png, docs/web-dashboard.png).

Serves the real apps in-process, drives headless Chromium (selenium + Debian's chromium-driver)
and, for the dashboard, runs a tiny `hpsearch tune` on the shipped sample unless --project names
an existing tune project or study directory.

    python scripts/web_screenshots.py [--project DIR] [--out docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from web_support import chromium, running, wait_for  # noqa: E402

SITE_HASH = ("activation=tanh&batchSize=10&dataset=circle&learningRate=0.03&networkShape=4,2"
             "&seed=0.12345")


def playground_shot(driver, out: Path) -> None:
    from selenium.webdriver.common.by import By

    from hpsearch.web.playground_api import playground_app

    with running(playground_app()) as url:
        driver.set_window_size(1400, 1140)
        driver.get(f"{url}#{SITE_HASH}")
        wait_for(driver, lambda d: d.find_element(By.ID, "loss-train").get_attribute(
            "data-value"))
        driver.find_element(By.ID, "play").click()
        wait_for(driver, lambda d: int(d.find_element(By.ID, "epoch").text.replace(",", ""))
                 >= 250)
        driver.find_element(By.ID, "play").click()
        driver.find_element(By.ID, "showTestData").click()
        driver.find_element(By.ID, "multi-run").click()
        wait_for(driver, lambda d: d.find_element(By.ID, "multi-summary").get_attribute(
            "data-done"), timeout=60)
        time.sleep(0.3)
        driver.save_screenshot(str(out / "web-playground.png"))


def dashboard_shot(driver, project: Path, out: Path) -> None:
    from selenium.webdriver.common.by import By

    from hpsearch.web.dashboard_api import dashboard_app

    with running(dashboard_app(project)) as url:
        driver.set_window_size(1400, 900)
        driver.get(url)
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#trials tbody tr"))
        time.sleep(0.3)
        driver.save_screenshot(str(out / "web-dashboard.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="an existing tune project or study")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, chromium() as driver:
        project = args.project
        if project is None:
            project = Path(tmp) / "search"
            subprocess.run([sys.executable, "-m", "hpsearch", "tune", "--directory",
                            str(project), "--tuner", "random", "--max-trials", "6", "--folds",
                            "2", "--epochs", "3", "--dataset", "fashion-mnist-sample",
                            "--quiet"], check=True, stdout=subprocess.DEVNULL)
        playground_shot(driver, args.out)
        dashboard_shot(driver, project, args.out)
    print(f"wrote {args.out / 'web-playground.png'} and {args.out / 'web-dashboard.png'}")


if __name__ == "__main__":
    main()
