"""Real podcast clients and independent readers: gPodder's `gpo` end to end against the app on 127.0.0.1,
and the episode files read by eyeD3 and TinyTag (neither is used by the app)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import eyed3
import pytest
from conftest import serve_in_thread, wait_for_job
from tinytag import TinyTag

from tts_news.web import create_app

ARTICLE = ("جنیوا میں اہم ملاقات\n"
           "امریکی اور روسی صدور کی ملاقات جنیوا میں ہوئی۔\n"
           "دونوں ممالک نے سفیروں کو دوبارہ تعینات کرنے پر اتفاق کیا۔\n")
SECOND = "کراچی میں بارش\nشہر کے کئی علاقوں میں تیز بارش ہوئی۔\n"


def gpo(home: Path, *args: str) -> str:
    done = subprocess.run(["gpo", *args], env={**os.environ, "GPODDER_HOME": str(home)}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def gpodder_episodes(home: Path) -> list[dict]:
    with sqlite3.connect(home / "Database") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM episode ORDER BY published")]


@pytest.fixture
def site(worker):
    app = create_app(worker.settings, queue=worker, test_config={"TESTING": True})
    url, stop = serve_in_thread(app)
    yield url, app.test_client(), worker
    stop()


def publish(client, library, text: str):
    job_id = client.post("/api/jobs", json={"text": text, "voice": "espeak-urdu"}).get_json()["id"]
    return wait_for_job(library, job_id)


def test_gpodder_subscribes_downloads_shows_chapters_and_follows_rerenders(site, tmp_path):
    url, client, worker = site
    home = tmp_path / "gpodder"
    home.mkdir()
    job = publish(client, worker.library, ARTICLE)
    assert job.status == "done"

    gpo(home, "subscribe", f"{url}/feed.xml")
    gpo(home, "update")
    gpo(home, "download")
    [episode] = gpodder_episodes(home)
    files = list((home / "Downloads").rglob("*.mp3"))
    assert len(files) == 1
    downloaded = files[0]
    assert downloaded.name == episode["download_filename"]
    assert downloaded.name.endswith(".mp3") and job.id[:8] in downloaded.name  # a name, not "mp3"
    assert episode["title"] == job.title and episode["guid"] == f"urn:uuid:{job.id}"
    assert abs(episode["total_time"] - job.duration) <= 1
    chapters = json.loads(episode["chapters"])  # read from the feed's psc:chapters
    paragraphs = [line for line in ARTICLE.splitlines() if line.strip()]
    assert [c["title"] for c in chapters] == paragraphs
    assert chapters[0]["start"] == 0 and all(a["start"] < b["start"] for a, b in zip(chapters, chapters[1:]))

    # Rendered again: the same episode for gPodder (stable GUID), not a second one.
    client.post(f"/api/jobs/{job.id}/render")
    again = wait_for_job(worker.library, job.id)
    assert again.version == job.version + 1
    gpo(home, "update")
    [same] = gpodder_episodes(home)
    assert same["guid"] == episode["guid"] and f"v={again.version}" in same["url"]

    # A new article is a new episode after `gpo update`.
    publish(client, worker.library, SECOND)
    gpo(home, "update")
    assert [e["title"] for e in gpodder_episodes(home)] == [job.title, "کراچی میں بارش"]


def test_independent_readers_accept_the_episode_files(site, tmp_path):
    _, client, worker = site
    job = publish(client, worker.library, ARTICLE)
    mp3 = worker.library.episode_path(job.id)
    paragraphs = [line for line in ARTICLE.splitlines() if line.strip()]

    loaded = eyed3.load(mp3)  # eyeD3: ID3 v2.3, CHAP and CTOC frames, cover
    tag = loaded.tag
    assert tag.version == (2, 3, 0) and tag.title == job.title and len(tag.images) == 1
    chapters = sorted(tag.chapters, key=lambda c: c.times.start)
    assert [c.sub_frames.get(b"TIT2")[0].text for c in chapters] == paragraphs
    [toc] = list(tag.table_of_contents)
    assert toc.toplevel and toc.ordered and len(toc.child_ids) == len(paragraphs)
    assert abs(chapters[-1].times.end / 1000 - loaded.info.time_secs) < 0.1

    info = TinyTag.get(mp3)  # TinyTag: duration, stream, tags
    assert abs(info.duration - job.duration) < 0.2
    assert info.samplerate == 44100 and info.channels == 1
    assert info.title == job.title and info.album == worker.settings.show_title

    response = client.get(f"/episodes/{job.id}.mp3?v={job.version}&download=1")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="tts-news-' in disposition and "filename*=UTF-8''" in disposition
    plain = disposition.split('filename="')[1].split('"')[0]
    assert plain.strip() and plain.isascii() and plain.endswith(".mp3") and " " not in plain
    for suffix in (".vtt", ".chapters.json", ".transcript.json"):
        other = client.get(f"/episodes/{job.id}{suffix}").headers["Content-Disposition"]
        assert f'{job.id[:8]}{suffix}"' in other
