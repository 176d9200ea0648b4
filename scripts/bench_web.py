"""Measure the web UI's speed targets: first paint after the URL is printed, epochs per
second shown live (default network, 250 training points, boundary redrawn every frame).

Runs the real command (`hpsearch playground serve --port 0`) in a subprocess and drives
headless Chromium through selenium (Debian's chromium + chromium-driver).

    python scripts/bench_web.py [--runs 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from web_support import chromium, wait_for  # noqa: E402


def one_run(driver, seconds: float) -> dict[str, float]:
    """Start the server, load the page, play for ``seconds``; return the figures."""
    from selenium.webdriver.common.by import By

    proc = subprocess.Popen([sys.executable, "-m", "hpsearch", "playground", "serve",
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        printed = time.time()
        url = line.split(" at ")[1].split()[0]
        driver.get(url)
        paint = wait_for(driver, lambda d: d.execute_script(
            "const e = performance.getEntriesByName('first-contentful-paint')[0];"
            "return e ? performance.timeOrigin + e.startTime : null;"), what="first paint")
        wait_for(driver, lambda d: d.find_element(By.ID, "loss-train").get_attribute(
            "data-value"), what="the first frame")
        first_frame = time.time() - printed
        driver.find_element(By.ID, "play").click()
        time.sleep(1.0)  # let the loop settle, then count
        start = driver.execute_script(
            "return [performance.now(), window.PG_STATS.frames, "
            "+document.getElementById('epoch').textContent.replace(',', '')]")
        time.sleep(seconds)
        end = driver.execute_script(
            "return [performance.now(), window.PG_STATS.frames, "
            "+document.getElementById('epoch').textContent.replace(',', ''), "
            "document.getElementById('speed').textContent]")
        driver.find_element(By.ID, "play").click()
        span = (end[0] - start[0]) / 1000
        return {"first_paint_s": paint / 1000 - printed, "first_frame_s": first_frame,
                "epochs_per_s": (end[2] - start[2]) / span,
                "frames_per_s": (end[1] - start[1]) / span, "shown": end[3]}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with chromium() as driver:
        results = [one_run(driver, args.seconds) for _ in range(args.runs)]
    for i, r in enumerate(results, 1):
        print(f"run {i}: first paint {r['first_paint_s']:.3f} s after the URL, first frame "
              f"{r['first_frame_s']:.3f} s, {r['epochs_per_s']:.1f} epochs/s, "
              f"{r['frames_per_s']:.1f} boundary redraws/s (page shows {r['shown']})")
    for key in ("first_paint_s", "first_frame_s", "epochs_per_s", "frames_per_s"):
        values = [r[key] for r in results]
        print(f"{key}: min {min(values):.3f} median {statistics.median(values):.3f} "
              f"max {max(values):.3f}")


if __name__ == "__main__":
    main()
