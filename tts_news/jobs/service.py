"""The application service, the submitting side of the jobs layer: articles checked and queued as jobs,
speech requested, bounds kept (disk, queue, each client's share). Rendering is the worker's
(`tts_news.jobs.worker`), which also sweeps for jobs whose worker died and sends them again.

The queue only carries job ids, as JSON (`tts_news.jobs.queue`); the library's record is the truth.
"""

from __future__ import annotations

import logging
import re
import shutil
import uuid

from huey.api import Result

from tts_news.core.config import Settings
from tts_news.core.errors import InsufficientStorage, QueueFull, TooLarge, TooManyQueued, UserError, VoiceUnavailable
from tts_news.jobs.library import Job, Library
from tts_news.jobs.queue import Queue
from tts_news.jobs.streams import Stream, job_stream, speech_stream
from tts_news.render.newsroom import normalizer_for
from tts_news.text.article import check_article
from tts_news.text.cleanup import xml_safe
from tts_news.text.script import build_script, headline
from tts_news.text.sources import article_from_url
from tts_news.voice.catalog import SLOWEST_PACE_CHARS_PER_S, get_voice

log = logging.getLogger(__name__)

# The longest episode a job may make, estimated at the slowest voice's pace: a 90-minute episode masters
# well inside 1 GB; 100,000 characters could be 3 hours.
MAX_EPISODE_S = 90 * 60
# A run of letters longer than this is not a word but a flood (a hostile article, a broken paste):
# refused when it is submitted, rather than spoken for hours.
MAX_WORD_LETTERS = 100
LONG_WORD_RE = re.compile(rf"[^\W\d_]{{{MAX_WORD_LETTERS + 1},}}")


class Service:
    """Checks and submits articles, sends jobs round again, asks for speech, keeps the bounds."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.library = Library(settings.data_dir, settings.job_lease_s, settings.max_attempts)
        self.queue = Queue(settings)

    # -- the submitting side --------------------------------------------------------------------
    def check_voice(self, name: str | None) -> str:
        """The voice a job will ask for; unknown voices and ones that cannot be had fail now, not later."""
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
        check_article(text, self.settings)
        if title is not None and len(title) > self.settings.max_title_chars:
            raise UserError(f"the title has {len(title)} characters; the limit is {self.settings.max_title_chars}")
        if (word := LONG_WORD_RE.search(text)) is not None:
            raise UserError(f"the article has a 'word' of {len(word.group()):,} letters at character {word.start()}; "
                            f"no language has words that long (the limit is {MAX_WORD_LETTERS})")
        script = build_script(text, normalizer_for(self.settings))
        if not script.to_say:
            raise UserError("the article has nothing a voice can say (no words, only symbols or markup)")
        seconds = sum(len(s.spoken) for _, s in script.to_say) / SLOWEST_PACE_CHARS_PER_S
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
        self.check_voice(voice)
        self.check_room(client)  # refuse before fetching, not after
        article = article_from_url(url, self.settings)
        return self.submit(article.text, title=title, voice=voice, client=client, source=source,
                           source_url=article.url)

    def _send(self, job_id: str) -> None:
        """Queue a recorded job. An unreachable queue (Redis restarting) loses nothing: the record
        stays queued and the workers' sweeps send it once the queue answers again."""
        try:
            self.queue.send_job(job_id)
        except Exception as err:
            log.warning("job %s is recorded but the queue is unreachable (%s); it will be sent when it is back",
                        job_id, err)

    def rerender(self, job_id: str, voice: str | None = None, client: str | None = None) -> Job:
        self.check_room(client)
        job = self.library.requeue(job_id, voice=self.check_voice(voice) if voice else None)
        self._send(job.id)
        return job

    def publish(self, job_id: str, published: bool = True) -> Job:
        """Put a job's episode in the public feed and list, or take it out (its files stay)."""
        return self.library.set_published(job_id, published)

    def delete(self, job_id: str) -> None:
        """An editor removes a job: its record, episode files and any live stream; the feed drops it."""
        self.library.delete(job_id)
        job_stream(self.settings.data_dir, job_id).remove()

    def start_speech(self, text: str, *, voice: str | None, fmt: str, speed: float) -> tuple[Stream, Result]:
        """Ask a worker (which owns the voice model) to speak a short text; returns the stream its audio
        will grow in, and the queued task (`.revoke()` if nobody waits for it any more)."""
        self.check_room()
        request_id = uuid.uuid4().hex
        stream = speech_stream(self.settings.data_dir, request_id, fmt)
        return stream, self.queue.send_speech(text, voice, fmt, speed, request_id)
