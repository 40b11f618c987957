"""The podcast feed: RSS 2.0 with the itunes and Podcasting 2.0 namespaces, and the show's cover.

Item guids are the episode ids (never change, even when the audio is rendered again); pubDate is the
first render's time; enclosure lengths are the served files' exact sizes. The channel's
podcast:guid is the UUIDv5 of the feed URL (Podcasting 2.0 rule), fixed the first time the feed is
made and kept in the data dir, so a later move to another host does not change the show's identity.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from flask import Blueprint, Response, request, send_file, url_for

from tts_news.audio.sidecars import CHAPTERS, TRANSCRIPT, timestamp
from tts_news.core.config import Settings
from tts_news.core.errors import NotFound, ShowIdentityLost
from tts_news.core.files import write_text_atomic
from tts_news.jobs.library import Job, Library
from tts_news.text.cleanup import xml_safe
from tts_news.web.common import service

log = logging.getLogger(__name__)

bp = Blueprint("feed", __name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
PSC = "http://podlove.org/simple-chapters"  # Podlove Simple Chapters: what gPodder and others read in the feed
# Podcasting 2.0: podcast:guid is UUIDv5 of the feed URL (no scheme, no trailing slash) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
FEED_ITEMS = 300
DESCRIPTION_CHARS = 600
COVER_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

for prefix, uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM), ("psc", PSC)):
    ET.register_namespace(prefix, uri)


def podcast_guid(feed_url: str) -> str:
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def show_guid(settings: Settings, feed_url: str) -> str:
    """The show's podcast:guid, made from the feed URL the first time and kept from then on."""
    path = settings.data_dir / "feed.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["guid"]
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as err:
        # A new GUID would make every podcast app see a different show: never made silently.
        log.error("%s is unreadable (%s): the feed is not served until it is fixed or removed", path, err)
        raise ShowIdentityLost(f"the show's identity file {path.name} is unreadable; the operator must fix it") \
            from err
    guid = podcast_guid(feed_url)
    write_text_atomic(path, json.dumps({"guid": guid, "feed_url": feed_url}))
    return guid


def cover_suffix(settings: Settings) -> str:
    suffix = settings.cover.suffix.lower()
    return ".jpg" if suffix == ".jpeg" else suffix


