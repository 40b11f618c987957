"""The tts-news web app: `create_app()` builds it (Flask's app factory), one blueprint per concern.

Routes stay thin: parse the request, call the library or the queue, shape the response. The voice
model never lives here — workers own it.
"""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from tts_news.core.config import Settings
from tts_news.core.errors import NewsError
from tts_news.core.files import write_text_atomic
from tts_news.jobs.service import Service
from tts_news.web import api, feed, media, openai_api, openapi, pages, security
from tts_news.web.errors import CrossSite, FormExpired, NotJson, error_body, status_of

# JSON may escape every Urdu letter as \uXXXX: six bytes a character, plus room for the rest.
JSON_BYTES_PER_CHAR = 6
REQUEST_SLACK_BYTES = 64 * 1024
# When Flask-Limiter cannot say when a client's window resets (its storage is not answering).
DEFAULT_RETRY_AFTER_S = 60


def _secret_key(settings: Settings) -> str:
    """A key that survives restarts (forms in open tabs keep working) without anyone setting one."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        write_text_atomic(path, secrets.token_hex(32), mode=0o600)
    return path.read_text().strip()


def create_app(settings: Settings | None = None, *, queue: Service | None = None,
               test_config: dict | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=_secret_key(settings),
        TRUSTED_HOSTS=settings.host_names,
        MAX_CONTENT_LENGTH=settings.max_article_chars * JSON_BYTES_PER_CHAR + REQUEST_SLACK_BYTES,
        # One count per client across every web process when they share Redis.
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        # A form's token lasts as long as its session (as it always has): a tab left open over lunch
        # still sends its article.
        WTF_CSRF_TIME_LIMIT=None,
        # Flask-WTF would also demand a same-site Referer over HTTPS; the cross-site rule below already
        # refuses writes from other sites by Origin and Sec-Fetch-Site, and browsers that strip the
        # Referer (privacy settings, extensions) must not lock an editor out.
        WTF_CSRF_SSL_STRICT=False,
    )
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)
    app.extensions["tts_news"] = queue or Service(settings)

    for module in (api, media, pages, feed, openai_api, openapi, security):  # a blueprint per concern
        app.register_blueprint(module.bp)
    # App-wide setup in one place: session cookies, what templates may call, how errors look.
    # Flask defines these keys already (so setdefault would do nothing): set them for real.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = settings.public_url.startswith("https://")
    app.jinja_env.filters.update(latin=pages.mark_latin, clock=pages.clock)
    app.jinja_env.globals.update(stage_text=pages.stage_text)
    app.context_processor(pages.page_context)
    security.login_manager.init_app(app)
    security.limiter.init_app(app)

    # Before-request hooks run in the order they are added: a cross-site write is refused as such (403)
    # before its missing form token is looked at.
    app.before_request(_refuse_cross_site_writes)
    csrf = CSRFProtect(app)  # every form post; templates get csrf_token()
    # The JSON APIs take Bearer keys, not cookies a form could ride on, and must be JSON (see below).
    csrf.exempt(api.bp)
    csrf.exempt(openai_api.bp)
    app.register_error_handler(CSRFError, _form_expired)
    app.register_error_handler(NewsError, _news_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_security_headers)
    return app


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _refuse_cross_site_writes() -> None:
    """No page on another site can make a browser change anything here: a write sent cross-site (the
    browser says so in Sec-Fetch-Site, or its Origin names another host) is refused, and API writes must
    be JSON (a plain HTML form cannot send that). The web form carries a CSRF token besides."""
    if request.method not in WRITE_METHODS:
        return
    origin = request.headers.get("Origin")  # "null" is an opaque origin (a sandboxed frame, a file)
    foreign = origin and (origin == "null" or urlsplit(origin).netloc != request.host)
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or foreign:
        raise CrossSite("a request from another site cannot change anything here")
    if request.path.startswith(("/api/", "/v1/")) and request.mimetype not in ("application/json", ""):
        raise NotJson("send JSON with Content-Type: application/json")


def _wants_json() -> bool:
    """APIs and files answer errors in JSON; pages answer a browser with a page."""
    path = request.path
    if path.startswith(("/api/", "/v1/", "/healthz")) or path.endswith((".mp3", ".vtt", ".json", ".xml")):
        return True
    accept = request.accept_mimetypes
    return accept.accept_json and not accept.accept_html


def _render_error(message: str, code: str, status: int):
    if request.path.startswith("/v1/"):
        return openai_api.openai_error(message, code, status)
    if not _wants_json():
        return pages.error_page(message, code, status)
    return jsonify(error_body(message, code)), status


def _news_error(err: NewsError):
    return _render_error(str(err), err.code, status_of(err))


def _form_expired(_: CSRFError):
    return _news_error(FormExpired())


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 415: "unsupported_media_type", 429: "rate_limit_exceeded"}


def _http_error(err: HTTPException):
    if err.code and err.code >= 500:
        return _render_error("the server failed; try again, and tell us if it keeps happening", "server_error",
                             err.code)
    message = {413: "the request is too large", 404: "no such page",
               429: f"too many requests ({err.description}); slow down and try again shortly"}.get(
        err.code, err.description or err.name)
    response = _render_error(message, HTTP_CODES.get(err.code, "http_error"), err.code or 400)
    if err.code == 429:
        response = current_app.make_response(response)
        response.headers.setdefault("Retry-After", str(_retry_after()))
    return response


def _retry_after() -> int:
    """Seconds until the client's window resets, as the limiter counted it."""
    limit = security.limiter.current_limit
    if limit is None:
        return DEFAULT_RETRY_AFTER_S
    try:
        return max(1, limit.reset_at - int(time.time()))
    except Exception:  # the storage (Redis) stopped answering: the limiter lets that pass, and so does this
        return DEFAULT_RETRY_AFTER_S


def _security_headers(response):
    h = response.headers
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
                 "script-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
    return response
