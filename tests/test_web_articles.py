"""Articles from web addresses and bulletins from news feeds, served by a news site on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import re
import socketserver
import ssl
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import wait_for_job

from tts_news.core.config import Settings
from tts_news.core.http import AddressNotAllowed, FetchError, check_address, fetch
from tts_news.jobs.service import Service
from tts_news.web import create_app

PAGES = Path(__file__).parent / "web_pages"
# Every paragraph of each page's article, and furniture none of them may keep.
ARTICLE_PARAGRAPHS = {
    "bbc-like.html": ["پنجاب حکومت نے لاہور میں فضائی آلودگی", "محکمہ ماحولیات کے مطابق", "شہریوں کو ہدایت کی گئی ہے",
                      "ماہرین کا کہنا ہے کہ فصلوں"],
    "jang-like.html": ["وفاقی کابینہ نے آئندہ مالی سال", "وزیر خزانہ نے اجلاس کو بتایا", "کابینہ نے سرکاری ملازمین"],
    "amp.html": ["پاکستان نے تیسرے اور آخری ون ڈے", "کپتان نے میچ کے بعد کہا"],
}
FURNITURE = ["صفحۂ اول", "تصویر کے کاپی رائٹ", "Getty", "Image caption", "مزید پڑھیے", "کراچی میں پانی کا بحران",
             "مقبول خبریں", "سونے کی قیمت", "اشتہار", "شیئر کریں", "جملہ حقوق", "ای پیپر", "کالم", "خبریں</a>",
             "googleanalytics", "UA-1", "dataLayer"]


class NewsSite(http.server.BaseHTTPRequestHandler):
    base = ""
    # The feeds' items were published at fixed times, as a real feed's are (taken per request,
    # two runs a minute boundary apart saw new items and rendered them again).
    published = datetime.now(UTC)

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = self.path.split("?")[0]
        now = self.published
        if path == "/moved":
            return self._send(301, b"", "text/html", Location="/bbc-like.html")
        if path == "/loop":
            return self._send(302, b"", "text/html", Location="/loop")
        if path == "/to-loopback":
            return self._send(302, b"", "text/html", Location=f"http://localhost:{self.server.server_address[1]}/amp.html")
        if path == "/big.html":
            return self._send(200, b"<p>" + "ا".encode() * (3 * 2**20) + b"</p>", "text/html")
        if path == "/slow.html":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body><p>")
            self.wfile.flush()
            time.sleep(3)
            self.wfile.write(b"late</p></body></html>")
            return None
        if path == "/photo.jpg":
            return self._send(200, b"\xff\xd8\xff\xe0 not a page", "image/jpeg")
        if path == "/empty.html":
            return self._send(200, b"<html><body><nav><a href='/'>home</a></nav></body></html>", "text/html")
        if path in ("/rss.xml", "/atom.xml"):
            stamps = {"RECENT1": format_datetime(now - timedelta(hours=1)),
                      "OLD": format_datetime(now - timedelta(days=3)),
                      "RECENT2": (now - timedelta(hours=2)).isoformat(timespec="seconds"),
                      "RECENT3": (now - timedelta(hours=3)).isoformat(timespec="seconds")}
            text = (PAGES / path[1:]).read_text(encoding="utf-8").replace("{BASE}", self.base)
            for key, value in stamps.items():
                text = text.replace("{" + key + "}", value)
            kind = "application/rss+xml" if path == "/rss.xml" else "application/atom+xml"
            return self._send(200, text.encode(), kind)
        file = PAGES / path.lstrip("/")
        if path.endswith(".html") and file.is_file():
            return self._send(200, file.read_bytes(), "text/html; charset=utf-8")
        return self._send(404, b"not found", "text/plain")

    def _send(self, status, body, kind, **headers):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    handler = type("Site", (NewsSite,), {})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler.base
    server.shutdown()
    server.server_close()


@pytest.fixture
def open_settings(settings, monkeypatch):
    """Fetching from 127.0.0.1 allowed, as tests need (the guard itself is tested with it off)."""
    monkeypatch.setenv("TTS_NEWS_FETCH_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("TTS_NEWS_FETCH_TIMEOUT_S", "1.5")
    return Settings.from_env()


@pytest.mark.parametrize("page", sorted(ARTICLE_PARAGRAPHS))
def test_extraction_keeps_every_article_paragraph_and_none_of_the_furniture(site, open_settings, page):
    from tts_news.text.sources import article_from_url

    article = article_from_url(f"{site}/{page}", open_settings)
    lines = article.text.splitlines()
    assert lines[0] == article.title and article.title
    for paragraph in ARTICLE_PARAGRAPHS[page]:
        assert sum(line.startswith(paragraph) for line in lines) == 1, paragraph
    assert len(lines) == 1 + len(ARTICLE_PARAGRAPHS[page])
    for furniture in FURNITURE:
        assert furniture not in article.text, furniture


@pytest.fixture
def open_worker(open_settings):
    from tts_news.jobs.worker import start_embedded_worker

    queue = Service(open_settings)
    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)
    yield queue
    stop.set()


def test_a_link_is_enough_through_the_api(site, open_worker):
    worker = open_worker
    app = create_app(worker.settings, queue=worker, test_config={"TESTING": True})
    client = app.test_client()
    response = client.post("/api/jobs", json={"url": f"{site}/moved", "voice": "espeak-urdu"})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["source_url"] == f"{site}/bbc-like.html"  # where the redirect led
    assert body["title"] == "لاہور میں اسموگ: اسکول ایک ہفتے کے لیے بند"
    job = wait_for_job(worker.library, body["id"])
    assert job.status == "done"
    page = client.get(f"/episodes/{job.id}").get_data(as_text=True)
    assert f'href="{site}/bbc-like.html"' in page
    feed = client.get("/feed.xml").get_data(as_text=True)
    assert f"{site}/bbc-like.html" in feed


def test_a_link_is_enough_on_the_home_page(site, open_settings, settings):
    app = create_app(open_settings, queue=Service(open_settings), test_config={"TESTING": True})
    client = app.test_client()
    home = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    sent = client.post("/jobs", data={"csrf_token": token, "url": f"{site}/jang-like.html", "text": ""})
    assert sent.status_code == 303
    job_page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "وفاقی کابینہ نے بجٹ تجاویز کی منظوری دے دی" in job_page and f"{site}/jang-like.html" in job_page
    refused = client.post("/jobs", data={"csrf_token": token, "url": f"{site}/photo.jpg", "text": ""})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "یہ ویب صفحہ نہیں" in text and 'aria-invalid="true"' in text and f"{site}/photo.jpg" in text  # kept


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/photo.jpg", 422, "not_an_article"),
    ("/empty.html", 422, "not_an_article"),
    ("/big.html", 413, "too_large"),
    ("/slow.html", 422, "fetch_failed"),
    ("/loop", 422, "fetch_failed"),
    ("/missing.html", 422, "fetch_failed"),
])
def test_fetch_failures_are_clear_4xx_errors(site, open_settings, path, status, code):
    app = create_app(open_settings, queue=Service(open_settings), test_config={"TESTING": True})
    response = app.test_client().post("/api/jobs", json={"url": f"{site}{path}"})
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("url", ["ftp://example.com/a", "file:///etc/passwd", "javascript:alert(1)",
                                 "http://user:pw@example.com/"])
def test_only_plain_http_addresses_are_fetched(settings, url):
    with pytest.raises(AddressNotAllowed):
        fetch(url, settings)


def test_the_guard_refuses_loopback_and_private_targets_by_default(site, settings):
    assert not settings.fetch_allow_private
    app = create_app(settings, queue=Service(settings), test_config={"TESTING": True})
    response = app.test_client().post("/api/jobs", json={"url": f"{site}/bbc-like.html"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "address_not_allowed"
    port = site.rsplit(":", 1)[1]
    with pytest.raises(AddressNotAllowed):  # a name that resolves to loopback: checked where it connected
        fetch(f"http://localhost:{port}/bbc-like.html", settings)
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "224.0.0.1", "::1",
                    "fe80::1", "fd00::1", "0.0.0.0", "::ffff:127.0.0.1", "100.64.0.1"):
        with pytest.raises(AddressNotAllowed):
            check_address(address, allow_private=False)
    check_address("93.184.216.34", allow_private=False)  # a public address passes
    check_address("2606:4700::1111", allow_private=False)


def test_a_redirect_is_checked_too(site, open_settings, settings):
    # Allowed to reach the first hop (a public site in real life), the redirect to loopback is refused.
    from tts_news.core import http as fetching

    calls = []
    real = fetching.check_address

    def first_allowed(address, allow_private):
        calls.append(address)
        real(address, allow_private=len(calls) == 1)

    try:
        fetching.check_address = first_allowed
        with pytest.raises(AddressNotAllowed):
            fetch(f"{site}/to-loopback", settings)
    finally:
        fetching.check_address = real
    assert len(calls) == 2


def test_synth_takes_a_web_address(site, open_settings, tmp_path):
    out = tmp_path / "page.mp3"
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "synth", f"{site}/amp.html", "-o", str(out),
                           "--voice", "espeak-urdu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 1000 and "کرکٹ: پاکستان نے سیریز جیت لی" in done.stderr


def test_a_bulletin_from_two_feeds_with_a_chapter_per_item_and_reruns_skip_them(site, open_settings, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "tts_news.cli", "batch", "--feed", f"{site}/rss.xml", "--feed",
               f"{site}/atom.xml", "--since", "12h", "-o", str(out), "--bulletin", "--voice", "espeak-urdu",
               "--date", "2026-11-29"]
    first = subprocess.run(command, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 rendered" in first.stdout  # the item older than 12 h is left out
    chapters = json.loads((out / "bulletin-2026-11-29.chapters.json").read_text(encoding="utf-8"))["chapters"]
    titles = [c["title"] for c in chapters]
    assert titles == [  # a chapter per story, newest first
        "لاہور میں اسموگ: اسکول ایک ہفتے کے لیے بند", "وفاقی کابینہ نے بجٹ تجاویز کی منظوری دے دی",
        "کرکٹ: پاکستان نے سیریز جیت لی"]
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 0 and "3 skipped" in again.stdout and "up to date" in again.stdout


def test_feeds_come_from_the_settings_when_none_are_given(site, open_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_NEWS_FEEDS", f"{site}/atom.xml")
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "batch", "-o", str(tmp_path / "o"), "--voice",
                           "espeak-urdu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 rendered" in done.stdout


def test_voice_downloads_take_the_same_guarded_road(site, open_settings, settings, tmp_path):
    from tts_news.core import http as fetching
    from tts_news.core.errors import VoiceUnavailable
    from tts_news.voice.install import _download

    seen = []
    _download(f"{site}/moved", tmp_path / "a", open_settings, lambda done, total: seen.append((done, total)))
    page = (PAGES / "bbc-like.html").read_bytes()
    assert (tmp_path / "a").read_bytes() == page and seen[-1] == (len(page), len(page))  # the redirect followed

    real = fetching.check_address
    calls = []

    def first_allowed(address, allow_private):
        calls.append(address)
        real(address, allow_private=len(calls) == 1)

    try:
        fetching.check_address = first_allowed
        with pytest.raises(VoiceUnavailable, match="not a public internet address"):
            _download(f"{site}/to-loopback", tmp_path / "b", settings, None)
    finally:
        fetching.check_address = real
    assert len(calls) == 2  # each hop checked


@pytest.fixture
def tls_site(tmp_path, monkeypatch):
    """An HTTPS news site on 127.0.0.1 whose certificate names only "localhost", trusted by this process."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # OpenSSL's default trust store, as urllib3 loads it
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    handler = type("TlsSite", (NewsSite,), {})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], names
    server.shutdown()
    server.server_close()


def test_https_is_spoken_to_by_name_on_the_checked_address(tls_site, open_settings):
    port, names = tls_site
    page = fetch(f"https://localhost:{port}/amp.html", open_settings)  # connected to 127.0.0.1, as "localhost"
    assert page.url == f"https://localhost:{port}/amp.html" and b"</html>" in page.body
    assert names == ["localhost"]  # SNI carried the name
    with pytest.raises(FetchError, match="doesn.t match .localhost."):  # the certificate is checked by name
        fetch(f"https://127.0.0.1:{port}/amp.html", open_settings)
