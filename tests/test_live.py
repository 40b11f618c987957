"""Listening while a job renders: its live MP3 over HTTP, for one listener or twenty, to the end of
the article, as loud as the finished episode; a worker that dies ends the stream cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
import urllib.request

import pytest
from conftest import SEED, serve_in_thread, wait_for_job
from test_jobs import _env, _start, _wait_for_line

from tts_news.audio import mp3 as encode
from tts_news.core.config import Settings
from tts_news.jobs.service import Service
from tts_news.jobs.streams import job_stream

LONG = "\n".join([SEED.read_text(encoding="utf-8")] * 3)  # long enough to listen before it is done


def post_job(base: str, text: str) -> dict:
    request = urllib.request.Request(f"{base}/api/jobs", data=json.dumps({"text": text, "voice": "espeak-urdu"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def decoded_seconds(path) -> float:
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
                         capture_output=True, check=True).stdout
    return len(pcm) / 2 / 16000


def test_a_job_streams_its_audio_while_it_renders_as_loud_as_the_episode(live, queue, tmp_path):
    job = post_job(live, LONG)
    assert job["live_audio_url"] == f"/jobs/{job['id']}/live.mp3"
    with urllib.request.urlopen(live + job["live_audio_url"], timeout=60) as response:
        assert response.headers["Content-Type"] == "audio/mpeg"
        first = response.read1(65536)
        assert first and queue.library.get(job["id"]).status in ("queued", "running")  # heard before it is done
        heard = first + response.read()
    done = wait_for_job(queue.library, job["id"])
    assert done.status == "done" and done.attempts == 1
    stream = tmp_path / "live.mp3"
    stream.write_bytes(heard)
    episode = queue.library.episode_path(job["id"])
    assert decoded_seconds(stream) == pytest.approx(done.duration, abs=1.0)  # the whole article
    live_loudness = encode.measure_loudness(stream)["integrated_lufs"]
    assert live_loudness == pytest.approx(encode.measure_loudness(episode)["integrated_lufs"], abs=2)
    assert encode.measure_loudness(stream)["true_peak_dbtp"] <= -1
    # once done: no live URL, and the old one leads to the episode
    assert get_json(f"{live}/api/jobs/{job['id']}")["live_audio_url"] is None
    with urllib.request.urlopen(live + job["live_audio_url"], timeout=10) as response:
        assert response.url.endswith(f"/episodes/{job['id']}.mp3?v=1") and response.read(3) == b"ID3"
    assert not job_stream(queue.settings.data_dir, job["id"]).path.exists()


def test_twenty_listeners_hear_one_render_and_one_who_leaves_costs_nothing(live, queue):
    job = post_job(live, LONG)
    heard: list[bytes] = [b""] * 20
    errors: list[BaseException] = []

    def listen(i: int) -> None:
        try:
            with urllib.request.urlopen(live + job["live_audio_url"], timeout=120) as response:
                heard[i] = response.read1(4096) if i == 0 else response.read()  # the first one leaves early
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    listeners = [threading.Thread(target=listen, args=(i,)) for i in range(20)]
    for t in listeners:
        t.start()
    for t in listeners:
        t.join(180)
    assert not errors
    done = wait_for_job(queue.library, job["id"])
    assert done.status == "done" and done.attempts == 1  # rendered once for everybody
    assert len(set(heard[1:])) == 1 and len(heard[1]) > 100_000  # everybody heard the same stream
    assert heard[1].startswith(heard[0])


def test_a_queued_job_s_listener_waits_for_the_first_sentence(settings, tmp_path):
    queue = Service(settings)
    from tts_news.web import create_app

    url, stop = serve_in_thread(create_app(settings, queue=queue))  # no worker yet
    try:
        job = post_job(url, "خبر\nپہلا جملہ ہے۔ دوسرا جملہ ہے۔")
        got: list[bytes] = []
        listener = threading.Thread(target=lambda: got.append(urllib.request.urlopen(
            url + job["live_audio_url"], timeout=120).read()))
        listener.start()
        time.sleep(1.0)
        assert listener.is_alive()  # waiting, not turned away
        from tts_news.jobs.worker import start_embedded_worker

        halt = start_embedded_worker(queue.settings, queue.library, queue.queue)
        listener.join(120)
        halt.set()
        assert got and len(got[0]) > 5000
    finally:
        stop()


def test_a_listener_hears_the_stream_end_cleanly_when_the_worker_dies(settings, tmp_path):
    env = _env(settings, TTS_NEWS_JOB_LEASE_S="2")
    on_short_lease = Settings.from_env(job_lease_s=2)
    queue = Service(on_short_lease)
    from tts_news.web import create_app

    url, stop = serve_in_thread(create_app(on_short_lease, queue=queue))
    log = tmp_path / "worker.log"
    proc = _start(["worker"], env, log)
    try:
        _wait_for_line(log, "ready", proc)
        job = post_job(url, LONG)
        with urllib.request.urlopen(url + job["live_audio_url"], timeout=60) as response:
            assert response.read1(65536)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            started = time.monotonic()
            rest = response.read()  # ends, without an error, once the writer is gone
            assert time.monotonic() - started < 20
        assert queue.library.get(job["id"]).status == "running" and rest is not None
        proc = _start(["worker"], env, tmp_path / "worker2.log")
        resumed = wait_for_job(queue.library, job["id"], timeout=180)
        assert resumed.status == "done" and resumed.attempts == 2
    finally:
        stop()
        proc.terminate()
        proc.wait(10)


def test_a_failed_job_has_no_live_audio(client, queue):
    job = queue.library.create("خبر۔", "espeak-urdu", "خبر۔")
    queue.library.claim(job.id, "test:0")
    queue.library.fail(job.id, "test:0", "the voice crashed")
    response = client.get(f"/jobs/{job.id}/live.mp3")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
