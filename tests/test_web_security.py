"""The web layer's guards as a user meets them: form tokens (Flask-WTF), rate limits on the routes read from
the app's settings, and every error status from the one mapping in web/errors.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner
from werkzeug.security import generate_password_hash

from tts_news.core.config import Settings
from tts_news.jobs.service import Service
from tts_news.web import create_app

ARTICLE = "سرخی\nکراچی میں بارش ہوئی۔"
EXPIRED = "فارم کی میعاد ختم ہو گئی"
HTML = {"Accept": "text/html"}
JSON_ONLY = {"Accept": "application/json"}
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
TWO_HOURS_S = 2 * 3600  # twice Flask-WTF's default token lifetime


def app_for(settings: Settings):
    return create_app(settings, queue=Service(settings), test_config={"TESTING": True})


def token(client, path: str = "/") -> str:
    page = client.get(path, headers=HTML).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# -- form tokens ---------------------------------------------------------------------------------------


def test_a_form_post_without_its_token_answers_json_to_a_client_that_wants_json(client, queue):
    response = client.post("/jobs", data={"text": ARTICLE}, headers=JSON_ONLY)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["message"].startswith(EXPIRED) and "reload the page" in error["message"]
    assert error["code"] == "bad_request"
    assert queue.library.jobs() == []


def test_a_token_from_another_session_is_refused(app, queue):
    theirs = token(app.test_client())
    mine = app.test_client()
    token(mine)  # this browser has a session and a token of its own
    response = mine.post("/jobs", data={"csrf_token": theirs, "text": ARTICLE}, headers=HTML)
    assert response.status_code == 400 and EXPIRED in response.get_data(as_text=True)
    assert queue.library.jobs() == []


def test_a_form_left_open_for_hours_still_sends(client, queue, monkeypatch):
    sent_token = token(client)
    signed_at = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at(self) + TWO_HOURS_S)
    response = client.post("/jobs", data={"csrf_token": sent_token, "text": ARTICLE, "voice": "espeak-urdu"})
    assert response.status_code == 303 and len(queue.library.jobs()) == 1


def test_signing_in_and_out_need_the_form_token(settings):
    guarded = settings.replace(editors=f"ayesha={generate_password_hash('a-long-editor-password')}")
    client = app_for(guarded).test_client()
    login = {"name": "ayesha", "password": "a-long-editor-password"}
    refused = client.post("/login", data=login, headers=HTML)
    assert refused.status_code == 400 and EXPIRED in refused.get_data(as_text=True)
    assert client.post("/jobs", data={"csrf_token": token(client), "text": ARTICLE}).status_code == 302  # not in
    assert client.post("/login", data={"csrf_token": token(client, "/login"), **login}).status_code == 303
    assert client.post("/logout", headers=HTML).status_code == 400  # a forged sign-out changes nothing
    assert client.post("/jobs", data={"csrf_token": token(client), "text": ARTICLE,
                                      "voice": "espeak-urdu"}).status_code == 303  # still signed in


def test_the_json_apis_need_no_form_token(client):
    assert client.post("/api/jobs", json={"text": ARTICLE}).status_code == 202
    assert client.post("/v1/audio/speech", json={}).status_code == 400  # past every guard: the body is checked


# -- rate limits ---------------------------------------------------------------------------------------


def test_a_submit_rate_set_in_the_environment_is_what_the_routes_enforce(settings, monkeypatch):
    monkeypatch.setenv("TTS_NEWS_SUBMIT_RATE", "2/minute")
    monkeypatch.setenv("TTS_NEWS_SPEECH_RATE", "1/minute")
    client = app_for(Settings.from_env()).test_client()
    api = [client.post("/api/jobs", json={"text": ARTICLE}).status_code for _ in range(3)]
    assert api == [202, 202, 429]
    assert client.post("/api/jobs", json={"text": ARTICLE}).get_json()["error"]["code"] == "rate_limit_exceeded"
    form = [client.post("/jobs", data={"csrf_token": token(client), "text": ARTICLE, "voice": "espeak-urdu"},
                        headers=HTML) for _ in range(3)]
    assert [r.status_code for r in form] == [303, 303, 429]
    shown = re.sub(r"<[^>]+>", "", form[-1].get_data(as_text=True))  # the page marks Latin runs as English
    assert "text/html" in form[-1].content_type and "too many requests (2 per 1 minute)" in shown
    assert 0 < int(form[-1].headers["Retry-After"]) <= 61
    speech = [client.post("/v1/audio/speech", json={}) for _ in range(2)]
    assert [r.status_code for r in speech] == [400, 429]
    assert speech[-1].get_json()["error"]["type"] == "invalid_request_error"  # OpenAI's shape


def test_each_app_enforces_the_rate_in_its_own_settings(settings):
    for rate, allowed in (("1/minute", 1), ("4/minute", 4)):
        client = app_for(settings.replace(submit_rate=rate)).test_client()
        codes = [client.post("/api/jobs", json={"text": ARTICLE}).status_code for _ in range(allowed + 1)]
        assert codes == [202] * allowed + [429], rate


# -- statuses from the one mapping ---------------------------------------------------------------------


def test_a_body_sent_without_a_content_type_is_415(client, queue):
    response = client.post("/api/jobs", data=b'{"text": "x"}')
    assert response.status_code == 415 and response.get_json()["error"]["code"] == "unsupported_media_type"
    assert queue.library.jobs() == []


@pytest.mark.parametrize("path", sorted(p.name for p in WEB_DIR.glob("*.py")))
def test_no_web_module_imports_the_project_inside_a_function(path):
    """An import of the project's own modules inside a function hides a cycle; each module imports at the top."""
    tree = ast.parse((WEB_DIR / path).read_text(encoding="utf-8"))
    hidden = [f"line {node.lineno}" for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
              for node in ast.walk(fn) if isinstance(node, ast.ImportFrom | ast.Import)
              and any(name.startswith("tts_news") for name in _imported(node))]
    assert hidden == []


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [node.module or ""] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
