"""Hostile input cannot hurt: each row of the attacker's probe, and the smaller edges."""

from __future__ import annotations

import http.server
import io
import json
import os
import re
import signal
import socketserver
import stat
import subprocess
import sys
import tarfile
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import suppress

import numpy as np
import pytest
import requests
from conftest import free_port, wait_for_health, wait_for_job
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_news.core.config import Settings
from tts_news.core.errors import ToolFailed, UserError
from tts_news.text.normalize import Normalizer, is_sayable
from tts_news.text.script import build_script
from tts_news.web import create_app

N = Normalizer()
ARTICLE = "سرخی\nکراچی میں بارش ہوئی۔\n"


def du(path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# -- bounded work per article ---------------------------------------------------------------------------


def test_a_99000_letter_word_is_refused_cleanly_and_the_data_dir_does_not_grow(client, queue, settings):
    before = du(settings.data_dir)
    response = client.post("/api/jobs", json={"text": "ا" * 99_000 + "۔"})
    assert response.status_code == 400 and "letters" in response.get_json()["error"]["message"]
    assert queue.library.jobs() == [] and du(settings.data_dir) - before < 100_000


def test_no_piece_of_text_reaches_a_voice_longer_than_its_limit():
    script = build_script("سرخی\n" + "ب" * 1000 + " اور " + "پ" * 650 + "۔", N, max_chars=300)
    assert all(len(s.spoken) <= 300 for s in script.sentences)
    assert "".join(s.spoken for s in script.sentences).count("ب") == 1000  # cut, not dropped
    assert any("longer than the voice can say" in w.message for w in script.warnings)


def test_the_cache_limit_holds_after_every_write(tmp_path):
    from tts_news.voice.segments import SegmentCache

    cache = SegmentCache(tmp_path / "cache", max_bytes=400_000)
    for i in range(30):
        cache.put(f"{i:064x}", np.zeros(16_000, dtype=np.float32))  # 64 KB each
        assert du(tmp_path / "cache") <= 400_000
    cache.put("f" * 64, np.zeros(200_000, dtype=np.float32))  # 800 KB: more than the whole cache
    assert cache.get("f" * 64) is None and du(tmp_path / "cache") <= 400_000


# -- a linear normalizer that never raises ---------------------------------------------------------------


@pytest.mark.parametrize("line", ["-" * 100_000, "1-" * 50_000, "1." * 50_000, "a@" * 50_000, "%" * 100_000])
def test_pathological_lines_normalize_to_sayable_text(line):
    spoken = N.normalize(line).spoken
    assert all(is_sayable(ch) for ch in spoken)


def test_five_thousand_digits_are_read_digit_by_digit():
    spoken = N.normalize("9" * 5000).spoken
    assert spoken.split() == ["نو"] * 5000
    assert N.normalize("12345678901234567890 روپے").spoken.startswith("ایک دو تین")


HOSTILE = st.text(
    alphabet=st.sampled_from(list("0123456789-./,:@#%$+×½ ۔،؟!abcXYZé\u200f\u200e\u202b\x00\x01\x0b\ufeffاب پ\n")),
    max_size=300,
) | st.builds(lambda ch, n: ch * n, st.sampled_from(list("-.9a@%ا ")), st.integers(1, 3000))


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_the_normalizer_never_raises_and_never_leaves_digits_or_latin(text):
    result = N.normalize(text)
    assert not re.search(r"[0-9A-Za-z]", result.spoken)
    assert all(is_sayable(ch) for ch in result.spoken)


# -- valid XML and text everywhere ---------------------------------------------------------------------


def test_hostile_titles_and_text_keep_the_feed_tags_and_transcript_well_formed(client, worker):
    from mutagen.id3 import ID3

    title = "خبر\x01\x02 <b>&\ufffe"
    text = "پہلی سطر\nیہ <3 متن ہے اور 5 < 6 & 7 > 3۔\n<b>دوسری</b> سطر۔\n"
    response = client.post("/api/jobs", json={"text": text, "title": title, "voice": "espeak-urdu"})
    assert response.status_code == 202
    job = wait_for_job(worker.library, response.get_json()["id"])
    assert job.status == "done" and "\x01" not in job.title
    feed = client.get("/feed.xml").data
    root = ET.fromstring(feed)  # a strict XML 1.0 parser
    assert root.find("channel/item/title").text == "خبر <b>&"
    vtt = worker.library.episode_path(job.id, ".vtt").read_text(encoding="utf-8")
    assert "&lt;3" in vtt and "<3" not in vtt and "5 &lt; 6 &amp; 7 &gt; 3" in vtt
    assert "<b>" not in vtt and "دوسری سطر" in vtt  # real markup is not read, not shown
    tags = ID3(worker.library.episode_path(job.id))
    assert str(tags["TIT2"]) == "خبر <b>&"
    page = client.get(f"/episodes/{job.id}").get_data(as_text=True)
    assert "&lt;3" in page and "<3" not in page  # the transcript shown as text, escaped


# -- speech bounded by its output ------------------------------------------------------------------------


def test_speech_that_would_last_too_long_is_refused(client):
    response = client.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "9" * 4096})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "speech_too_long" and error["param"] == "input" and "minutes" in error["message"]


