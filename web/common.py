"""What the web blueprints share: the application service, episode URLs, the voice choices, checks."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, url_for

from tts_news.jobs.library import Job
from tts_news.jobs.service import Service
from tts_news.voice.catalog import Voice, all_voices


def service() -> Service:
    """The app's service (made by `create_app`)."""
    return current_app.extensions["tts_news"]


def iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def episode_urls(job: Job) -> dict | None:
    if not job.has_episode:
        return None
    v = job.version
    return {
        "audio_url": url_for("media.audio", job_id=job.id, v=v),
        "page_url": url_for("pages.episode", job_id=job.id),
        "vtt_url": url_for("media.vtt", job_id=job.id, v=v),
        "chapters_url": url_for("media.chapters", job_id=job.id, v=v),
        "duration": round(job.duration or 0.0, 3),
        "size": job.size,
        "chapters": job.chapters,
        "version": v,
    }


def unencodable_field(data: dict) -> str | None:
    """The first field whose text is not valid Unicode (JSON allows lone surrogates; text cannot hold them)."""
    for key, value in data.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return str(key)
    return None


def voice_choices() -> tuple[str, list[tuple[Voice, bool]]]:
    """The default voice's name, and every voice with whether its weights are here."""
    settings = service().settings
    return settings.voice, [(v, v.is_installed(settings)) for v in all_voices(settings).values()]
