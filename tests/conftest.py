"""Shared fixtures: settings in a temporary data dir, tiny real Coqui models, a local file server."""

from __future__ import annotations

import http.server
import io
import socket
import socketserver
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tts_news.core.config import PROJECT_ROOT, Settings  # noqa: E402
from tts_news.testing.random_voices import build_fairseq_mms, build_tiny_vits  # noqa: E402

SHARED = PROJECT_ROOT.parent / "shared"
SEED = PROJECT_ROOT / "seeds" / "geneva-summit.ur.txt"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """Offline settings in a fresh data dir; the environment says the same for CLI subprocesses."""
    data = tmp_path / "data"
    monkeypatch.setenv("TTS_NEWS_DATA_DIR", str(data))
    monkeypatch.setenv("TTS_NEWS_OFFLINE", "1")
    monkeypatch.setenv("TTS_NEWS_DOWNLOAD_BASE_URL", "http://127.0.0.1:9/unreachable")
    return Settings.from_env()


@pytest.fixture(scope="session")
def tiny_vits(tmp_path_factory) -> Path:
    return build_tiny_vits(tmp_path_factory.mktemp("models") / "tiny-vits")


@pytest.fixture(scope="session")
def fairseq_mms(tmp_path_factory) -> Path:
    return build_fairseq_mms(tmp_path_factory.mktemp("models") / "tts_models--urd-script_arabic--fairseq--vits")


def write_voice(folder: Path, name: str, model_dir: Path, sample_rate: int = 16000) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(
        f'name = "{name}"\nlabel = "ننھی آواز"\nengine = "coqui"\nlanguage = "ur"\nlicense = "test"\n'
        f"sample_rate = {sample_rate}\nmax_chars = 120\n\n[coqui]\npath = \"{model_dir}\"\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def tiny_voice(settings, tiny_vits) -> str:
    """A newsroom voice file in the data dir pointing at the tiny Coqui model."""
    write_voice(settings.user_voices_dir, "tiny-coqui", tiny_vits)
    return "tiny-coqui"


class _Files(http.server.SimpleHTTPRequestHandler):
    routes: dict[str, bytes] = {}
    truncate: set[str] = set()
    requested: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.requested.append(self.path)
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # An interrupted download: the server promises the whole body and hangs up half-way.
        self.wfile.write(body[: len(body) // 2] if self.path in self.truncate else body)

    def log_message(self, *args):
        pass


@pytest.fixture
def file_server():
    """An HTTP server on 127.0.0.1 serving bytes at paths: server.routes['/x'] = b'...'."""
    handler = type("Files", (_Files,), {"routes": {}, "truncate": set(), "requested": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.routes = handler.routes
    server.truncate = handler.truncate
    server.requested = handler.requested
    yield server
    server.shutdown()
    server.server_close()


def tarball(folder: Path, top: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        tar.add(folder, arcname=top)
    return buf.getvalue()


@pytest.fixture
def queue(settings):
    from tts_news.jobs.service import Service

    return Service(settings)


@pytest.fixture
def app(settings, queue):
    from tts_news.web import create_app

    return create_app(settings, queue=queue, test_config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def worker(queue):
    """The worker `tts-news serve` embeds: a real Huey consumer thread rendering with espeak-urdu."""
    from tts_news.jobs.worker import start_embedded_worker

    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)
    yield queue
    stop.set()


def wait_for_job(library, job_id: str, statuses=("done", "failed"), timeout: float = 120.0, seen=None):
    """Poll a job's record until it reaches one of `statuses`; `seen` collects (status, done, total)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = library.get(job_id)
        if seen is not None:
            seen.append((job.status, job.done, job.total))
        if job.status in statuses:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} is still {library.get(job_id).status} after {timeout} s")


def wait_for_health(base: str, proc: subprocess.Popen, log: Path | None = None, timeout: float = 60) -> None:
    """Wait until the app `proc` serves at `base` answers /healthz with ok; fail with its log if it exits."""
    import json
    import urllib.request

    def said() -> str:
        return log.read_text(errors="replace") if log is not None else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve exited: {said()}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
                if json.loads(response.read())["status"] == "ok":
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{base} never became healthy: {said()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(app):
    """The app on 127.0.0.1 (a real HTTP server in a thread): returns its base URL and a stop function."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server.shutdown


@pytest.fixture
def live(app, worker):
    """The app over real HTTP with its worker, for clients that need a URL (openai, feed readers)."""
    url, stop = serve_in_thread(app)
    yield url
    stop()


@pytest.fixture
def redis_url(tmp_path):
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