# -- requests that cannot be forged ------------------------------------------------------------------------


@pytest.fixture
def finished(queue):
    job = queue.library.create(ARTICLE, "espeak-urdu", "سرخی")
    with queue.library._db() as db:
        db.execute("UPDATE jobs SET status = 'done' WHERE id = ?", (job.id,))
    return job.id


def test_a_cross_site_form_post_cannot_rerender(client, queue, finished):
    refused = [
        client.post(f"/api/jobs/{finished}/render", data="", content_type="application/x-www-form-urlencoded"),
        client.post(f"/api/jobs/{finished}/render", headers={"Sec-Fetch-Site": "cross-site"}),
        client.post(f"/api/jobs/{finished}/render", headers={"Origin": "https://evil.example"}),
        client.post(f"/jobs/{finished}/render", headers={"Origin": "https://evil.example"}),
        client.post("/api/jobs", json={"text": ARTICLE}, headers={"Origin": "null"}),
    ]
    assert [r.status_code for r in refused] == [415, 403, 403, 403, 403]
    assert queue.library.get(finished).status == "done"
    same_site = client.post(f"/api/jobs/{finished}/render", headers={"Origin": "http://localhost",
                                                                     "Sec-Fetch-Site": "same-origin"})
    assert same_site.status_code == 202


