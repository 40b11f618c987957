"""Safe on a network: credentials for writers, rate limits, bounded queue and disk, no code through
the queue, input refused at once, an OpenAPI description fuzzed with schemathesis, and the review's faults."""

from __future__ import annotations

import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from conftest import PROJECT_ROOT, free_port, serve_in_thread, wait_for_health, wait_for_job
from werkzeug.security import generate_password_hash

from tts_news.core.config import Settings
from tts_news.jobs.service import Service
from tts_news.jobs.worker import Worker
from tts_news.web import create_app

ARTICLE = "سرخی\nکراچی میں بارش ہوئی۔"
KEYS = "key-one-0123456789,key-two-9876543210"
PASSWORD = "a-long-editor-password"


def make(settings: Settings, **overrides):
    s = Settings.from_env(**overrides)
    queue = Service(s)
    return create_app(s, queue=queue, test_config={"TESTING": True}), queue


def mark_done(queue: Service, job_id: str) -> None:
    with queue.library._db() as db:
        db.execute("UPDATE jobs SET status = 'done', stage = 'done' WHERE id = ?", (job_id,))


def bearer(key: str | None) -> dict:
    return {"Authorization": f"Bearer {key}"} if key else {}


def csrf(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# -- writers and listeners ----------------------------------------------------------------------------


@pytest.fixture
def guarded(settings):
    app, queue = make(settings, api_keys=KEYS, editors=f"ayesha={generate_password_hash(PASSWORD)}")
    done = queue.library.create(ARTICLE, "espeak-urdu", "پرانی خبر")
    mark_done(queue, done.id)
    return app.test_client(), queue, done.id


@pytest.mark.parametrize("key", [None, "wrong-key", "key-two-9876543210"])
def test_every_api_write_needs_a_valid_key(guarded, key):
    client, queue, done_id = guarded
    allowed = key == "key-two-9876543210"
    responses = {
        "POST /api/jobs": client.post("/api/jobs", json={"text": ARTICLE}, headers=bearer(key)),
        "POST /api/jobs/<id>/render": client.post(f"/api/jobs/{done_id}/render", headers=bearer(key)),
        "POST /v1/audio/speech": client.post("/v1/audio/speech", json={"model": "tts-1"}, headers=bearer(key)),
        "GET /v1/models": client.get("/v1/models", headers=bearer(key)),
    }
    for route, response in responses.items():
        if allowed:
            assert response.status_code != 401, route
        else:
            assert response.status_code == 401, route
            assert response.get_json()["error"]["message"], route
    if allowed:
        assert responses["POST /api/jobs"].status_code == 202
        assert responses["POST /api/jobs/<id>/render"].status_code == 202
        assert responses["POST /v1/audio/speech"].status_code == 400  # past the key: the body is checked
    else:
        assert responses["POST /v1/audio/speech"].get_json()["error"]["code"] == "invalid_api_key"
        assert queue.library.waiting() == 0  # nothing was queued


def test_listener_routes_stay_public(guarded):
    client, _, done_id = guarded
    for path in ("/", "/episodes", "/feed.xml", "/healthz", "/api/jobs", f"/api/jobs/{done_id}", "/api/voices",
                 f"/jobs/{done_id}", "/api/openapi.json", "/login"):
        assert client.get(path).status_code == 200, path


def test_the_web_form_needs_a_signed_in_editor(guarded):
    client, queue, done_id = guarded
    token = csrf(client)
    refused = client.post("/jobs", data={"csrf_token": token, "text": ARTICLE})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    refused = client.post(f"/jobs/{done_id}/render", data={"csrf_token": token})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert queue.library.waiting() == 0

    wrong = client.post("/login", data={"csrf_token": csrf(client, "/login"), "name": "ayesha", "password": "nope"})
    assert wrong.status_code == 401
    signed_in = client.post("/login", data={"csrf_token": csrf(client, "/login"), "name": "ayesha",
                                            "password": PASSWORD, "next": "https://evil.example/"})
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/"  # no open redirect
    sent = client.post("/jobs", data={"csrf_token": csrf(client), "text": ARTICLE})
    assert sent.status_code == 303 and queue.library.waiting() == 1
    assert queue.library.jobs(status="queued")[0].client == "editor:ayesha"

    client.post("/logout", data={"csrf_token": csrf(client)})
    assert client.post("/jobs", data={"csrf_token": csrf(client), "text": ARTICLE}).status_code == 302


def test_an_api_key_also_signs_an_editor_in(guarded):
    client, queue, _ = guarded
    client.post("/login", data={"csrf_token": csrf(client, "/login"), "name": "", "password": "key-one-0123456789"})
    assert client.post("/jobs", data={"csrf_token": csrf(client), "text": ARTICLE}).status_code == 303


def test_with_nothing_configured_writes_stay_open(settings):
    app, queue = make(settings)
    assert app.test_client().post("/api/jobs", json={"text": ARTICLE}).status_code == 202


def test_serving_on_a_network_address_without_credentials_warns(settings):
    proc = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--host", "0.0.0.0", "--port",
                             str(free_port()), "--no-worker"], stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
        assert "WARNING" in first and "TTS_NEWS_API_KEYS" in first
    finally:
        proc.terminate()
        proc.wait(10)


