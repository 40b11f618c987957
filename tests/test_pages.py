"""Pages through Flask's test client: the no-JavaScript flow, form errors, escaping, headers."""

from __future__ import annotations

import re

import pytest
from conftest import wait_for_job

HTML = {"Accept": "text/html"}
ARTICLE = "جنیوا میں اجلاس\nاجلاس میں IMF کے نمائندے بھی شریک ہوئے۔ اگلا اجلاس جلد ہوگا۔"
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def token(client) -> str:
    page = client.get("/", headers=HTML).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def submit(client, **form):
    data = {"csrf_token": token(client), "voice": "espeak-urdu", **form}
    return client.post("/jobs", data=data, headers=HTML)


def test_home_is_urdu_right_to_left_with_labelled_fields(client):
    page = client.get("/", headers=HTML).get_data(as_text=True)
    assert '<html lang="ur" dir="rtl">' in page
    assert 'href="#main"' in page and '<main id="main"' in page
    for field in ("title", "text"):
        assert f'<label for="{field}">' in page
        assert re.search(rf'id="{field}"[^>]*lang="ur" dir="rtl"', page, re.S)
    assert "100,000" in page  # the limit is shown
    assert 'name="voice"' in page and "espeak-urdu" in page and "نصب ہے" in page


def test_the_sample_link_fills_in_the_article_without_javascript(client):
    page = client.get("/?sample=1", headers=HTML).get_data(as_text=True)
    assert "جنیوا میں امریکی اور روسی صدور" in page


def test_a_form_without_its_token_is_refused(client, queue):
    token(client)  # the session has a token; the form below does not carry it
    for data in ({"text": ARTICLE}, {"text": ARTICLE, "csrf_token": "forged-0123456789"}):
        response = client.post("/jobs", data=data, headers=HTML)
        assert response.status_code == 400 and "text/html" in response.content_type
        assert "فارم کی میعاد ختم ہو گئی" in response.get_data(as_text=True)
    assert queue.library.jobs() == []  # nothing was queued
    assert submit(client, text=ARTICLE).status_code == 303  # with the page's own token it goes through


def test_an_empty_article_is_an_error_the_form_explains(client, queue):
    response = submit(client, title="میرا عنوان", text="   ")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="error-summary"[^>]*role="alert"[^>]*tabindex="-1"[^>]*autofocus', page)
    assert '<a href="#text">' in page
    textarea = re.search(r"<textarea[^>]*>", page, re.S).group()
    assert 'aria-invalid="true"' in textarea and "text-error" in textarea
    assert 'value="میرا عنوان"' in page  # what the user typed is kept
    assert queue.library.jobs() == []


def test_a_voice_that_cannot_be_had_is_explained_at_the_voice_choice(client, settings, tmp_path):
    from conftest import write_voice

    write_voice(settings.user_voices_dir, "gone", tmp_path / "missing-model")
    response = submit(client, text=ARTICLE, voice="gone")
    page = response.get_data(as_text=True)
    assert response.status_code == 409  # what POST /api/jobs answers for the same voice: one mapping
    assert '<a href="#voice-gone">' in page and 'id="voice-error"' in page
    assert re.search(r'id="voice-gone"[^>]*checked[^>]*aria-invalid="true"', page, re.S)
    assert "اجلاس میں IMF" in page  # the article is kept


def test_a_too_long_article_is_refused_with_the_limit_in_words(settings, tmp_path):
    from tts_news.core.config import Settings
    from tts_news.jobs.service import Service
    from tts_news.web import create_app

    small = Settings.from_env(max_article_chars=40)
    client = create_app(small, queue=Service(small)).test_client()
    response = submit(client, text="خبر " * 30)
    assert response.status_code == 400 and "حد 40 حروف" in response.get_data(as_text=True)
    assert "خبر خبر خبر" in response.get_data(as_text=True)  # nothing the user wrote is lost


def test_the_no_javascript_flow_from_form_to_episode(client, worker):
    response = submit(client, text=ARTICLE)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    job_id = job_url.rsplit("/", 1)[1]
    page = client.get(job_url, headers=HTML).get_data(as_text=True)
    assert "<progress" in page and 'role="status"' in page
    wait_for_job(worker.library, job_id)
    page = client.get(job_url, headers=HTML).get_data(as_text=True)
    assert f'href="/episodes/{job_id}"' in page and "مکمل ہو گیا" in page
    episode = client.get(f"/episodes/{job_id}", headers=HTML).get_data(as_text=True)
    assert re.search(r'<audio[^>]*controls[^>]*preload="metadata"', episode)
    assert f'<track kind="captions" srclang="ur" label="اردو" src="/episodes/{job_id}.vtt?v=1" default>' in episode
    assert "اگلا اجلاس جلد ہوگا۔" in episode  # the transcript
    assert '<span lang="en" dir="ltr">IMF</span>' in episode
    assert f"/episodes/{job_id}.mp3?v=1&amp;download=1" in episode
    listing = client.get("/episodes", headers=HTML).get_data(as_text=True)
    assert f'href="/episodes/{job_id}"' in listing


def test_an_unfinished_episode_page_leads_to_its_job_page(client, queue):
    job = queue.submit(ARTICLE, voice="espeak-urdu")
    response = client.get(f"/episodes/{job.id}", headers=HTML)
    assert response.status_code == 302 and response.headers["Location"] == f"/jobs/{job.id}"


def test_user_text_is_escaped_on_every_page(client, worker):
    job_id = submit(client, title=EVIL, text=ARTICLE + "\n" + EVIL + " خبر۔").headers["Location"].rsplit("/", 1)[1]
    wait_for_job(worker.library, job_id)
    for url in (f"/jobs/{job_id}", f"/episodes/{job_id}", "/episodes"):
        page = client.get(url, headers=HTML).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page, url
        assert "&lt;" in page and "onerror" in page  # shown, as text


@pytest.mark.parametrize("url", ["/", "/episodes", "/no-such-page"])
def test_pages_send_security_headers(client, url):
    response = client.get(url, headers=HTML)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_missing_page_is_an_urdu_page_for_browsers_and_json_for_programs(client):
    page = client.get("/jobs/00000000-0000-4000-8000-000000000000", headers=HTML)
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "یہ صفحہ نہیں ملا" in page.get_data(as_text=True)
    assert client.get("/no-such-page", headers={"Accept": "application/json"}).get_json()["error"]["code"] == \
        "not_found"
