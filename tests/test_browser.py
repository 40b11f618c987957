"""The pages in a real browser: Debian's chromium through Playwright, axe-core for WCAG A/AA,
the keyboard alone, the read-along transcript, screenshots at 1280 and 320 px."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import SEED, serve_in_thread, wait_for_job

from tts_news.core.config import PROJECT_ROOT, Settings

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
ARTIFACTS = Path(os.environ.get("TTS_NEWS_TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts")) / "screenshots"
# Short sentences, so the read-along moves within a couple of seconds of playback.
ARTICLE = "\n".join([
    "بارش کی خبر",
    "آج شہر میں بارش ہوئی۔ سڑکیں بھیگ گئیں۔ لوگ گھروں میں رہے۔",
    "کل موسم صاف رہے گا۔ درجہ حرارت 25 ڈگری ہوگا۔ ہوا ہلکی چلے گی۔",
])

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (scripts/setup.sh --test installs it)", allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app on 127.0.0.1 with its embedded worker, and one finished episode."""
    from tts_news.jobs.service import Service
    from tts_news.jobs.worker import start_embedded_worker
    from tts_news.web import create_app

    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("site") / "data", offline=True)
    queue = Service(settings)
    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)
    url, shutdown = serve_in_thread(create_app(settings, queue=queue))
    episode = queue.submit(ARTICLE, voice="espeak-urdu")
    assert wait_for_job(queue.library, episode.id).status == "done"
    yield {"url": url, "queue": queue, "episode": episode.id}
    shutdown()
    stop.set()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ur-PK")
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> str:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return "" if results.violations_count == 0 else results.generate_report()


