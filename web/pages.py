"""Pages for people: submit an article, follow its job, listen with a read-along transcript, browse.

Everything works without JavaScript (a form post, a status page with a refresh link, the native
player); static/app.js only enhances. User text is always escaped; Latin runs inside Urdu text are
marked lang="en" dir="ltr" so screen readers switch voice.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from tts_news.audio.sidecars import CHAPTERS, TRANSCRIPT, read_transcript_json
from tts_news.core.config import PROJECT_ROOT
from tts_news.core.errors import NewsError, UnknownVoice, UserError, VoiceUnavailable
from tts_news.core.http import FetchError
from tts_news.jobs.library import Job
from tts_news.web.common import episode_urls, service, voice_choices
from tts_news.web.errors import STATUS_BY_CLASS, status_of
from tts_news.web.security import client_id, editor_required, limiter, submit_rate

bp = Blueprint("pages", __name__)

SAMPLE = PROJECT_ROOT / "seeds" / "geneva-summit.ur.txt"
SPEEDS = ("0.75", "1", "1.25", "1.5", "1.75", "2")
LATIN_RUN_RE = re.compile(r"[A-Za-z](?:[A-Za-z0-9.&'’\-]|\s(?=[A-Za-z0-9]))*")
STAGES = {
    "queued": "قطار میں انتظار",
    "preparing": "متن کی تیاری",
    "speaking": "جملے بولے جا رہے ہیں",
    "mastering": "آواز کی تکمیل",
    "done": "مکمل ہو گیا",
    "failed": "ناکام",
}


def page_context() -> dict:
    settings = service().settings
    signed_in = current_user.is_authenticated
    return {"show_title": settings.show_title, "signed_in": signed_in,
            "needs_sign_in": settings.credentials_configured and not signed_in}


# -- helpers for templates ----------------------------------------------------------------------

def mark_latin(text: str | None) -> Markup:
    """Escape `text`, wrapping each run of Latin letters as English, left to right."""
    text = text or ""
    out, last = [], 0
    for m in LATIN_RUN_RE.finditer(text):
        out += [escape(text[last:m.start()]), Markup('<span lang="en" dir="ltr">'), escape(m.group()),
                Markup("</span>")]
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def clock(seconds: float | None) -> str:
    seconds = int(round(seconds or 0))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def stage_text(job: Job) -> str:
    if job.status == "running" and job.stage == "speaking" and job.total:
        return f"{STAGES['speaking']}: {job.done} از {job.total}"
    if job.status == "failed":
        return f"{STAGES['failed']}: {job.error or ''}"
    return STAGES.get(job.stage, STAGES.get(job.status, job.status))


def error_page(message: str, code: str, status: int):
    return render_template("error.html", message=message, code=code, status=status), status


def _sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def _created(job: Job) -> str:
    return datetime.fromtimestamp(job.created, UTC).strftime("%Y-%m-%d %H:%M UTC")


# -- routes -------------------------------------------------------------------------------------

@bp.get("/")
def home():
    text = _sample() if request.args.get("sample") == "1" else ""
    default, voices = voice_choices()
    return render_template("home.html", form={"title": "", "text": text, "voice": default, "url": ""}, errors={},
                           voices=voices, limit=service().settings.max_article_chars)


@bp.get("/sample.json")
def sample():
    return {"text": _sample()}


@bp.post("/jobs")
@limiter.limit(submit_rate)
@editor_required
def submit():
    queue = service()
    form = {k: request.form.get(k, "") for k in ("title", "text", "voice", "url")}
    errors = {}
    status = STATUS_BY_CLASS[UserError]  # what the form itself finds wrong is the user's to mend
    text = form["text"].replace("\r\n", "\n")
    url = form["url"].strip()
    limit = queue.settings.max_article_chars
    if url and text.strip():
        errors["url"] = "ویب پتہ یا متن، دونوں میں سے ایک دیں۔"
    elif not url and not text.strip():
        errors["text"] = "خبر کا متن لکھیں یا اوپر اس کا ویب پتہ دیں: دونوں خانے خالی ہیں۔"
    elif len(text) > limit:
        errors["text"] = f"متن {len(text):,} حروف کا ہے؛ حد {limit:,} حروف ہے۔ متن چھوٹا کریں۔"
    if not errors:
        title, voice = form["title"].strip() or None, form["voice"] or None
        try:
            if url:
                job = queue.submit_url(url, title=title, voice=voice, client=client_id())
            else:
                job = queue.submit(text, title=title, voice=voice, client=client_id())
        except (UnknownVoice, VoiceUnavailable) as err:
            errors["voice"] = str(err)
            status = status_of(err)
        except FetchError as err:  # the page could not be had: said in Urdu, the details after
            errors["url"] = f"{err.urdu} ({err})"
            status = status_of(err)
        except NewsError as err:  # nothing to say, too many waiting (429), a full disk (507)…
            errors["text"] = str(err)
            status = status_of(err)
        else:
            return redirect(url_for("pages.job", job_id=job.id), 303)
    default, voices = voice_choices()
    return render_template("home.html", form=form, errors=errors, voices=voices, limit=limit), status


@bp.get("/jobs/<job_id>")
def job(job_id: str):
    job = service().library.get(job_id)
    return render_template("job.html", job=job, episode=episode_urls(job), stages=STAGES)


@bp.post("/jobs/<job_id>/render")
@limiter.limit(submit_rate)
@editor_required
def rerender(job_id: str):
    service().rerender(job_id, client=client_id())
    return redirect(url_for("pages.job", job_id=job_id), 303)


@bp.post("/jobs/<job_id>/delete")
@editor_required
def delete(job_id: str):
    service().delete(job_id)
    return redirect(url_for("pages.episodes"), 303)


@bp.get("/episodes")
def episodes():
    jobs = service().library.jobs(published_only=True, limit=500)
    return render_template("episodes.html", jobs=jobs, created=_created)


@bp.get("/episodes/<job_id>")
def episode(job_id: str):
    library = service().library
    job = library.get(job_id)
    if not job.has_episode:
        return redirect(url_for("pages.job", job_id=job.id))
    transcript = library.episode_path(job.id, TRANSCRIPT)
    chapters_file = library.episode_path(job.id, CHAPTERS)
    if not transcript.exists() or not chapters_file.exists():
        abort(404)
    cues = read_transcript_json(json.loads(transcript.read_text(encoding="utf-8")))  # with their paragraphs
    paragraphs: dict[int, list] = {}
    for i, cue in enumerate(cues):
        paragraphs.setdefault(cue.paragraph, []).append((i, cue))
    chapters = json.loads(chapters_file.read_text(encoding="utf-8"))["chapters"]
    return render_template("episode.html", job=job, episode=episode_urls(job), paragraphs=paragraphs,
                           chapters=chapters, speeds=SPEEDS, created=_created(job))
