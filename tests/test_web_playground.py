"""The Playground page in a real browser (headless Chromium via selenium).

The server runs in this process on a free port; the page's numbers are checked against the
engine's own (``playground.simulate`` / ``Trainer``), to the last bit where the page shows them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from web_support import chromium, running, skip_reason, wait_for

from playground import PlaygroundConfig, Trainer, simulate

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

# A hash as playground.tensorflow.org writes it: xor, L1 at 0.003, batch 7 (dead links occur).
SITE_HASH = ("activation=tanh&regularization=L1&batchSize=7&dataset=xor&regDataset=reg-plane"
             "&learningRate=0.03&regularizationRate=0.003&noise=0&networkShape=4,2"
             "&seed=0.12345&showTestData=false&discretize=false&percTrainData=50&x=true"
             "&y=true&xTimesY=false&xSquared=false&ySquared=false&cosX=false&sinX=false"
             "&cosY=false&sinY=false&collectStats=false&problem=classification"
             "&initZero=false&hideText=false")


@pytest.fixture(scope="module")
def page():
    from hpsearch.web.playground_api import playground_app

    with running(playground_app()) as url, chromium() as driver:
        yield driver, url


def _by_id(driver, name):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, name)


def _load(driver, url: str, fragment: str) -> None:
    driver.get("about:blank")
    driver.get(f"{url}#{fragment}")
    wait_for(driver, lambda d: _by_id(d, "loss-train").get_attribute("data-value"),
             what="the first frame")


def _shown(driver) -> tuple[float, float, str, str]:
    train, test = _by_id(driver, "loss-train"), _by_id(driver, "loss-test")
    return (float(train.get_attribute("data-value")), float(test.get_attribute("data-value")),
            train.text, test.text)


def _hash(driver) -> str:
    return driver.execute_script("return location.hash.slice(1)")


def test_site_hash_replays_the_site_run_number_for_number(page):
    driver, url = page
    _load(driver, url, SITE_HASH)
    assert _hash(driver) == SITE_HASH  # the page writes the site's own format back
    engine = simulate(PlaygroundConfig(dataset="xor", regularization="l1", reg_rate=0.003,
                                       batch_size=7, seed="0.12345", epochs=10))
    train, test, *_ = _shown(driver)
    assert (train, test) == (engine.train_loss[0], engine.test_loss[0])
    for _ in range(10):
        _by_id(driver, "step").click()
    wait_for(driver, lambda d: _by_id(d, "epoch").text == "000,010", what="epoch 10")
    train, test, train_text, test_text = _shown(driver)
    assert (train, test) == (engine.train_loss[10], engine.test_loss[10])
    assert (train_text, test_text) == (f"{engine.train_loss[10]:.3f}",
                                       f"{engine.test_loss[10]:.3f}")
    assert _by_id(driver, "status-line").text == (
        f"Epoch 000,010, Test loss {test_text}, Training loss {train_text}")


def test_play_moves_the_epoch_counter_and_the_boundary(page):
    driver, url = page
    _load(driver, url, "seed=0.5")
    before = driver.execute_script("return document.getElementById('boundary').toDataURL()")
    _by_id(driver, "play").click()
    wait_for(driver, lambda d: int(_by_id(d, "epoch").text.replace(",", "")) >= 30,
             what="30 epochs of play")
    frames = int(_by_id(driver, "boundary").get_attribute("data-frames"))
    time.sleep(0.5)
    assert int(_by_id(driver, "boundary").get_attribute("data-frames")) > frames  # redrawn
    _by_id(driver, "play").click()  # pause
    after = driver.execute_script("return document.getElementById('boundary').toDataURL()")
    assert after != before
    # A step the page asked for before the pause may still land (the server has trained it):
    # wait until the counter has settled, then it must not move again.
    def settled(d):
        first = _by_id(d, "epoch").text
        time.sleep(0.15)
        return first if _by_id(d, "epoch").text == first else False

    epoch = wait_for(driver, settled, what="the counter to settle after pause")
    time.sleep(0.4)
    assert _by_id(driver, "epoch").text == epoch  # paused means paused


def test_controls_write_the_url_hash_and_follow_the_site_rules(page):
    from selenium.webdriver.support.ui import Select

    driver, url = page
    _load(driver, url, "seed=0.25")
    _by_id(driver, "step").click()
    wait_for(driver, lambda d: _by_id(d, "epoch").text == "000,001", what="one step")
    Select(_by_id(driver, "learningRate")).select_by_visible_text("0.1")
    wait_for(driver, lambda d: "learningRate=0.1&" in _hash(d), what="learningRate in hash")
    assert _by_id(driver, "epoch").text == "000,001"  # the site does not reset on a new rate
    Select(_by_id(driver, "activation")).select_by_value("relu")
    wait_for(driver, lambda d: "activation=relu" in _hash(d), what="activation in hash")
    wait_for(driver, lambda d: _by_id(d, "epoch").text == "000,000", what="rebuild")
    _by_id(driver, "input-xSquared").click()
    wait_for(driver, lambda d: "xSquared=true" in _hash(d), what="feature in hash")
    _by_id(driver, "add-layer").click()
    wait_for(driver, lambda d: "networkShape=4,2,2&" in _hash(d), what="new layer in hash")
    _by_id(driver, "remove-neuron-0").click()
    wait_for(driver, lambda d: "networkShape=3,2,2&" in _hash(d), what="fewer neurons")
    _by_id(driver, "noise").send_keys("\ue014")  # arrow right: noise 0 -> 5, new data
    wait_for(driver, lambda d: "noise=5&" in _hash(d), what="noise in hash")
    assert "seed=0.25&" not in _hash(driver)  # new data takes a new seed, like the site
    # the page's own URL reproduces its state: reload it and get the same numbers
    shown, fragment = _shown(driver)[:2], _hash(driver)
    _load(driver, url, fragment)
    assert _shown(driver)[:2] == shown


def test_pasting_a_new_hash_starts_that_run(page):
    driver, url = page
    _load(driver, url, "seed=0.5")
    driver.execute_script("location.hash = arguments[0]", "dataset=gauss&seed=0.777&noise=20")
    engine = simulate(PlaygroundConfig(dataset="gauss", noise=20, seed="0.777", epochs=0))
    wait_for(driver, lambda d: _shown(d)[0] == engine.train_loss[0], what="the pasted run")
    assert "dataset=gauss" in _hash(driver) and "seed=0.777" in _hash(driver)


def test_multi_seed_mode_shows_the_engines_spread(page):
    driver, url = page
    _load(driver, url, "networkShape=3&seed=0.5")
    _by_id(driver, "multi-seeds").clear()
    _by_id(driver, "multi-seeds").send_keys("8")
    _by_id(driver, "multi-epochs").clear()
    _by_id(driver, "multi-epochs").send_keys("100")
    _by_id(driver, "multi-run").click()
    wait_for(driver, lambda d: _by_id(d, "multi-summary").get_attribute("data-done"),
             timeout=60, what="the multi-seed result")
    text = _by_id(driver, "multi-summary").text
    final = Trainer(PlaygroundConfig(hidden=(3,), epochs=100), list(range(8))).train(100)
    median = float(np.quantile(final[:, -1, 1], 0.5))
    separated = float(np.mean(final[:, -1, 1] < 0.05))
    assert text.startswith("8 seeds × 100 epochs")
    assert f"median test loss {median:.3f}" in text
    assert f"{100 * separated:.0f}% of runs separate" in text
    shade = driver.execute_script(
        "const c = document.getElementById('multi-map').getContext('2d');"
        "return Array.from(c.getImageData(100, 100, 1, 1).data);")
    assert shade[3] > 0  # the map of positive shares is drawn
