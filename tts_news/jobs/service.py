"""The application service: articles checked and queued as jobs, speech requested, bounds kept.

By default the queue is a SQLite file in the data dir (`SqliteHuey`, nothing to install) consumed by
the worker thread inside `tts-news serve`. With TTS_NEWS_REDIS_URL set the same task goes through
`RedisHuey`, and `tts-news worker` processes on any number of machines consume it (they share the
data dir, where records and episodes live).

The queue only carries job ids, as JSON; the library's record is the truth. A worker claims a job before
it renders (so a duplicate queue entry is harmless), beats a heartbeat while it renders, and every worker
sweeps for jobs whose worker died (kill -9, power cut) and sends them again (`tts_news.worker`).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import shutil
import time
import uuid

from tts_news.audio.live import remove as remove_stream
from tts_news.core.config import Settings
from tts_news.core.errors import InsufficientStorage, QueueFull, TooLarge, TooManyQueued, UserError, VoiceUnavailable
from tts_news.jobs.library import Job, Library
from tts_news.text.cleanup import xml_safe
from tts_news.text.script import headline

log = logging.getLogger(__name__)

# The longest episode a job may make, estimated at the slowest voice's pace (espeak-urdu: ~8.4 spoken
# characters a second): a 90-minute episode masters well inside 1 GB; 100,000 characters could be 3 hours.
MAX_EPISODE_S = 90 * 60
SLOWEST_CHARS_PER_S = 8.0
# A run of letters longer than this is not a word but a flood (a hostile article, a broken paste):
# refused when it is submitted, rather than spoken for hours.
MAX_WORD_LETTERS = 100
LONG_WORD_RE = re.compile(rf"[^\W\d_]{{{MAX_WORD_LETTERS + 1},}}")

TASK_NAME = "tts_news.render_job"
SPEECH_TASK_NAME = "tts_news.speech"
# Speech requests are interactive (a client waits on the line): they go ahead of queued episodes.
SPEECH_PRIORITY = 100


def json_serializer():
    """Huey's messages as JSON, not pickle: whoever can write to the queue (a Redis reachable on the
    network) can only name our tasks with plain arguments, never run code in a worker."""
    from huey.registry import Message
    from huey.serializer import Serializer

    def encode(value):
        if isinstance(value, Message):
            return {"$message": [encode(v) for v in value]}
        if isinstance(value, datetime.datetime):
            return {"$datetime": value.isoformat()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in value.items()}
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        raise TypeError(f"the job queue carries only plain values, not {type(value).__name__}")

    def decode(value):
        if isinstance(value, dict):
            if "$message" in value:
                return Message(*(decode(v) for v in value["$message"]))
            if "$datetime" in value:
                return datetime.datetime.fromisoformat(value["$datetime"])
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    class JsonSerializer(Serializer):
        def _serialize(self, data) -> bytes:
            return json.dumps(encode(data), ensure_ascii=False).encode("utf-8")

        def _deserialize(self, data: bytes):
            return decode(json.loads(data))

    return JsonSerializer()


def make_huey(settings: Settings):
    from huey import PriorityRedisHuey, SqliteHuey

    if settings.redis_url:
        # Plain RedisHuey ignores priorities (speech must pass queued episodes); results are pushed
        # to the waiting web process rather than polled for.
        return PriorityRedisHuey("tts-news", url=settings.redis_url, notify_result=True,
                                 serializer=json_serializer())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tts-news", filename=str(settings.data_dir / "queue.sqlite3"), serializer=json_serializer())


class Service:
    """The application service: checks and submits articles, sends jobs round again, asks for speech,
    and keeps the queue and the data dir in bounds. Rendering is the worker's (`tts_news.worker`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.library = Library(settings.data_dir, settings.job_lease_s, settings.max_attempts)
        self.huey = make_huey(settings)
        self._worker = None
        # The tasks run in whichever process consumes the queue, through that process's Worker. Neither
        # returns a result through the queue: renders leave theirs in the library, speech its audio in
        # a growing file in the data dir (the queue's database stays small).
        self._task = self.huey.task(name=TASK_NAME)(lambda job_id: self.worker.render_job(job_id))
        self._speech = self.huey.task(name=SPEECH_TASK_NAME, priority=SPEECH_PRIORITY)(
            lambda *request: self.worker.speak_request(*request))

    @property
    def worker(self):
        """This process's worker (made when the first task arrives, or when a worker starts)."""
        if self._worker is None:
            from tts_news.jobs.worker import Worker

            self._worker = Worker(self)
        return self._worker

    # -- the submitting side --------------------------------------------------------------------
    def check_voice(self, name: str | None) -> str:
        """The voice a job will ask for; unknown voices and ones that cannot be had fail now, not later."""
        from tts_news.voice.catalog import get_voice

        voice = get_voice(self.settings, name or self.settings.voice)
        if name and name != self.settings.voice and not voice.is_installed(self.settings) and (
                self.settings.offline or not voice.downloadable):
            raise VoiceUnavailable(f"voice {voice.name} is not installed; install it with: "
                                   f"tts-news voices pull {voice.name}")
        return voice.name

    def check_room(self, client: str | None = None) -> None:
        """New work fits: disk space in the data dir, room in the queue, and in this client's share."""
        free_mb = shutil.disk_usage(self.settings.data_dir).free / 2**20
        if free_mb < self.settings.min_free_mb:
            log.error("refusing new work: %.0f MB free in %s, TTS_NEWS_MIN_FREE_MB is %d", free_mb,
                      self.settings.data_dir, self.settings.min_free_mb)
            raise InsufficientStorage("the server is short of disk space and takes no new work for now; "
                                      "try again later")
        if client is not None and self.library.waiting(client) >= self.settings.max_queued_per_client:
            raise TooManyQueued(f"you have {self.settings.max_queued_per_client} jobs waiting already; "
                                "send more when some have finished")
        if self.library.waiting() >= self.settings.max_queued:
            raise QueueFull("the queue is full; try again in a few minutes")

    def check_text(self, text: str, title: str | None = None) -> None:
        """An article with something to say, within the limits — refused now, not by a job that fails later."""
        from tts_news.render.episode import normalizer_for
        from tts_news.text.article import check_article
        from tts_news.text.script import build_script

        check_article(text, self.settings)
        if title is not None and len(title) > self.settings.max_title_chars:
            raise UserError(f"the title has {len(title)} characters; the limit is {self.settings.max_title_chars}")
        if (word := LONG_WORD_RE.search(text)) is not None:
            raise UserError(f"the article has a 'word' of {len(word.group()):,} letters at character {word.start()}; "
                            f"no language has words that long (the limit is {MAX_WORD_LETTERS})")
        script = build_script(text, normalizer_for(self.settings))
        if not script.to_say:
            raise UserError("the article has nothing a voice can say (no words, only symbols or markup)")
        seconds = sum(len(s.spoken) for _, s in script.to_say) / SLOWEST_CHARS_PER_S
        if seconds > MAX_EPISODE_S:
            raise TooLarge(f"the article would take about {seconds / 3600:.1f} hours to read; an episode may be at "
                           f"most {MAX_EPISODE_S // 60} minutes: split it into parts")

    def submit(self, text: str, *, title: str | None = None, voice: str | None = None, source: str = "web",
               published: bool = True, client: str | None = None, source_url: str | None = None) -> Job:
        self.check_text(text, title)
        voice = self.check_voice(voice)
        self.check_room(client)
        # Control characters in a title would make the feed and tags ill-formed: the title loses them (the
        # text keeps them; the normalizer reports each one it cannot read).
        shown = " ".join(xml_safe(title or headline(text)).split()) or "—"
        job = self.library.create(
            text, voice, shown, source=source, published=published, client=client or "", source_url=source_url,
            max_waiting=self.settings.max_queued,
            max_waiting_for_client=self.settings.max_queued_per_client if client is not None else None)
        if job is None:  # another submission took the last place since check_room looked
            self.check_room(client)
            raise QueueFull("the queue is full; try again in a few minutes")
        self._send(job.id)
        return job

    def submit_url(self, url: str, *, title: str | None = None, voice: str | None = None,
                   client: str | None = None, source: str = "web") -> Job:
        """An article from a web page: fetched (guarded), extracted, then queued like pasted text; the job
        keeps the page's address."""
        from tts_news.text.sources import article_from_url

        self.check_voice(voice)
        self.check_room(client)  # refuse before fetching, not after
        article = article_from_url(url, self.settings)
        return self.submit(article.text, title=title, voice=voice, client=client, source=source,
                           source_url=article.url)

    def _send(self, job_id: str) -> None:
        """Queue a recorded job. An unreachable queue (Redis restarting) loses nothing: the record
        stays queued and the workers' sweeps send it once the queue answers again."""
        try:
            self._task(job_id)
        except Exception as err:
            log.warning("job %s is recorded but the queue is unreachable (%s); it will be sent when it is back",
                        job_id, err)

    def rerender(self, job_id: str, voice: str | None = None, client: str | None = None) -> Job:
        self.check_room(client)
        job = self.library.requeue(job_id, voice=self.check_voice(voice) if voice else None)
        self._send(job.id)
        return job

    def recover(self) -> int:
        """Send again every job a dead worker held, and queued jobs the queue no longer holds (e.g. a
        queue file deleted, or the enqueue lost). A job sent twice is still rendered once."""
        pending = {t.args[0] for t in self.huey.pending() if t.name == TASK_NAME and t.args}
        lost = [j for j in self.library.jobs(status="queued", limit=10_000) if j.id not in pending]
        orphans = self.library.orphans()
        for job in orphans:  # a dead worker's partial live stream: listeners wait for the next one
            remove_stream(self.library.live_path(job.id))
        again = orphans + lost
        for job in again:
            log.warning("job %s: %s; sending it again", job.id,
                        "its worker stopped" if job.status == "running" else "not in the queue")
            self._task(job.id)
        return len(again)

    def delete(self, job_id: str) -> None:
        """An editor removes a job: its record, episode files and any live stream; the feed drops it."""
        self.library.delete(job_id)
        remove_stream(self.library.live_path(job_id))

    def start_speech(self, text: str, *, voice: str | None, fmt: str, speed: float):
        """Ask a worker (which owns the voice model) to speak a short text; returns the file its audio
        will grow in, and the queued task (`.revoke()` if nobody waits for it any more)."""
        from tts_news.render.speech import stream_path

        self.check_room()
        request_id = uuid.uuid4().hex
        path = stream_path(self.settings.data_dir, request_id, fmt)
        return path, self._speech(text, voice, fmt, speed, request_id)

    def remove_expired(self, now: float | None = None) -> int:
        """Unpublished episodes and speech leftovers older than TTS_NEWS_KEEP_DAYS go; published
        episodes stay (they are the feed)."""
        cutoff = (now or time.time()) - self.settings.keep_days * 86400
        removed = self.library.remove_unpublished(cutoff)
        speech = self.settings.data_dir / "speech"
        leftovers = [p for p in speech.glob("*") if p.is_file() and p.stat().st_mtime < cutoff] \
            if speech.is_dir() else []
        for path in leftovers:
            path.unlink(missing_ok=True)
        if removed or leftovers:
            log.info("removed %d unpublished episodes and %d speech files older than %g days",
                     len(removed), len(leftovers), self.settings.keep_days)
        return len(removed) + len(leftovers)
