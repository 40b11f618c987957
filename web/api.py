"""JSON API: submit articles as jobs, follow them, send them round again; health."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request, url_for

from tts_news.core.errors import Unavailable, UserError
from tts_news.jobs.library import Job
from tts_news.web.common import episode_urls, iso, service, unencodable_field, voice_choices
from tts_news.web.errors import BadJson, NotJson, error_body, status_of
from tts_news.web.security import check_api_writer, client_id, limiter, submit_rate

bp = Blueprint("api", __name__)
log = logging.getLogger(__name__)


def job_json(job: Job) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "stage": job.stage,
        "title": job.title,
        "voice": job.voice,
        "progress": {"done": job.done, "total": job.total},
        "warnings": job.warnings,
        "error": job.error,
        "attempts": job.attempts,
        "source_url": job.source_url,
        "created": iso(job.created),
        "updated": iso(job.updated),
        "finished": iso(job.finished),
        "status_url": url_for("api.get_job", job_id=job.id),
        # While it renders: its audio so far, growing as each sentence is spoken.
        "live_audio_url": url_for("media.live", job_id=job.id) if job.status in ("queued", "running") else None,
        "episode": episode_urls(job),
    }


def json_body() -> dict:
    """The request's JSON object, or a clear 400 saying what is wrong with it."""
    if not request.is_json:
        raise NotJson("send JSON with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise BadJson("the request body is not valid JSON")
    if not isinstance(data, dict):
        raise BadJson("the request body must be a JSON object like {\"text\": \"...\"}")
    if (key := unencodable_field(data)) is not None:
        raise BadJson(f"'{key}' holds an unpaired surrogate (\\ud800-\\udfff): it is not text")
    return data


def optional_str(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UserError(f"'{key}' must be a string")
    return value.strip() or None


@bp.get("/healthz")
def healthz():
    queue = service()
    try:
        counts = queue.library.counts()
        queued = queue.queue.pending_count()
    except Exception:  # the database or Redis is down: say so, with 503; the details go to the log only
        log.exception("health check failed")
        down = Unavailable("the job database or queue is not answering")
        return jsonify({"status": "unavailable", **error_body(str(down), down.code)}), status_of(down)
    return jsonify({"status": "ok", "queue": "redis" if queue.settings.redis_url else "sqlite",
                    "queued": queued, "jobs": counts})


@bp.post("/api/jobs")
@limiter.limit(submit_rate)
def create_job():
    check_api_writer()
    data = json_body()
    text, url = data.get("text"), optional_str(data, "url")
    title, voice = optional_str(data, "title"), optional_str(data, "voice")
    if text is not None and url is not None:
        raise UserError("send the article as 'text' or as a web address in 'url', not both")
    if url is not None:
        job = service().submit_url(url, title=title, voice=voice, client=client_id())
    else:
        if text is None:
            raise UserError("'text' is missing: send the article as {\"text\": \"...\"} or {\"url\": \"https://...\"}")
        if not isinstance(text, str):
            raise UserError("'text' must be a string")
        job = service().submit(text, title=title, voice=voice, client=client_id())
    body = job_json(job)
    return jsonify(body), 202, {"Location": body["status_url"]}


@bp.get("/api/jobs")
def list_jobs():
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 500)
    except ValueError as err:
        raise UserError("'limit' must be a whole number") from err
    return jsonify({"jobs": [job_json(j) for j in service().library.jobs(limit=limit)]})


@bp.get("/api/jobs/<job_id>")
def get_job(job_id: str):
    return jsonify(job_json(service().library.get(job_id)))


@bp.post("/api/jobs/<job_id>/render")
@limiter.limit(submit_rate)
def rerender_job(job_id: str):
    """Render again (after installing a voice or fixing the lexicon): same id, new audio URL."""
    check_api_writer()
    data = json_body() if request.content_length else {}
    job = service().rerender(job_id, voice=optional_str(data, "voice"), client=client_id())
    return jsonify(job_json(job)), 202


@bp.delete("/api/jobs/<job_id>")
def delete_job(job_id: str):
    """Remove a job, its episode and its place in the feed (not while it is being rendered: 400)."""
    check_api_writer()
    service().delete(job_id)
    return "", 204


@bp.get("/api/voices")
def voices():
    default, choices = voice_choices()
    return jsonify({"default": default, "voices": [
        {"name": v.name, "label": v.label, "engine": v.engine, "installed": installed, "license": v.license}
        for v, installed in choices]})