def base_url(settings: Settings) -> str:
    return (settings.public_url or request.url_root).rstrip("/")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    """An element whose text and attributes hold only what XML 1.0 allows (a hostile title cannot make
    the feed ill-formed for every subscriber)."""
    el = ET.SubElement(parent, tag, {"type" if k == "type_" else k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_safe(text)
    return el


def _description(job: Job) -> str:
    lines = [line.strip() for line in job.text.splitlines() if line.strip()]
    body = " ".join(lines[1:] if len(lines) > 1 else lines)
    body = body if len(body) <= DESCRIPTION_CHARS else body[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
    return f"{body}\n\nاصل خبر: {job.source_url}" if job.source_url else body


def _simple_chapters(item: ET.Element, chapters_file: Path) -> None:
    """The episode's chapters in the feed itself (the same ones as its ID3 CHAP frames and JSON)."""
    try:
        chapters = json.loads(chapters_file.read_text(encoding="utf-8"))["chapters"]
    except (OSError, ValueError, KeyError):
        return  # no chapters file (removed by hand): the item simply has none
    if not chapters:
        return
    block = _sub(item, f"{{{PSC}}}chapters", version="1.2")
    for chapter in chapters:
        _sub(block, f"{{{PSC}}}chapter", start=timestamp(chapter["startTime"]), title=chapter["title"])


def build_feed(settings: Settings, library: Library, base: str) -> bytes:
    it, pc = f"{{{ITUNES}}}", f"{{{PODCAST}}}"
    feed_url = f"{base}/feed.xml"
    cover_url = f"{base}/cover{cover_suffix(settings)}"
    rss = ET.Element("rss", {"version": "2.0"})
    ch = _sub(rss, "channel")
    _sub(ch, "title", settings.show_title)
    _sub(ch, "link", f"{base}/")
    _sub(ch, "description", settings.show_description)
    _sub(ch, "language", "ur")
    _sub(ch, "generator", "tts-news")
    _sub(ch, f"{{{ATOM}}}link", href=feed_url, rel="self", type_="application/rss+xml")
    image = _sub(ch, "image")
    _sub(image, "url", cover_url)
    _sub(image, "title", settings.show_title)
    _sub(image, "link", f"{base}/")
    _sub(ch, f"{it}image", href=cover_url)
    news = ET.SubElement(ch, f"{it}category", {"text": "News"})  # 'text' is the attribute's name here
    ET.SubElement(news, f"{it}category", {"text": "Daily News"})
    _sub(ch, f"{it}explicit", "false")
    _sub(ch, f"{it}author", settings.show_author)
    _sub(ch, f"{it}type", "episodic")
    owner = _sub(ch, f"{it}owner")
    _sub(owner, f"{it}name", settings.show_author)
    _sub(owner, f"{it}email", settings.show_owner_email)
    _sub(ch, f"{pc}guid", show_guid(settings, feed_url))
    _sub(ch, f"{pc}locked", "yes", owner=settings.show_owner_email)

    jobs = library.jobs(published_only=True, with_episode=True, limit=FEED_ITEMS)
    if jobs:
        _sub(ch, "lastBuildDate", format_datetime(datetime.fromtimestamp(max(j.finished or 0 for j in jobs), UTC)))
    for job in jobs:
        mp3 = library.episode_path(job.id)
        try:
            size = mp3.stat().st_size
        except FileNotFoundError:
            continue  # files removed by hand: leave it out rather than promise bytes that are not there
        page = f"{base}{url_for('pages.episode', job_id=job.id)}"
        item = _sub(ch, "item")
        _sub(item, "title", job.title)
        _sub(item, f"{it}title", job.title)
        _sub(item, "description", _description(job))
        _sub(item, "link", page)
        _sub(item, "guid", f"urn:uuid:{job.id}", isPermaLink="false")
        _sub(item, "pubDate", format_datetime(datetime.fromtimestamp(job.published_at or job.created, UTC)))
        _sub(item, "enclosure", url=f"{base}{url_for('media.audio', job_id=job.id, v=job.version)}",
             length=str(size), type_="audio/mpeg")
        _sub(item, f"{it}duration", str(round(job.duration or 0)))
        _sub(item, f"{it}explicit", "false")
        _sub(item, f"{it}episodeType", "full")
        if library.episode_path(job.id, TRANSCRIPT).exists():
            _sub(item, f"{pc}transcript",
                 url=f"{base}{url_for('media.transcript_json', job_id=job.id, v=job.version)}",
                 type_="application/json", language="ur")
        # WebVTT last: clients that keep one transcript keep the captions
        _sub(item, f"{pc}transcript", url=f"{base}{url_for('media.vtt', job_id=job.id, v=job.version)}",
             type_="text/vtt", language="ur", rel="captions")
        _sub(item, f"{pc}chapters", url=f"{base}{url_for('media.chapters', job_id=job.id, v=job.version)}",
             type_="application/json+chapters")
        _simple_chapters(item, library.episode_path(job.id, CHAPTERS))
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


@bp.get("/feed.xml")
def feed():
    queue = service()
    body = build_feed(queue.settings, queue.library, base_url(queue.settings))
    response = Response(body, content_type="application/rss+xml; charset=utf-8")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/cover<suffix>")
def cover(suffix: str):
    settings = service().settings
    path: Path = settings.cover
    if suffix != cover_suffix(settings) or not path.is_file():
        raise NotFound("no such cover image")
    return send_file(path, mimetype=COVER_TYPES.get(suffix, "application/octet-stream"), conditional=True,
                     max_age=86400)
