"""Jobs and the JSON API: real Huey queues, real consumers, real espeak-urdu renders."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import SEED, free_port, wait_for_health, wait_for_job

from tts_news.core.config import Settings
from tts_news.jobs.service import Service
from tts_news.jobs.worker import Worker

ARTICLE = "جنیوا میں 25 ممالک کا اجلاس\nاجلاس میں 3 قراردادیں منظور ہوئیں۔ اگلا اجلاس 2027 میں ہوگا۔"


def post(client, body, **kw):
    return client.post("/api/jobs", data=body if isinstance(body, (str, bytes)) else json.dumps(body),
                       content_type=kw.pop("content_type", "application/json"), **kw)


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body["error"]) >= {"message", "code"} and body["error"]["message"]
    return body["error"]


# -- the API's answers to bad input -------------------------------------------------------------

@pytest.mark.parametrize("body, status, code", [
    ({}, 400, "bad_request"),
    ({"text": ""}, 400, "bad_request"),
    ({"text": "   \n "}, 400, "bad_request"),
    ({"text": 42}, 400, "bad_request"),
    ({"text": ["خبر"]}, 400, "bad_request"),
    ({"text": "خبر۔", "title": 7}, 400, "bad_request"),
    ({"text": "خبر۔", "voice": "no-such-voice"}, 400, "unknown_voice"),
    ({"text": "خبر۔", "voice": 3}, 400, "bad_request"),
    ("{not json", 400, "invalid_json"),
    ('["a list"]', 400, "invalid_json"),
])
def test_bad_job_requests_get_a_4xx_with_a_json_error(client, body, status, code):
    response = post(client, body)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_a_form_body_is_refused_with_415(client):
    response = client.post("/api/jobs", data={"text": "خبر"})
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_an_article_over_the_limit_is_413(settings, tmp_path):
    from tts_news.web import create_app

    small = Settings.from_env(max_article_chars=50)
    client = create_app(small, queue=Service(small)).test_client()
    response = post(client, {"text": "خبر " * 20})
    assert response.status_code == 413 and error_of(response)["code"] == "too_large"
    huge = json.dumps({"text": "خ" * 400_000}, ensure_ascii=True)  # past MAX_CONTENT_LENGTH
    response = post(client, huge)
    assert response.status_code == 413 and error_of(response)["code"] == "too_large"


def test_a_voice_that_cannot_be_had_is_409(client, settings, tmp_path):
    from conftest import write_voice

    write_voice(settings.user_voices_dir, "gone", tmp_path / "missing-model")
    response = post(client, {"text": "خبر۔", "voice": "gone"})
    assert response.status_code == 409 and error_of(response)["code"] == "voice_unavailable"


@pytest.mark.parametrize("path", [
    "/api/jobs/0b9a4b8e-0000-4000-8000-000000000000", "/api/jobs/not-a-uuid", "/api/jobs/..%2F..%2Fetc",
    "/episodes/0b9a4b8e-0000-4000-8000-000000000000.mp3", "/episodes/nope.vtt",
    "/episodes/0b9a4b8e-0000-4000-8000-000000000000.chapters.json",
])
def test_an_unknown_id_is_404_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_health_says_the_app_can_take_jobs_and_counts_them(client):
    before = client.get("/healthz")
    assert before.status_code == 200
    body = before.get_json()
    assert body["status"] == "ok" and body["queue"] == "sqlite" and body["queued"] == 0
    assert body["jobs"] == {"queued": 0, "running": 0, "done": 0, "failed": 0}
    post(client, {"text": ARTICLE, "voice": "espeak-urdu"})
    after = client.get("/healthz").get_json()
    assert after["queued"] == 1 and after["jobs"]["queued"] == 1


def test_a_job_is_accepted_queued_and_kept(client, queue):
    response = post(client, {"text": ARTICLE, "voice": "espeak-urdu"})
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["status_url"] == f"/api/jobs/{body['id']}"
    assert response.headers["Location"] == body["status_url"]
    assert body["title"] == "جنیوا میں 25 ممالک کا اجلاس"
    again = client.get(body["status_url"]).get_json()
    assert again["progress"] == {"done": 0, "total": 0} and again["episode"] is None
    assert queue.library.get(body["id"]).text == ARTICLE  # exactly what was sent


# -- real renders by a real consumer thread -----------------------------------------------------

def test_jobs_render_with_progress_and_their_files_are_served(client, worker):
    ids = [post(client, {"text": ARTICLE + f"\nخبر نمبر {i}۔", "voice": "espeak-urdu"}).get_json()["id"]
           for i in range(3)]
    seen: list = []
    jobs = [wait_for_job(worker.library, i, seen=seen) for i in ids]
    assert [j.status for j in jobs] == ["done"] * 3, [j.error for j in jobs]
    assert any(s == "running" for s, _, _ in seen), "the running state was never visible"
    # (sentence-by-sentence progress on a long article: test_serve_renders_five_posted_jobs_with_progress)
    body = client.get(f"/api/jobs/{ids[0]}").get_json()
    assert body["progress"]["done"] == body["progress"]["total"] > 0
    episode = body["episode"]
    assert episode["audio_url"] == f"/episodes/{ids[0]}.mp3?v=1"
    for url, kind in ((episode["audio_url"], "audio/mpeg"), (episode["vtt_url"], "text/vtt"),
                      (episode["chapters_url"], "application/json+chapters")):
        response = client.get(url)
        assert response.status_code == 200 and response.content_type.startswith(kind)
    assert client.get(episode["vtt_url"]).get_data(as_text=True).startswith("WEBVTT")


def test_range_requests_get_206_with_the_right_bytes(client, worker):
    job_id = post(client, {"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    wait_for_job(worker.library, job_id)
    url = client.get(f"/api/jobs/{job_id}").get_json()["episode"]["audio_url"]
    whole = worker.library.episode_path(job_id).read_bytes()
    response = client.get(url, headers={"Range": "bytes=0-1"})
    assert response.status_code == 206 and response.data == whole[:2] == b"ID"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Range"] == f"bytes 0-1/{len(whole)}"
    response = client.get(url, headers={"Range": "bytes=1000-"})
    assert response.status_code == 206 and response.data == whole[1000:]
    assert client.get(url, headers={"Range": f"bytes={len(whole) + 10}-"}).status_code == 416


def test_a_download_is_named_for_its_title(client, worker):
    job_id = post(client, {"text": ARTICLE, "title": 'خبر: "اہم" / آج', "voice": "espeak-urdu"}).get_json()["id"]
    wait_for_job(worker.library, job_id)
    response = client.get(f"/episodes/{job_id}.mp3?download=1")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    from urllib.parse import unquote

    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "خبر اہم آج.mp3"


def test_rendering_again_keeps_the_id_and_changes_the_audio_url(client, worker):
    job_id = post(client, {"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    wait_for_job(worker.library, job_id)
    first = client.get(f"/api/jobs/{job_id}").get_json()["episode"]
    response = client.post(f"/api/jobs/{job_id}/render")
    assert response.status_code == 202 and response.get_json()["id"] == job_id
    wait_for_job(worker.library, job_id)
    second = client.get(f"/api/jobs/{job_id}").get_json()["episode"]
    assert second["audio_url"] != first["audio_url"] and second["audio_url"].startswith(f"/episodes/{job_id}.mp3")
    assert sorted(p.name for p in worker.library.episodes_dir.iterdir()) == sorted(
        f"{job_id}{s}" for s in (".mp3", ".vtt", ".chapters.json", ".transcript.json"))  # one episode, not two


def test_running_a_finished_job_again_does_not_render_it_again(client, worker):
    job_id = post(client, {"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    done = wait_for_job(worker.library, job_id)
    mtime = worker.library.episode_path(job_id).stat().st_mtime_ns
    Worker(worker.settings, worker.library, worker.queue).render_job(job_id)  # a duplicate queue entry arriving late
    assert worker.library.get(job_id).attempts == done.attempts == 1
    assert worker.library.episode_path(job_id).stat().st_mtime_ns == mtime


def test_a_queued_job_the_queue_lost_is_sent_again(queue):
    from tts_news.jobs.worker import start_embedded_worker

    job = queue.library.create(ARTICLE, "espeak-urdu", "سرخی")  # recorded, but never reached the queue
    assert Worker(queue.settings, queue.library, queue.queue).recover() == 1  # before any worker runs, so no sweeper can have sent it first
    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)
    try:
        assert wait_for_job(queue.library, job.id).status == "done"
    finally:
        stop.set()


def test_a_failed_job_keeps_a_readable_error(client, worker, settings, tmp_path):
    from conftest import write_voice

    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{ this is not json")
    (broken / "model.pth").write_bytes(b"not a checkpoint")
    write_voice(settings.user_voices_dir, "broken", broken)
    response = post(client, {"text": ARTICLE, "voice": "broken"})
    assert response.status_code == 202, response.get_json()
    job = wait_for_job(worker.library, response.get_json()["id"])
    assert job.status == "failed"
    body = client.get(f"/api/jobs/{job.id}").get_json()
    assert body["status"] == "failed" and body["episode"] is None
    assert "broken-model could not be loaded" in body["error"]


# -- processes: serve, workers on Redis, kill -9 ------------------------------------------------

def _env(settings: Settings, **extra) -> dict:
    env = dict(os.environ, TTS_NEWS_DATA_DIR=str(settings.data_dir), TTS_NEWS_OFFLINE="1", **extra)
    return env


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tts_news.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=log.open("w"))


def _wait_for_line(log: Path, needle: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in log.read_text(errors="replace"):
            return
        assert proc.poll() is None, f"{proc.args} exited: {log.read_text()}"
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} never appeared in {log}: {log.read_text()}")


def _http_json(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_serve_renders_five_posted_jobs_with_progress(settings, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    proc = _start(["serve", "--port", str(port)], _env(settings), log)
    try:
        wait_for_health(base, proc, log)
        seed = SEED.read_text(encoding="utf-8")
        ids = [_http_json(f"{base}/api/jobs", {"text": seed if i == 0 else ARTICLE, "voice": "espeak-urdu"})["id"]
               for i in range(5)]
        progress, deadline = set(), time.monotonic() + 180
        while time.monotonic() < deadline:
            states = [_http_json(f"{base}/api/jobs/{i}") for i in ids]
            progress |= {(s["id"], s["progress"]["done"]) for s in states if s["status"] == "running"}
            if all(s["status"] in ("done", "failed") for s in states):
                break
            time.sleep(0.05)
        assert [s["status"] for s in states] == ["done"] * 5, [s["error"] for s in states]
        assert len({d for i, d in progress if i == ids[0]}) > 2, "the long job's progress never moved"
        request = urllib.request.Request(base + states[0]["episode"]["audio_url"], headers={"Range": "bytes=0-1"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 206 and response.read() == b"ID"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.redis
def test_two_workers_on_redis_render_twenty_jobs_each_once(settings, redis_url, tmp_path):
    env = _env(settings, TTS_NEWS_REDIS_URL=redis_url)
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    workers = [_start(["worker"], env, log) for log in logs]
    try:
        for proc, log in zip(workers, logs):
            _wait_for_line(log, "ready", proc)
        queue = Service(Settings.from_env(redis_url=redis_url))
        assert queue.settings.redis_url == redis_url
        ids = [queue.submit(f"خبر نمبر {i}\nآج {i} افراد نے شرکت کی۔", voice="espeak-urdu").id for i in range(20)]
        jobs = [wait_for_job(queue.library, i, timeout=300) for i in ids]
        assert [j.status for j in jobs] == ["done"] * 20, [j.error for j in jobs]
        assert [j.attempts for j in jobs] == [1] * 20  # each rendered exactly once
        assert {j.worker for j in jobs} == {f"{socket.gethostname()}:{p.pid}"
                                            for p in workers}  # both machines' worth of workers took jobs
        assert all(queue.library.episode_path(i).stat().st_size > 1000 for i in ids)
        assert queue.queue.huey.pending_count() == 0
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(10)


def test_a_job_whose_worker_is_killed_completes_after_a_restart(settings, tmp_path):
    env = _env(settings)
    queue = Service(settings)
    log = tmp_path / "worker.log"
    proc = _start(["worker"], env, log)
    _wait_for_line(log, "ready", proc)
    job = queue.submit("\n".join([SEED.read_text(encoding="utf-8")] * 2), voice="espeak-urdu")
    wait_for_job(queue.library, job.id, statuses=("running",), timeout=60)
    while queue.library.get(job.id).done < 3:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    killed = queue.library.get(job.id)
    assert killed.status == "running" and killed.done < killed.total  # it died mid-render
    assert not queue.library.episode_path(job.id).exists()

    log2 = tmp_path / "worker2.log"
    proc = _start(["worker"], env, log2)
    try:
        _wait_for_line(log2, "1 unfinished jobs sent again", proc)
        done = wait_for_job(queue.library, job.id, timeout=180)
        assert done.status == "done" and done.attempts == 2 and done.done == done.total
        assert queue.library.episode_path(job.id).stat().st_size == done.size
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_worker_loads_its_voice_model_once_at_start_not_per_job(tiny_voice):
    from tts_news.jobs.worker import start_embedded_worker
    from tts_news.voice.loader import _coqui

    settings = Settings.from_env(voice=tiny_voice)
    queue = Service(settings)
    _coqui.cache_clear()
    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)
    try:
        deadline = time.monotonic() + 60
        while _coqui.cache_info().currsize == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _coqui.cache_info().misses == 1  # loaded before any job arrived
        ids = [queue.submit(ARTICLE + f"\nنمبر {i}۔").id for i in range(2)]
        jobs = [wait_for_job(queue.library, i) for i in ids]
        assert [(j.status, j.voice) for j in jobs] == [("done", tiny_voice)] * 2, [j.error for j in jobs]
        assert _coqui.cache_info().misses == 1 and _coqui.cache_info().hits >= 2
    finally:
        stop.set()


def test_a_failed_voice_download_is_not_tried_again_for_every_job(settings, file_server):
    from tts_news.jobs.worker import start_embedded_worker

    online = Settings.from_env(offline=False, download_base_url=file_server.url,  # the server has no voice
                               fetch_allow_private=True)  # it is on 127.0.0.1
    queue = Service(online)
    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)
    try:
        jobs = [wait_for_job(queue.library, queue.submit(ARTICLE + f"\nنمبر {i}۔").id) for i in range(3)]
        assert [(j.status, j.voice) for j in jobs] == [("done", "espeak-urdu")] * 3
        assert "speaking with espeak-urdu instead" in jobs[0].warnings[0]["message"]
        assert len(file_server.requested) == 1  # tried once, when the worker started
    finally:
        stop.set()


@pytest.mark.redis
def test_a_job_sent_while_redis_is_down_is_kept_and_sent_when_it_is_back(settings, tmp_path):
    import redis as redis_client
    from conftest import free_port

    from tts_news.web import create_app

    port = free_port()
    down = Settings.from_env(redis_url=f"redis://127.0.0.1:{port}/0")
    client = create_app(down, queue=Service(down)).test_client()
    assert client.get("/healthz").status_code == 503
    response = post(client, {"text": ARTICLE, "voice": "espeak-urdu"})
    assert response.status_code == 202  # recorded: nothing the user sent is lost
    job_id = response.get_json()["id"]
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                redis_client.Redis(port=port).ping()
                break
            except redis_client.ConnectionError:
                time.sleep(0.05)
        log = tmp_path / "worker.log"
        worker = _start(["worker"], _env(settings, TTS_NEWS_REDIS_URL=down.redis_url), log)
        try:
            _wait_for_line(log, "1 unfinished jobs sent again", worker)
            assert wait_for_job(Service(down).library, job_id).status == "done"
        finally:
            worker.terminate()
            worker.wait(10)
    finally:
        server.terminate()
        server.wait(10)
