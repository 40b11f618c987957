"""No job can take the service down: poison jobs stop, speech never blocks the web, connections,
deleting a job, and the edges."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import requests
from conftest import free_port, wait_for_health, wait_for_job

from tts_news.core.config import Settings
from tts_news.jobs.service import Service
from tts_news.jobs.worker import Worker

ARTICLE = "سرخی\nکراچی میں بارش ہوئی۔\n"


def test_a_job_that_kills_its_worker_every_time_ends_failed_after_three_attempts(settings):
    service = Service(Settings.from_env(job_lease_s=1.0))
    library = service.library
    poison = library.create(ARTICLE, "espeak-urdu", "سرخی")
    for attempt in range(1, 4):
        held = library.claim(poison.id, f"host:{attempt}:dead")
        assert held is not None and held.attempts == attempt
        with library._db() as db:  # its worker dies: no heartbeat since long ago
            db.execute("UPDATE jobs SET heartbeat = 0, updated = updated - 10 WHERE id = ?", (poison.id,))
    assert [j.id for j in library.orphans()] == [poison.id]
    Worker(service.settings, service.library, service.queue).recover()
    assert library.claim(poison.id, "host:4:alive") is None  # not a fourth time
    failed = library.get(poison.id)
    assert failed.status == "failed" and "3 times" in failed.error
    other = library.create(ARTICLE, "espeak-urdu", "دوسری")
    assert library.claim(other.id, "host:5:alive") is not None  # the service goes on with other jobs


def test_an_article_too_long_to_master_is_refused_at_submission(client, queue):
    article = "سرخی\n" + "\n".join(["کراچی میں آج صبح سے تیز بارش ہو رہی ہے اور کئی علاقوں میں پانی جمع ہو گیا۔"] * 1300)
    assert len(article) < 100_000
    response = client.post("/api/jobs", json={"text": article})
    assert response.status_code == 413
    assert "minutes" in response.get_json()["error"]["message"] and queue.library.jobs() == []


def test_an_unencodable_text_is_400_at_submission(client, queue):
    response = client.post("/api/jobs", data='{"text": "\\ud800 abc"}', content_type="application/json")
    assert response.status_code == 400 and "surrogate" in response.get_json()["error"]["message"]
    assert queue.library.jobs() == []


def test_an_editor_deletes_a_job_and_the_pages_and_feed_drop_it(client, worker):
    job_id = client.post("/api/jobs", json={"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    wait_for_job(worker.library, job_id)
    assert job_id in client.get("/feed.xml").get_data(as_text=True)
    assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.get(f"/episodes/{job_id}").status_code == 404
    assert job_id not in client.get("/feed.xml").get_data(as_text=True)
    assert job_id not in client.get("/episodes").get_data(as_text=True)
    assert not list(worker.library.episodes_dir.glob(f"{job_id}.*"))


def test_the_delete_button_on_the_job_page(client, worker):
    import re

    job_id = client.post("/api/jobs", json={"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    wait_for_job(worker.library, job_id)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f'action="/jobs/{job_id}/delete"' in page and "حذف کریں" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/jobs/{job_id}/delete", data={"csrf_token": token}).status_code == 303
    assert client.get(f"/jobs/{job_id}").status_code == 404


def test_the_session_cookie_is_samesite_lax(client):
    client.get("/")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.same_site == "Lax" and cookie.http_only


def test_stale_part_files_are_removed_at_start(settings, queue):
    import os

    library = queue.library
    stale = library.episodes_dir / ".abc.x1y2.part.mp3"
    fresh = library.episodes_dir / ".def.x3y4.part.mp3"
    fifo = library.episodes_dir / ".abc.x1y2.part.ffmeta"  # a killed encoder's metadata FIFO
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.mkfifo(fifo)
    for old in (stale, fifo):
        os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert library.remove_stale_parts() == 2
    assert not stale.exists() and not fifo.exists() and fresh.exists()  # another worker may be writing the fresh one


def test_speech_beyond_the_waiting_bound_is_refused_at_once(client):
    from tts_news.web import openai_api

    held = 0
    try:
        while openai_api.WAITING.acquire(blocking=False):
            held += 1
        assert held == openai_api.MAX_WAITING_SPEECH
        started = time.monotonic()
        response = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "آج"})
        assert response.status_code == 503 and time.monotonic() - started < 1
        assert response.get_json()["error"]["message"]
    finally:
        for _ in range(held):
            openai_api.WAITING.release()


def test_150_idle_connections_do_not_stop_healthz(settings):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--port", str(port), "--no-worker"],
                              stderr=subprocess.DEVNULL)
    idle = []
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server)
        for _ in range(150):
            idle.append(socket.create_connection(("127.0.0.1", port)))
        idle[-1].sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a request, never finished
        started = time.monotonic()
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        assert time.monotonic() - started < 1
    finally:
        for s in idle:
            s.close()
        server.terminate()
        server.wait(10)


def test_markdown_length_is_checked_before_parsing(tmp_path, monkeypatch):
    from tts_news.text import article

    parsed: list[int] = []
    parse = article.markdown_to_text
    monkeypatch.setattr(article, "markdown_to_text", lambda text: parsed.append(len(text)) or parse(text))
    (tmp_path / "flood.md").write_text(" _a" * 60_000, encoding="utf-8")
    (tmp_path / "story.md").write_text("# سرخی\n\nخبر کا *متن*۔\n", encoding="utf-8")
    started = time.monotonic()
    articles, bad = article.read_articles(tmp_path, max_chars=100_000)
    assert [a.path.name for a in articles] == ["story.md"] and "limit" in bad[0].detail
    assert parsed == [len("# سرخی\n\nخبر کا *متن*۔\n")]  # only the story within the limit was parsed
    assert time.monotonic() - started < 1


def test_deleting_a_job_while_it_renders_cancels_it_and_leaves_no_files(client, worker):
    article = "\n".join(["سرخی", *["کراچی میں آج دن بھر تیز بارش ہوتی رہی اور شہری گھروں میں رہے۔"] * 80])
    job_id = client.post("/api/jobs", json={"text": article, "voice": "espeak-urdu"}).get_json()["id"]
    seen = []
    wait_for_job(worker.library, job_id, statuses=("running",), seen=seen)
    while worker.library.get(job_id).done < 2:
        time.sleep(0.05)
    assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    # the worker notices at its next sentence and goes on with the next job (one consumer thread: once
    # that is done, the cancelled render has ended)
    next_id = client.post("/api/jobs", json={"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    assert wait_for_job(worker.library, next_id).status == "done"
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert not list(worker.library.episodes_dir.glob(f"{job_id}*"))
    assert not (worker.settings.data_dir / "live" / f"{job_id}.mp3").exists()


def test_twelve_maximal_speech_requests_leave_the_web_responsive_and_the_queue_small(settings):
    from concurrent.futures import ThreadPoolExecutor

    from conftest import SEED

    port = free_port()
    env = {**__import__("os").environ, "TTS_NEWS_VOICE": "espeak-urdu", "TTS_NEWS_SPEECH_RATE": "1000/minute"}
    server = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--port", str(port)], env=env,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    prose = (SEED.read_text(encoding="utf-8") * 3)[:4096]
    try:
        wait_for_health(base, server)

        def ask(_):
            response = requests.post(f"{base}/v1/audio/speech", json={"model": "tts-1", "voice": "alloy",
                                                                      "input": prose, "response_format": "wav"},
                                     stream=True, timeout=120)
            first = next(response.iter_content(4096), b"") if response.status_code == 200 else b""
            return response, first

        with ThreadPoolExecutor(12) as pool:
            pending = [pool.submit(ask, i) for i in range(12)]
            health = []
            for _ in range(10):
                started = time.monotonic()
                assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
                health.append(time.monotonic() - started)
                time.sleep(0.2)
            answers = [p.result() for p in pending]
        codes = sorted(r.status_code for r, _ in answers)
        assert max(health) < 1.0, health
        assert codes.count(503) >= 12 - 8 and set(codes) <= {200, 503}  # beyond the bound: refused at once
        assert all(first for r, first in answers if r.status_code == 200)  # accepted ones stream audio
        for r, _ in answers:
            r.close()
        assert (settings.data_dir / "queue.sqlite3").stat().st_size < 10 * 2**20
    finally:
        server.terminate()
        server.wait(10)
