"""Episode files: MP3, WebVTT transcript and JSON chapters, with HTTP Range and stable URLs.

The URL a client gets carries ?v=<render number>: the id never changes, the audio URL does when the
audio is rendered again, so podcast apps and browser caches never mix two renders.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Blueprint, Response, redirect, request, send_file, stream_with_context, url_for
from werkzeug.http import parse_range_header

from tts_news.audio.sidecars import CHAPTERS, MP3, TRANSCRIPT, VTT
from tts_news.core.errors import NotFound
from tts_news.jobs.library import Job
from tts_news.jobs.streams import job_stream
from tts_news.text.cleanup import ascii_fold
from tts_news.web.common import service

bp = Blueprint("media", __name__)

# A versioned URL's bytes never change; an unversioned one must be checked each time.
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {MP3: "audio/mpeg", VTT: "text/vtt", CHAPTERS: "application/json+chapters", TRANSCRIPT: "application/json"}


def _send(job_id: str, suffix: str):
    library = service().library
    job = library.get(job_id)
    path = library.episode_path(job.id, suffix)
    if not job.has_episode or not path.exists():
        raise NotFound(f"episode {job_id} has no audio yet (status: {job.status})")
    _follow_rfc9110_range(path.stat().st_size)
    response = send_file(path, mimetype=TYPES[suffix], conditional=True, etag=True, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(job, suffix,
                                                                  attachment=request.args.get("download") == "1")
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Access-Control-Allow-Origin"] = "*"  # web podcast players fetch transcripts and chapters
    # Immutable only while the file is the one this version recorded: a re-render renames new files in
    # before it bumps the version, and those bytes must never be cached forever under the old URL.
    recorded = job.finished is not None and path.stat().st_mtime <= job.finished
    current = request.args.get("v") == str(job.version) and recorded
    response.headers["Cache-Control"] = IMMUTABLE if current else "no-cache"
    return response


def _follow_rfc9110_range(size: int) -> None:
    """RFC 9110 § 14.2: a Range the server cannot parse, or several ranges, are ignored (200, the whole
    file); a suffix longer than the file means the whole file. Only a range that starts past the end is
    unsatisfiable (416)."""
    header = request.environ.get("HTTP_RANGE")
    if not header:
        return
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        del request.environ["HTTP_RANGE"]
        return
    start, stop = parsed.ranges[0]
    if start < 0 and -start >= size and size > 0:
        request.environ["HTTP_RANGE"] = "bytes=0-"


FILENAME_UNSAFE_RE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
FILENAME_CHARS = 80
MIN_ASCII_NAME = 3  # Latin letters and digits a title needs for its own ASCII file name


def download_name(title: str, job_id: str, suffix: str) -> str:
    """The episode's title as a file name (Urdu kept; path and shell-hostile characters gone)."""
    name = " ".join(FILENAME_UNSAFE_RE.sub(" ", title).split())[:FILENAME_CHARS].strip(" .")
    return f"{name or job_id}{suffix}"


def ascii_download_name(job: Job, suffix: str) -> str:
    """The name for clients that read only the plain `filename` (gPodder does): a title written mostly in
    Latin letters as itself, else tts-news-DATE-ID — never blank, never only spaces."""
    folded = ascii_fold(job.title)
    words = re.findall(r"[A-Za-z0-9]+", folded)
    latin = sum(len(w) for w in words)
    if latin >= MIN_ASCII_NAME and latin * 2 >= sum(ch.isalnum() for ch in job.title):
        return "-".join(words)[:FILENAME_CHARS] + suffix
    day = datetime.fromtimestamp(job.published_at or job.created, UTC).strftime("%Y-%m-%d")
    return f"tts-news-{day}-{job.id[:8]}{suffix}"


def content_disposition(job: Job, suffix: str, *, attachment: bool) -> str:
    """RFC 6266: an ASCII `filename` every client can use, and the Urdu title in `filename*`."""
    kind = "attachment" if attachment else "inline"
    utf8 = quote(download_name(job.title, job.id, suffix), safe="")
    return f"{kind}; filename=\"{ascii_download_name(job, suffix)}\"; filename*=UTF-8''{utf8}"


LIVE_APPEAR_S = 900  # a queued job's listener waits this long for a worker to start it


@bp.get("/jobs/<job_id>/live.mp3")
def live(job_id: str):
    """The job's audio while it renders: MP3 as each sentence is spoken, to the end of the article.
    A finished job's listener is sent to the episode itself."""
    queue = service()
    job = queue.library.get(job_id)
    if job.status not in ("queued", "running"):
        if job.has_episode:
            return redirect(url_for("media.audio", job_id=job.id, v=job.version))
        raise NotFound(f"job {job_id} is {job.status}: it has no audio")

    def writing() -> bool:
        return queue.library.get(job.id).status in ("queued", "running")

    body = job_stream(queue.settings.data_dir, job.id).follow(writing, appear_s=LIVE_APPEAR_S,
                                                              stale_s=queue.settings.job_lease_s)
    response = Response(stream_with_context(body), mimetype="audio/mpeg")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Accel-Buffering"] = "no"  # a reverse proxy must pass it on as it comes
    return response


@bp.get("/episodes/<job_id>.mp3")
def audio(job_id: str):
    return _send(job_id, ".mp3")


@bp.get("/episodes/<job_id>.vtt")
def vtt(job_id: str):
    return _send(job_id, ".vtt")


@bp.get("/episodes/<job_id>.transcript.json")
def transcript_json(job_id: str):
    return _send(job_id, ".transcript.json")


@bp.get("/episodes/<job_id>.chapters.json")
def chapters(job_id: str):
    return _send(job_id, ".chapters.json")