def test_a_forged_host_changes_nothing(client, settings):
    forged = client.get("/feed.xml", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert not (settings.data_dir / "feed.json").exists()
    feed = client.get("/feed.xml").get_data(as_text=True)
    assert "evil.example" not in feed and "http://localhost/feed.xml" in feed


def test_a_public_url_decides_the_feed_whatever_the_host(settings):
    from tts_news.jobs.service import Service

    public = Settings.from_env(public_url="https://news.example.pk", trusted_hosts="tts.internal")
    client = create_app(public, queue=Service(public)).test_client()
    feed = client.get("/feed.xml", headers={"Host": "tts.internal"}).get_data(as_text=True)
    assert "https://news.example.pk/feed.xml" in feed and "tts.internal" not in feed
    assert client.get("/feed.xml", headers={"Host": "other.example"}).status_code == 400


# -- smaller edges -------------------------------------------------------------------------------------------


def test_the_secret_key_file_is_private(settings, client):
    mode = stat.S_IMODE((settings.data_dir / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(("header", "status", "length"), [
    ("bytes=0-9", 206, 10), ("garbage", 200, None), ("bytes=10-5", 200, None), ("bytes=0-1,5-6", 200, None),
    ("bytes=-999999999", 206, None), ("bytes=999999999-", 416, 0),
])
def test_range_requests_follow_rfc_9110(client, worker, header, status, length):
    job_id = client.post("/api/jobs", json={"text": ARTICLE, "voice": "espeak-urdu"}).get_json()["id"]
    job = wait_for_job(worker.library, job_id)
    size = worker.library.episode_path(job.id).stat().st_size
    response = client.get(f"/episodes/{job.id}.mp3?v={job.version}", headers={"Range": header})
    assert response.status_code == status
    if status == 416:
        return
    assert len(response.data) == (length if length is not None else size)


def test_voice_files_name_only_real_models(settings):
    from tts_news.voice.catalog import get_voice

    settings.user_voices_dir.mkdir(parents=True, exist_ok=True)
    bad = settings.user_voices_dir / "evil.toml"
    bad.write_text('name = "evil"\nlabel = "x"\nengine = "coqui"\nlanguage = "ur"\nlicense = "x"\n'
                   'sample_rate = 16000\n[coqui]\nmodel = "../../../etc/passwd"\n', encoding="utf-8")
    with pytest.raises(UserError, match="model must be a Coqui model name"):
        get_voice(settings, "evil")


def test_voice_archives_are_capped_in_bytes(tmp_path, monkeypatch):
    from tts_news.voice import install as voices

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = b"\0" * 100_000
        info = tarfile.TarInfo("model/big.pth")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "voice.tar.gz"
    archive.write_bytes(buf.getvalue())
    monkeypatch.setattr(voices, "MAX_UNPACKED_BYTES", 50_000)
    with pytest.raises(UserError, match="unpacks to 100,000 bytes"):
        voices._unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out" / "model" / "big.pth").exists()


def test_voice_downloads_are_capped_in_bytes(tmp_path, monkeypatch, file_server):
    from tts_news.core.errors import VoiceUnavailable
    from tts_news.voice import install as voices

    file_server.routes["/big.tar.gz"] = b"x" * 300_000
    monkeypatch.setattr(voices, "MAX_DOWNLOAD_BYTES", 100_000)
    local = Settings.from_env({}, fetch_allow_private=True)  # the file server is on 127.0.0.1
    with pytest.raises(VoiceUnavailable, match="is 300,000 bytes; the limit is 100,000"):
        voices._download(f"{file_server.url}/big.tar.gz", tmp_path / "dl", local, None)


def test_a_voice_download_without_a_declared_length_is_stopped_at_the_cap(tmp_path, monkeypatch):
    from tts_news.core.errors import VoiceUnavailable
    from tts_news.voice import install as voices

    class Endless(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no Content-Length: the body ends when the server hangs up

        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.end_headers()
            with suppress(OSError):  # the client hangs up first
                for _ in range(100):
                    self.wfile.write(b"x" * 10_000)

        def log_message(self, *args):
            pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Endless)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(voices, "MAX_DOWNLOAD_BYTES", 100_000)
    seen = []
    try:
        with pytest.raises(VoiceUnavailable, match="is larger than 100,000 bytes; stopped"):
            voices._download(f"http://127.0.0.1:{server.server_address[1]}/endless.tar.gz", tmp_path / "dl",
                             Settings.from_env({}, fetch_allow_private=True), lambda done, total: seen.append(total))
    finally:
        server.shutdown()
        server.server_close()
    assert seen and set(seen) == {None}  # progress without a total: none was declared
    assert (tmp_path / "dl").stat().st_size <= 100_000 + 2**16  # stopped within a chunk of the cap


def test_voice_downloads_are_guarded_like_every_fetch(settings, file_server):
    from tts_news.core.errors import VoiceUnavailable
    from tts_news.voice.catalog import get_voice
    from tts_news.voice.install import pull_voice

    file_server.routes["/urd-script_arabic.tar.gz"] = b"not reached"
    online = settings.replace(offline=False, download_base_url=file_server.url)
    assert not online.fetch_allow_private
    with pytest.raises(VoiceUnavailable, match="127.0.0.1 is not a public internet address"):
        pull_voice(get_voice(online, "mms-urdu"), online)
    assert file_server.requested == []  # refused before connecting


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_within_five_seconds_during_a_render(settings, sig):
    port = free_port()
    env = {**os.environ, "TTS_NEWS_VOICE": "espeak-urdu"}
    server = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--port", str(port)], env=env,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, server)
        article = "\n".join(["سرخی", *["کراچی میں آج دن بھر تیز بارش ہوتی رہی اور شہری گھروں میں رہے۔"] * 200])
        job_id = requests.post(f"{base}/api/jobs", json={"text": article}, timeout=10).json()["id"]
        for _ in range(200):  # wait until it is really rendering
            if requests.get(f"{base}/api/jobs/{job_id}", timeout=5).json()["status"] == "running":
                break
            time.sleep(0.05)
        started = time.monotonic()
        server.send_signal(sig)
        server.wait(timeout=5)
        assert time.monotonic() - started < 5
        assert "stopping on" in server.stderr.read()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    library_job = json.loads(json.dumps({"id": job_id}))  # the record stays for the next worker
    from tts_news.jobs.library import Library

    assert Library(settings.data_dir).get(library_job["id"]).status in ("running", "queued")


def test_a_voice_that_runs_on_is_stopped_at_the_sentence_cap():
    from tts_news.voice.segments import MAX_SECONDS_PER_CHAR, MIN_SENTENCE_S, check_length

    check_length(np.zeros(16_000 * 10, np.float32), 16_000, "ا" * 20)  # 10 s for 20 characters: fine
    too_long = int(16_000 * (MIN_SENTENCE_S + MAX_SECONDS_PER_CHAR * 20 + 1))
    with pytest.raises(ToolFailed, match="not working properly"):
        check_length(np.zeros(too_long, np.float32), 16_000, "ا" * 20)


def test_a_stuck_render_is_failed_with_a_clear_reason(settings, monkeypatch):
    import threading

    from tts_news.jobs import worker as worker_module
    from tts_news.jobs.service import Service
    from tts_news.jobs.worker import start_embedded_worker
    from tts_news.render.renderer import Renderer

    release = threading.Event()

    def hung_render(*args, **kwargs):  # a wedged model: never returns until released
        release.wait(30)
        raise RuntimeError("released")

    monkeypatch.setattr(Renderer, "episode", hung_render)
    monkeypatch.setattr(worker_module, "STUCK_S", 1)
    stuck = Settings.from_env(job_lease_s=0.4)
    service = Service(stuck)
    stop = start_embedded_worker(service.settings, service.library, service.queue)
    try:
        job = service.submit(ARTICLE, voice="espeak-urdu")
        done = wait_for_job(service.library, job.id, timeout=30)
        assert done.status == "failed" and "no progress" in done.error
    finally:
        release.set()
        stop.set()
