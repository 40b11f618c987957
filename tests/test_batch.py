"""`tts-news batch`: a folder of stories → episodes, resumable, with a bulletin; run as users run it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEED

STORIES = {
    "1-weather.txt": "موسم کی خبر\nآج شہر میں بارش ہوئی۔ کل موسم صاف رہے گا۔",
    "2-budget.txt": "بجٹ کی خبر\nحکومت نے 5 کھرب روپے کا بجٹ پیش کیا۔",
    "3-sport.md": "# کھیل کی خبر\n\nقومی ٹیم نے **میچ** [جیت لیا](https://example.com)۔\n",
}


def batch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tts_news.cli", "batch", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def stories(folder: Path, items: dict[str, str] = STORIES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in items.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def chapters_of(mp3: Path) -> list[dict]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(mp3)],
                           capture_output=True, text=True, check=True)
    return json.loads(probe.stdout)["chapters"]


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.suffix in (".mp3", ".vtt", ".json")}


def test_three_articles_make_three_episodes_and_a_second_run_skips_them(settings, tmp_path):
    src, out = stories(tmp_path / "in"), tmp_path / "out"
    first = batch(str(src), "-o", str(out), "--voice", "espeak-urdu")
    assert first.returncode == 0, first.stderr
    for stem in ("1-weather", "2-budget", "3-sport"):
        for suffix in (".mp3", ".vtt", ".chapters.json"):
            assert (out / f"{stem}{suffix}").stat().st_size > 0
    assert "3 rendered, 0 skipped, 0 failed" in first.stdout
    assert "batch [3/3] 3-sport.md" in first.stderr and "ETA 0 s" in first.stderr  # progress, in a log
    vtt = (out / "3-sport.vtt").read_text(encoding="utf-8")
    assert "قومی ٹیم نے میچ جیت لیا۔" in vtt and "**" not in vtt and "example.com" not in vtt  # Markdown read as text
    before = mtimes(out)
    second = batch(str(src), "-o", str(out), "--voice", "espeak-urdu")
    assert second.returncode == 0 and "0 rendered, 3 skipped, 0 failed" in second.stdout
    assert mtimes(out) == before


def test_an_edited_article_is_rendered_again_and_only_it(settings, tmp_path):
    src, out = stories(tmp_path / "in"), tmp_path / "out"
    assert batch(str(src), "-o", str(out), "--voice", "espeak-urdu").returncode == 0
    before = mtimes(out)
    (src / "2-budget.txt").write_text(STORIES["2-budget.txt"] + "\nاجلاس کل جاری رہے گا۔", encoding="utf-8")
    again = batch(str(src), "-o", str(out), "--voice", "espeak-urdu")
    assert "1 rendered, 2 skipped" in again.stdout
    after = mtimes(out)
    assert after["2-budget.mp3"] != before["2-budget.mp3"] and after["1-weather.mp3"] == before["1-weather.mp3"]


def test_bad_files_are_reported_and_skipped_never_fatal(settings, tmp_path):
    src = stories(tmp_path / "in")
    (src / "0-latin1.txt").write_bytes("café news".encode("latin-1"))
    (src / "0-empty.txt").write_text("  \n", encoding="utf-8")
    (src / "notes.pdf").write_bytes(b"%PDF-1.4")  # not an article: not read at all
    result = batch(str(src), "-o", str(tmp_path / "out"), "--voice", "espeak-urdu")
    assert result.returncode == 1  # something failed: scripts can tell
    assert "0-latin1.txt: failed — " in result.stdout and "not UTF-8" in result.stdout
    assert "0-empty.txt: failed — " in result.stdout and "empty" in result.stdout
    assert "3 rendered, 0 skipped, 2 failed" in result.stdout
    assert "notes" not in result.stdout


def test_the_bulletin_has_one_chapter_per_story_and_an_opening_with_the_date(settings, tmp_path):
    src, out = stories(tmp_path / "in"), tmp_path / "out"
    result = batch(str(src), "-o", str(out), "--voice", "espeak-urdu", "--bulletin", "--date", "2026-11-27")
    assert result.returncode == 0, result.stderr
    bulletin = out / "bulletin-2026-11-27.mp3"
    chapters = chapters_of(bulletin)
    assert [c["tags"]["title"] for c in chapters] == ["موسم کی خبر", "بجٹ کی خبر", "کھیل کی خبر"]
    assert float(chapters[0]["start_time"]) == 0.0
    assert json.loads((out / "bulletin-2026-11-27.chapters.json").read_text())["chapters"][1]["title"] == "بجٹ کی خبر"
    vtt = (out / "bulletin-2026-11-27.vtt").read_text(encoding="utf-8")
    assert "یہ ہیں 27 نومبر 2026 کی خبریں۔" in vtt and "یہ تھیں آج کی خبریں۔" in vtt
    # between stories a chime sounds: the gap before story 2 is not silent
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(bulletin), "-f", "s16le", "-ac", "1", "-ar", "8000", "-"],
                         capture_output=True, check=True).stdout
    samples = memoryview(pcm).cast("h")
    start = float(chapters[1]["start_time"])
    gap = samples[int((start - 1.2) * 8000):int(start * 8000)]
    assert max(abs(x) for x in gap) > 1500
    again = batch(str(src), "-o", str(out), "--voice", "espeak-urdu", "--bulletin", "--date", "2026-11-27")
    assert "up to date" in again.stdout


def _recorded(out, stem: str) -> bool:
    try:
        entry = json.loads((out / ".tts-news-batch.json").read_text(encoding="utf-8")).get("articles", {}).get(stem, {})
    except (OSError, ValueError):
        return False
    return entry.get("status") == "done"


def test_an_interrupted_run_continues_where_it_stopped(settings, tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    src = stories(tmp_path / "in", {"a.txt": STORIES["1-weather.txt"], "b.txt": seed, "c.txt": seed + "\nآخری۔"})
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "batch", str(src), "-o", str(out), "--voice",
                             "espeak-urdu"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not _recorded(out, "a") and time.monotonic() < deadline:  # a is done: its MP3 in place and recorded
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert (out / "a.mp3").exists() and not (out / "c.mp3").exists()
    assert not [p for p in os.listdir(out) if ".part" in p]  # nothing half-written is left
    resumed = batch(str(src), "-o", str(out), "--voice", "espeak-urdu")
    assert resumed.returncode == 0
    assert "a.txt: skipped" in resumed.stdout and "c.txt: rendered" in resumed.stdout


def test_published_batch_episodes_appear_in_the_feed(settings, tmp_path):
    import feedparser

    from tts_news.jobs.service import Service
    from tts_news.web import create_app

    src, out = stories(tmp_path / "in"), tmp_path / "out"
    assert batch(str(src), "-o", str(out), "--voice", "espeak-urdu", "--publish").returncode == 0
    client = create_app(settings, queue=Service(settings)).test_client()
    feed = feedparser.parse(client.get("/feed.xml").data)
    assert sorted(e.title for e in feed.entries) == sorted(["موسم کی خبر", "بجٹ کی خبر", "کھیل کی خبر"])
    for entry in feed.entries:
        enclosure = entry.enclosures[0]
        served = client.get(enclosure.href.replace("http://localhost", ""))
        assert int(enclosure.length) == len(served.data)
    guids = {e.id for e in feed.entries}
    assert batch(str(src), "-o", str(out), "--voice", "espeak-urdu", "--publish").returncode == 0
    assert {e.id for e in feedparser.parse(client.get("/feed.xml").data).entries} == guids  # not added twice


def test_a_missing_folder_is_a_clear_error(settings, tmp_path):
    result = batch(str(tmp_path / "nowhere"), "-o", str(tmp_path / "out"))
    assert result.returncode == 1 and "not a folder" in result.stderr


@pytest.mark.redis
def test_with_redis_the_articles_go_to_the_workers(settings, redis_url, tmp_path):
    from test_jobs import _env, _start, _wait_for_line

    from tts_news.core.config import Settings
    from tts_news.jobs.library import Library

    env = _env(settings, TTS_NEWS_REDIS_URL=redis_url)
    log = tmp_path / "worker.log"
    worker = _start(["worker"], env, log)
    try:
        _wait_for_line(log, "ready", worker)
        src, out = stories(tmp_path / "in"), tmp_path / "out"
        result = batch(str(src), "-o", str(out), "--voice", "espeak-urdu", env=env)
        assert result.returncode == 0, result.stderr
        assert "on the workers" in result.stdout and "3 rendered" in result.stdout
        assert all((out / f"{s}.mp3").exists() for s in ("1-weather", "2-budget", "3-sport"))
        jobs = Library(Settings.from_env().data_dir).jobs()
        assert len(jobs) == 3 and {j.source for j in jobs} == {"batch"} and {j.published for j in jobs} == {False}
        assert "3 skipped" in batch(str(src), "-o", str(out), "--voice", "espeak-urdu", env=env).stdout
    finally:
        worker.terminate()
        worker.wait(10)


def test_markdown_loses_its_markup_but_no_words():
    from tts_news.text.markup import markdown_to_text

    text = "## سرخی\n\n> اقتباس **اہم** ہے\n- نکتہ [ربط کا متن](https://x.pk)\n![تصویر میں وزیراعظم](a.jpg)\n---\n"
    assert markdown_to_text(text).split() == "سرخی اقتباس اہم ہے نکتہ ربط کا متن تصویر میں وزیراعظم".split()
