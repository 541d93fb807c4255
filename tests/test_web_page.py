"""The `tts server` web page in a real headless browser: Debian's chromium driven by selenium
through chromium-driver (install.sh installs both). The page must list the speakers with their
metadata, synthesize, and leave playable audio of the right duration in its <audio> element."""

from __future__ import annotations

import shutil
import time

import pytest

from tts.server import ServerConfig, TTSServer, serve_in_thread
from tts.synthesizer import Synthesizer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Debian's chromium and chromium-driver are not installed "
           "(apt-get install chromium chromium-driver, as install.sh does)")

TEXT = "The cat sat down. It was warm."


@pytest.fixture(scope="module")
def synth(tiny_voice) -> Synthesizer:
    return Synthesizer.from_pretrained(tiny_voice)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--autoplay-policy=no-user-gesture-required",
                     "--mute-audio"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, seconds: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            status = driver.find_element("id", "status").text
            pytest.fail(f"timed out waiting for {what}; page status: {status!r}")
        time.sleep(0.1)


def test_page_lists_speakers_synthesizes_and_plays_audio_of_the_right_length(synth, browser):
    from selenium.webdriver.support.ui import Select

    expected_seconds = len(synth.synthesize(TEXT, "p226", seed=0)) / synth.sample_rate
    with serve_in_thread(TTSServer(synth, ServerConfig()).app()) as url:
        browser.get(url + "/")
        state = lambda: browser.find_element("tag name", "body").get_attribute("data-state")
        wait_for(browser, lambda: state() == "ready", 30, "the speaker list")
        select = Select(browser.find_element("id", "speaker"))
        assert [o.get_attribute("value") for o in select.options] == synth.speakers
        select.select_by_value("p226")
        info = browser.find_element("id", "speaker-info").text
        p226 = synth.speaker_info[1]
        assert p226.source and p226.source in info

        text_box = browser.find_element("id", "text")
        text_box.clear()
        text_box.send_keys(TEXT)
        browser.find_element("id", "play").click()
        wait_for(browser, lambda: state() in ("done", "error"), 90, "the synthesis")
        assert state() == "done", browser.find_element("id", "status").text

        # the page played the stream as it came (Web Audio) and then gave the whole WAV to
        # the <audio> element: the browser must decode it to the utterance's duration
        duration = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const audio = document.getElementById("audio");
            const report = () => done({duration: audio.duration, ready: audio.readyState,
                                       error: audio.error && audio.error.code});
            if (audio.readyState >= 1) report();
            else { audio.onloadedmetadata = report; audio.onerror = report; audio.load(); }
        """)
        assert duration["error"] is None
        assert duration["ready"] >= 1
        assert duration["duration"] == pytest.approx(expected_seconds, abs=0.01)
        played = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const audio = document.getElementById("audio");
            audio.play().then(() => setTimeout(() => done(audio.currentTime), 300),
                              (error) => done(String(error)));
        """)
        assert isinstance(played, (int, float)) and played > 0, played
        link = browser.find_element("id", "download")
        assert link.is_displayed() and link.get_attribute("href").startswith("blob:")
        first_audio_ms = float(browser.find_element("tag name", "body")
                               .get_attribute("data-first-audio-ms"))
        assert first_audio_ms >= 0


def test_page_with_an_api_key_asks_for_it_then_works(synth, browser):
    from selenium.webdriver.support.ui import Select

    with serve_in_thread(TTSServer(synth, ServerConfig(api_key="k3y")).app()) as url:
        browser.get(url + "/")
        state = lambda: browser.find_element("tag name", "body").get_attribute("data-state")
        wait_for(browser, lambda: state() == "needs-key", 30, "the key prompt")
        assert "API key" in browser.find_element("id", "status").text
        key = browser.find_element("id", "api-key")
        key.send_keys("k3y")
        browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", key)
        wait_for(browser, lambda: state() == "ready", 30, "the speaker list")
        assert len(Select(browser.find_element("id", "speaker")).options) == 2
