"""Who may write, and how much: API keys and editor sign-in, per-client rate limits.

Listener routes (pages, episodes, feed, files) are public. Every write — `POST /api/jobs`, re-renders,
`/v1/*` and the web form — needs a credential once one is configured (`TTS_NEWS_API_KEY(S)` for the
APIs as `Authorization: Bearer KEY`; `TTS_NEWS_EDITORS` for the form, signed in through Flask-Login).
With none configured the app is open, as it should be on 127.0.0.1 (`serve` warns loudly when it is
not). Rate limits per client come from Flask-Limiter: the one `limiter` below, whose limits sit on
the routes themselves and are read from the app's settings on each request; `create_app` gives it its
storage (memory, or Redis when TTS_NEWS_REDIS_URL is set, so every web process counts together). Forms
carry Flask-WTF's CSRF token, checked before any view runs (see `create_app`).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_limiter import Limiter
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from tts_news.core.config import Settings
from tts_news.core.errors import Unauthorized
from tts_news.web.common import service
from tts_news.web.errors import status_of

bp = Blueprint("security", __name__)
login_manager = LoginManager()
login_manager.login_view = "security.login"
login_manager.login_message = "یہ کام کرنے کے لیے پہلے سائن ان کریں۔"
KEY_EDITOR = "api-key"  # an editor signed in with an API key rather than a name and password


class Editor(UserMixin):
    def __init__(self, name: str) -> None:
        self.id = name


def settings() -> Settings:
    return service().settings


@login_manager.user_loader
def _load_editor(name: str) -> Editor | None:
    known = settings().editor_hashes
    return Editor(name) if name in known or (name == KEY_EDITOR and settings().all_api_keys) else None


def bearer_key() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def key_is_valid(sent: str) -> bool:
    """Constant time, and every key compared, so the answer's timing says nothing about any key."""
    if not sent:
        return False
    matched = False
    for key in settings().all_api_keys:
        matched |= hmac.compare_digest(sent.encode(), key.encode())
    return matched


def client_id() -> str:
    """Whom limits and queue caps count: an API key (by fingerprint), a signed-in editor, or an address."""
    sent = bearer_key()
    if sent and key_is_valid(sent):
        return "key:" + hashlib.sha256(sent.encode()).hexdigest()[:16]
    if current_user.is_authenticated:
        return f"editor:{current_user.id}"
    return f"addr:{request.remote_addr or 'unknown'}"


# Module-level so that the routes can carry their limits; the storage comes from the app
# (RATELIMIT_STORAGE_URI, set by create_app), and the app last given to init_app holds it: a web process
# serves one app. A storage that stops answering lets requests through rather than failing them
# (swallow_errors): a Redis hiccup must not take writes down.
limiter = Limiter(key_func=client_id, headers_enabled=True, strategy="fixed-window", swallow_errors=True)


def submit_rate() -> str:
    """Per client: POST /api/jobs, the web form and re-renders (TTS_NEWS_SUBMIT_RATE)."""
    return settings().submit_rate


def speech_rate() -> str:
    """Per client: /v1/audio/speech (TTS_NEWS_SPEECH_RATE)."""
    return settings().speech_rate


def check_api_writer() -> None:
    """Raise 401 unless the request carries a valid API key (when any credential is configured)."""
    if settings().credentials_configured and not key_is_valid(bearer_key()):
        raise Unauthorized("a valid API key is required: send 'Authorization: Bearer <key>'")


def editor_required(view):
    """A web-form write: a signed-in editor once credentials are configured."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if settings().credentials_configured and not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("pages.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        digest = settings().editor_hashes.get(name)
        if digest and check_password_hash(digest, password):
            login_user(Editor(name))
            return redirect(_safe_next(request.form.get("next")), 303)
        if not name and key_is_valid(password):
            login_user(Editor(KEY_EDITOR))
            return redirect(_safe_next(request.form.get("next")), 303)
        refused = Unauthorized("نام یا پاس ورڈ درست نہیں۔")
        error, status = str(refused), status_of(refused)
    return render_template("login.html", error=error, next=request.values.get("next", ""),
                           configured=settings().credentials_configured), status


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("pages.home"), 303)