# -- rate limits, caps, disk --------------------------------------------------------------------------


def test_submissions_over_the_rate_get_429_with_retry_after(settings):
    app, _ = make(settings, submit_rate="3/minute", speech_rate="2/minute")
    client = app.test_client()
    codes = [client.post("/api/jobs", json={"text": ARTICLE}).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = client.post("/api/jobs", json={"text": ARTICLE})
    assert limited.get_json()["error"]["code"] == "rate_limit_exceeded"
    assert 0 < int(limited.headers["Retry-After"]) <= 61
    speech = [client.post("/v1/audio/speech", json={}) for _ in range(3)]
    assert [r.status_code for r in speech] == [400, 400, 429]
    assert speech[-1].get_json()["error"]["type"] and "Retry-After" in speech[-1].headers  # OpenAI's shape


def test_the_queue_is_bounded_per_client_and_in_total(settings):
    app, queue = make(settings, api_keys=KEYS, max_queued_per_client=2, max_queued=3)
    client = app.test_client()
    one, two = bearer("key-one-0123456789"), bearer("key-two-9876543210")
    codes = [client.post("/api/jobs", json={"text": ARTICLE}, headers=one).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    assert client.post("/api/jobs", json={"text": ARTICLE}, headers=one).get_json()["error"]["code"] == \
        "too_many_queued"
    assert client.post("/api/jobs", json={"text": ARTICLE}, headers=two).status_code == 202
    full = client.post("/api/jobs", json={"text": ARTICLE}, headers=two)
    assert full.status_code == 503 and full.get_json()["error"]["code"] == "queue_full"
    assert queue.library.waiting() == 3


def test_new_work_is_refused_with_507_when_the_disk_is_nearly_full(settings):
    free_mb = shutil.disk_usage(settings.data_dir.parent).free // 2**20
    app, queue = make(settings, min_free_mb=free_mb + 10_000)
    client = app.test_client()
    response = client.post("/api/jobs", json={"text": ARTICLE})
    assert response.status_code == 507 and "disk" in response.get_json()["error"]["message"]
    speech = client.post("/v1/audio/speech", json={"model": "tts-1", "input": "آج", "voice": "alloy"})
    assert speech.status_code == 507 and speech.get_json()["error"]["type"]
    page = client.post("/jobs", data={"csrf_token": csrf(client), "text": ARTICLE})
    assert page.status_code == 507 and "disk" in page.get_data(as_text=True)
    assert queue.library.waiting() == 0


def test_two_hundred_rapid_submissions_leave_the_server_responsive_and_the_queue_bounded(settings):
    app, queue = make(settings, api_keys=KEYS, max_queued_per_client=25, submit_rate="1000/minute")
    url, stop = serve_in_thread(app)
    headers = bearer("key-one-0123456789")
    health_ms: list[float] = []
    flooding = threading.Event()
    flooding.set()

    def watch():
        while flooding.is_set():
            t = time.perf_counter()
            assert requests.get(f"{url}/healthz", timeout=5).status_code == 200
            health_ms.append(1000 * (time.perf_counter() - t))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda _: requests.post(f"{url}/api/jobs", json={"text": ARTICLE}, headers=headers,
                                                          timeout=30).status_code, range(200)))
    finally:
        flooding.clear()
        watcher.join()
        stop()
    assert codes.count(202) == 25 and codes.count(429) == 175
    assert queue.library.waiting() == 25
    assert health_ms and max(health_ms) < 2000  # answered throughout (2 cores, 16 writers)


# -- input refused at once ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{"text": "!!! ... ###"}, {"text": "<p>&nbsp;</p>"},
                                  {"text": ARTICLE, "title": "ع" * 301}])
