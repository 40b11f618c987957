"""`tts-news serve`: the web app (waitress) with a job worker inside it."""

from __future__ import annotations

import logging
import socket
import sys

import waitress

from tts_news.core.config import Settings
from tts_news.jobs.service import Service
from tts_news.jobs.worker import start_embedded_worker, stop_on_signals
from tts_news.web import create_app

# Live audio and streamed speech hold a request thread each for as long as they play: room for a
# few dozen listeners beside the pages. The threads mostly sleep.
SERVE_THREADS = 48
LOOPBACK = ("127.0.0.1", "localhost", "::1")
REQUEST_BODY_HEADROOM = 4
# Open connections at once (idle ones count: a few hundred idle or half-open clients must not lock out
# /healthz), and how long a silent connection is kept. In front of a network, a reverse proxy does this job.
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT_S = 30


def served_names(host: str) -> list[str]:
    """The names a client may use to reach `--host`: the address itself, and for a wildcard this
    machine's name and addresses (other names need TTS_NEWS_TRUSTED_HOSTS or TTS_NEWS_PUBLIC_URL)."""
    if host not in ("0.0.0.0", "::", ""):
        return [host]
    name = socket.gethostname()
    names = {name, socket.getfqdn()}
    try:
        names |= {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        pass
    return sorted(names)


def cmd_serve(args, settings: Settings) -> int:
    logging.getLogger("tts_news").setLevel(logging.INFO)  # the log says what the worker rendered
    settings = settings.replace(trusted_hosts=" ".join([settings.trusted_hosts, *served_names(args.host)]))
    queue = Service(settings)
    app = create_app(settings, queue=queue)
    if args.host not in LOOPBACK and not settings.credentials_configured:
        print("tts-news: WARNING: serving on a network address with no API key or editor configured — anyone "
              "who reaches it can queue work. Set TTS_NEWS_API_KEYS and TTS_NEWS_EDITORS (see README, "
              "'Running it on a network').", file=sys.stderr, flush=True)
    stop = None if args.no_worker else start_embedded_worker(settings, queue.library, queue.queue)
    worker = "no worker (run: tts-news worker)" if stop is None else "with an embedded worker"
    print(f"tts-news: serving on http://{args.host}:{args.port}/ {worker}; data in {settings.data_dir}",
          file=sys.stderr, flush=True)
    stop_on_signals()  # SIGTERM or Ctrl-C: out within moments, the running job left to its lease
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="tts-news",
                       # waitress answers bodies past its limit itself, in plain text; under it the app
                       # answers an oversized request with its JSON 413
                       max_request_body_size=REQUEST_BODY_HEADROOM * app.config["MAX_CONTENT_LENGTH"],
                       connection_limit=CONNECTION_LIMIT, channel_timeout=CHANNEL_TIMEOUT_S, _quiet=True)
    finally:
        if stop is not None:
            stop.set()
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("serve", help="run the web app and an embedded job worker")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=SERVE_THREADS,
                   help=f"web request threads; each live listener holds one while it listens (default {SERVE_THREADS})")
    p.add_argument("--no-worker", action="store_true",
                   help="do not render here; `tts-news worker` processes take the jobs (Redis)")
    p.set_defaults(func=cmd_serve)