def shoot(page, name: str) -> None:
    """Screenshots at desktop and phone widths (test artifacts); at 320 px nothing scrolls sideways."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 320):
        page.set_viewport_size({"width": width, "height": 900})
        page.evaluate("document.fonts.ready")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def check_page(page, name: str) -> None:
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ur", "rtl"]
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.fonts.check('1em \"Noto Nastaliq Urdu\"')")
    report = axe_violations(page)
    assert not report, f"axe found problems on the {name} page:\n{report}"
    shoot(page, name)


def test_home_page_is_accessible(site, page):
    page.goto(site["url"] + "/")
    check_page(page, "home")


def test_home_page_with_form_errors_is_accessible_and_focuses_the_summary(site, page):
    page.goto(site["url"] + "/")
    page.click("button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.get_attribute("#text", "aria-invalid") == "true"
    check_page(page, "home-errors")


def test_job_page_is_accessible_while_running_and_when_done(site, page):
    queue = site["queue"]
    job = queue.submit(ARTICLE + "\nایک اور خبر۔", voice="espeak-urdu")
    page.goto(f"{site['url']}/jobs/{job.id}")
    check_page(page, "job")
    page.wait_for_selector("#episode-link", state="visible", timeout=60_000)
    assert "مکمل" in page.text_content("#job-status")
    check_page(page, "job-done")


def test_failed_job_is_announced_as_an_alert(site, page):
    queue = site["queue"]
    job = queue.library.create("خبر۔", "espeak-urdu", "خبر۔")
    queue.library.claim(job.id, "test:0")
    queue.library.fail(job.id, "test:0", "the voice crashed")
    page.goto(f"{site['url']}/jobs/{job.id}")
    assert "the voice crashed" in page.text_content("[role=alert]")
    check_page(page, "job-failed")


def test_episode_page_is_accessible_with_a_captions_track(site, page):
    page.goto(f"{site['url']}/episodes/{site['episode']}")
    assert page.get_attribute("audio track", "kind") == "captions"
    assert page.get_attribute("audio", "preload") == "metadata"
    check_page(page, "episode")


def test_episodes_and_missing_pages_are_accessible(site, page):
    page.goto(site["url"] + "/episodes")
    check_page(page, "episodes")
    page.goto(site["url"] + "/jobs/00000000-0000-4000-8000-000000000000")
    check_page(page, "not-found")
    page.goto(site["url"] + "/login")
    check_page(page, "login")


def tab_to(page, predicate: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def test_keyboard_only_submit_follow_and_play(site, page):
    page.goto(site["url"] + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    tab_to(page, "el.id === 'text'")
    page.keyboard.insert_text(ARTICLE + "\nکی بورڈ سے بھیجی گئی خبر۔")
    tab_to(page, "el.id === 'voice-espeak-urdu' || el.name === 'voice'")
    page.keyboard.press("ArrowLeft")  # radio groups move with the arrow keys
    if page.evaluate("document.activeElement.value") != "espeak-urdu":
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.value") == "espeak-urdu"
    tab_to(page, "el.type === 'submit'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/jobs/" in page.url
    page.wait_for_selector("#episode-link", state="visible", timeout=60_000)
    tab_to(page, "el.id === 'episode-link'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/episodes/" in page.url
    tab_to(page, "el.id === 'play'")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.3", timeout=15_000)
    assert page.evaluate("document.getElementById('audio').paused") is False
    assert page.text_content("#play") == "روکیں"
    tab_to(page, "el.dataset.skip === '15'")
    before = page.evaluate("document.getElementById('audio').currentTime")
    page.keyboard.press("Enter")
    assert page.evaluate("document.getElementById('audio').currentTime") >= before + 10


def test_the_read_along_highlight_moves_while_audio_plays(site, page):
    page.goto(f"{site['url']}/episodes/{site['episode']}")
    page.click("#play")
    page.wait_for_selector(".cue.current", timeout=15_000)
    first = page.get_attribute(".cue.current", "id")
    assert page.get_attribute(".cue.current", "aria-current") == "true"
    page.wait_for_function("first => document.querySelector('.cue.current') && "
                           "document.querySelector('.cue.current').id !== first", arg=first, timeout=20_000)
    second = page.get_attribute(".cue.current", "id")
    assert int(second.split("-")[1]) > int(first.split("-")[1])
    assert page.locator(".cue.current").count() == 1
    shoot(page, "episode-playing")


def test_chapters_seek_and_speed_changes_the_rate(site, page):
    page.goto(f"{site['url']}/episodes/{site['episode']}")
    last = page.locator("[data-seek]").last
    start = float(last.get_attribute("data-seek"))
    last.click()
    page.wait_for_function("t => document.getElementById('audio').currentTime >= t", arg=start - 0.01)
    page.select_option("#speed", "1.5")
    assert page.evaluate("document.getElementById('audio').playbackRate") == 1.5


@pytest.mark.parametrize("autoscroll", [True, False])
def test_auto_scroll_follows_the_sentence_only_while_switched_on(site, browser, autoscroll):
    context = browser.new_context(viewport={"width": 320, "height": 480}, reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(f"{site['url']}/episodes/{site['episode']}")
        if not autoscroll:
            page.uncheck("#autoscroll")
        page.evaluate("window.scrollTo(0, 0)")
        page.evaluate("() => { const a = document.getElementById('audio'); a.play(); }")
        last = page.locator(".cue").last
        page.evaluate("t => { document.getElementById('audio').currentTime = t; }",
                      float(last.get_attribute("data-start")) + 0.05)
        page.wait_for_function("() => document.querySelector('.cue.current') === "
                               "[...document.querySelectorAll('.cue')].pop()", timeout=10_000)
        page.wait_for_timeout(300)
        in_view = page.evaluate("() => { const r = [...document.querySelectorAll('.cue')].pop()"
                                ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
        assert in_view is autoscroll
        assert (page.evaluate("window.scrollY") > 0) is autoscroll
    finally:
        context.close()


def test_the_job_page_plays_while_it_renders_then_carries_on_in_the_episode(site, page):
    queue = site["queue"]
    job = queue.submit("\n".join([SEED.read_text(encoding="utf-8")] * 3), voice="espeak-urdu")
    page.goto(f"{site['url']}/jobs/{job.id}")
    check_page(page, "job-live")
    page.evaluate("() => document.getElementById('live-audio').play()")
    page.wait_for_function("() => document.getElementById('live-audio').currentTime > 1", timeout=30_000)
    assert queue.library.get(job.id).status in ("queued", "running")  # heard before the episode exists
    assert "شروع" in page.text_content("#live-status")  # said politely, once
    shoot(page, "job-live")
    page.wait_for_function("() => document.getElementById('live-audio').src.includes('/episodes/')",
                           timeout=120_000)
    page.wait_for_function("() => (a => a.currentTime > 1.5 && !a.paused)(document.getElementById('live-audio'))",
                           timeout=15_000)  # the same place, in the finished episode, still playing
    assert "#t=" in page.get_attribute("#episode-link", "href")
    assert "تیار" in page.text_content("#live-status")