def test_an_article_with_nothing_to_say_or_too_long_a_title_is_400_at_once(client, queue, body):
    response = client.post("/api/jobs", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["message"]
    assert queue.library.jobs() == []


# -- no code through the queue ------------------------------------------------------------------------


def test_the_queue_carries_json_and_will_not_unpickle(settings, tmp_path):
    queue = Service(settings)
    job = queue.submit(ARTICLE)
    [raw] = queue.queue.huey.storage.enqueued_items()
    message = json.loads(raw)  # JSON, not pickle
    assert job.id in json.dumps(message)
    queue.queue.huey.dequeue()

    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    queue.queue.huey.storage.enqueue(pickle.dumps(Exploit()))
    with pytest.raises(ValueError):
        queue.queue.huey.dequeue()
    assert not marker.exists()


# -- the OpenAPI description, fuzzed against a live server --------------------------------------------


def test_the_api_matches_its_openapi_description_under_schemathesis(settings, tmp_path):
    port = free_port()
    env = {**os.environ, "TTS_NEWS_VOICE": "espeak-urdu", "TTS_NEWS_SUBMIT_RATE": "10000/minute",
           "TTS_NEWS_SPEECH_RATE": "10000/minute", "TTS_NEWS_MAX_QUEUED_PER_CLIENT": "100000"}
    server = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--port", str(port)], env=env,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server)
        spec = requests.get(f"{base}/api/openapi.json", timeout=10).json()
        assert spec["openapi"] == "3.1.0" and "/v1/audio/speech" in spec["paths"]
        schemathesis = Path(sys.executable).with_name("schemathesis")
        # Speech first, while the worker is idle; then the job API, whose fuzzed articles it renders.
        speech = subprocess.run(
            [str(schemathesis), "run", f"{base}/api/openapi.json", "--checks",
             "not_a_server_error,status_code_conformance,response_schema_conformance",
             "--max-examples", "6", "--request-timeout", "120", "--seed", "1",
             "--include-operation-id", "createSpeech"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert speech.returncode == 0, speech.stdout[-4000:]
        done = subprocess.run(
            [str(schemathesis), "run", f"{base}/api/openapi.json", "--checks",
             "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
             "--max-examples", "12", "--workers", "2", "--request-timeout", "60", "--seed", "1",
             "--exclude-operation-id", "createSpeech"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
        assert done.returncode == 0, done.stdout[-4000:]
    finally:
        server.terminate()
        server.wait(20)


# -- faults found in review ---------------------------------------------------------------------------


def test_healthz_never_shows_raw_exception_text(settings, monkeypatch):
    app, queue = make(settings)

    def broken():
        raise RuntimeError("secret path /srv/data/jobs.sqlite3 is locked")

    monkeypatch.setattr(queue.library, "counts", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and "secret" not in response.get_data(as_text=True)


def test_a_rerender_in_flight_never_serves_new_bytes_as_immutable_under_the_old_url(settings, worker):
    app = create_app(worker.settings, queue=worker, test_config={"TESTING": True})
    client = app.test_client()
    job_id = client.post("/api/jobs", json={"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    job = wait_for_job(worker.library, job_id)
    url = f"/episodes/{job_id}.mp3?v={job.version}"
    assert "immutable" in client.get(url).headers["Cache-Control"]
    mp3 = worker.library.episode_path(job_id)
    time.sleep(0.01)
    mp3.write_bytes(mp3.read_bytes())  # a re-render has renamed its new file in; the version is not bumped yet
    os.utime(mp3, (time.time() + 1, time.time() + 1))
    assert client.get(url).headers["Cache-Control"] == "no-cache"


def test_a_corrupt_batch_manifest_is_reported_not_taken_for_empty(settings, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (src / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (out / ".tts-news-batch.json").write_text("{not json", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "batch", str(src), "-o", str(out), "--voice",
                           "espeak-urdu"], capture_output=True, text=True)
    assert done.returncode != 0 and "manifest" in done.stderr
    assert not (out / "a.mp3").exists()


def test_the_show_guid_is_never_silently_made_again(settings):
    app, _ = make(settings)
    client = app.test_client()
    assert client.get("/feed.xml").status_code == 200
    identity = settings.data_dir / "feed.json"
    identity.write_text("{broken", encoding="utf-8")
    response = client.get("/feed.xml")
    assert response.status_code == 500 and "feed.json" in response.get_json()["error"]["message"]
    assert identity.read_text(encoding="utf-8") == "{broken"


def test_one_atomic_write_helper_leaves_nothing_behind_on_failure(tmp_path):
    from tts_news.core.files import atomic_path, write_text_atomic

    target = tmp_path / "a.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]
    hand_written = [str(p) for p in [*(PROJECT_ROOT / "tts_news").rglob("*.py"), *(PROJECT_ROOT / "web").rglob("*.py")]
                    if p.name != "files.py" and re.search(r"os\.replace\(|\.replace\(path\)|mkstemp", p.read_text())]
    assert hand_written == []


def test_expired_unpublished_episodes_and_speech_leftovers_are_removed(settings):
    queue = Service(settings)
    kept = queue.library.create(ARTICLE, "espeak-urdu", "سرخی", published=True)
    gone = queue.library.create(ARTICLE, "espeak-urdu", "سرخی", published=False)
    for job in (kept, gone):
        mark_done(queue, job.id)
        queue.library.episode_path(job.id).write_bytes(b"mp3")
    leftover = settings.data_dir / "speech" / ("0" * 32 + ".mp3")
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"x")
    assert Worker(queue.settings, queue.library, queue.queue).remove_expired() == 0  # nothing is old yet
    later = time.time() + (settings.keep_days + 1) * 86400
    assert Worker(queue.settings, queue.library, queue.queue).remove_expired(now=later) == 2
    assert [j.id for j in queue.library.jobs()] == [kept.id]
    assert queue.library.episode_path(kept.id).exists() and not queue.library.episode_path(gone.id).exists()
    assert not leftover.exists()


def test_measuring_loudness_checks_ffmpegs_exit_status(tmp_path):
    from tts_news.audio import mp3 as encode
    from tts_news.core.errors import ToolFailed

    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not audio at all" * 10)
    with pytest.raises(ToolFailed, match="could not measure"):
        encode.measure_loudness(broken)
