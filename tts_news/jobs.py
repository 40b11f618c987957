"""Jobs: articles queued for rendering, through Huey.

By default the queue is a SQLite file in the data dir (`SqliteHuey`, nothing to install) consumed by
the worker thread inside `tts-news serve`. With TTS_NEWS_REDIS_URL set the same task goes through
`RedisHuey`, and `tts-news worker` processes on any number of machines consume it (they share the
data dir, where records and episodes live).

The queue only carries job ids; the library's record is the truth. A worker claims a job before it
renders (so a duplicate queue entry is harmless), beats a heartbeat while it renders, and every
worker sweeps for jobs whose worker died (kill -9, power cut) and sends them again.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path

from tts_news.config import Settings
from tts_news.errors import InsufficientStorage, QueueFull, TooManyQueued, UserError, VoiceUnavailable
from tts_news.library import Job, Library, worker_id
from tts_news.live import info_file, read_json
from tts_news.live import remove as remove_stream

log = logging.getLogger(__name__)

TASK_NAME = "tts_news.render_job"
SPEECH_TASK_NAME = "tts_news.speech"
# Speech requests are interactive (a client waits on the line): they go ahead of queued episodes.
SPEECH_PRIORITY = 100
# A failed fetch of the default neural voice is not tried again for every job (one try can take
# minutes on a bad line): until this much time has passed, jobs speak with the fallback voice.
FETCH_RETRY_S = 600.0
DOWNLOAD_LOG_STEP = 0.1  # log a voice download's progress every 10 %
# How long an idle consumer sleeps between polls of the queue at most (Huey backs off to this); a
# speech request waits at most this long to be picked up.
MAX_POLL_DELAY_S = 0.25
CLEANUP_EVERY_S = 3600.0  # how often a sweeping worker removes expired files


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


class JobQueue:
    """Submit articles, send jobs round again, and run them (in whichever process consumes)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._fetch_failed = -FETCH_RETRY_S
        self._normalizer = None
        self.library = Library(settings.data_dir, settings.job_lease_s)
        self.huey = make_huey(settings)
        self._task = self.huey.task(name=TASK_NAME)(self.run)
        # Neither returns a result through the queue: renders leave theirs in the library, speech its
        # audio in a growing file in the data dir (the queue's database stays small).
        self._speech = self.huey.task(name=SPEECH_TASK_NAME, priority=SPEECH_PRIORITY)(self._speak)

    # -- the submitting side --------------------------------------------------------------------
    def check_voice(self, name: str | None) -> str:
        """The voice a job will ask for; unknown voices and ones that cannot be had fail now, not later."""
        from tts_news.voices import get_voice

        voice = get_voice(self.settings, name or self.settings.voice)
        if name and name != self.settings.voice and not voice.is_installed(self.settings) and (
                self.settings.offline or voice.engine != "coqui" or "path" in voice.settings):
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
        from tts_news.episode import check_article, normalizer_for
        from tts_news.text.script import build_script

        check_article(text, self.settings)
        if title is not None and len(title) > self.settings.max_title_chars:
            raise UserError(f"the title has {len(title)} characters; the limit is {self.settings.max_title_chars}")
        if self._normalizer is None:
            self._normalizer = normalizer_for(self.settings)
        if not build_script(text, self._normalizer).spoken:
            raise UserError("the article has nothing a voice can say (no words, only symbols or markup)")

    def submit(self, text: str, *, title: str | None = None, voice: str | None = None, source: str = "web",
               published: bool = True, client: str | None = None, source_url: str | None = None) -> Job:
        self.check_text(text, title)
        voice = self.check_voice(voice)
        self.check_room(client)
        job = self.library.create(
            text, voice, title, source=source, published=published, client=client or "", source_url=source_url,
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
        from tts_news.fetch import article_from_url

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

    def start_speech(self, text: str, *, voice: str | None, fmt: str, speed: float):
        """Ask a worker (which owns the voice model) to speak a short text; returns the file its audio
        will grow in, and the queued task (`.revoke()` if nobody waits for it any more)."""
        from tts_news.speech import stream_path

        self.check_room()
        request_id = uuid.uuid4().hex
        path = stream_path(self.settings.data_dir, request_id, fmt)
        return path, self._speech(text, voice, fmt, speed, request_id)

    # -- the working side -----------------------------------------------------------------------
    def _voice_settings(self) -> Settings:
        if time.monotonic() - self._fetch_failed < FETCH_RETRY_S and not self.settings.offline:
            return dataclasses.replace(self.settings, offline=True)
        return self.settings

    def _voice_chosen(self, settings: Settings, asked: str | None, spoken: str) -> None:
        if spoken != (asked or settings.voice) and not settings.offline:
            self._fetch_failed = time.monotonic()

    def choose_voice(self, name: str | None, notice=log.warning, progress=None):
        from tts_news.voices import choose_voice

        settings = self._voice_settings()
        voice = choose_voice(settings, name, progress, notice=notice)
        self._voice_chosen(settings, name, voice.name)
        return voice

    def preload(self) -> None:
        """Load the default voice's model now, once per worker process, so the first job does not wait
        (fetching its weights first if they are missing, with the progress in the log)."""
        from tts_news.engine import load_engine

        started = time.perf_counter()
        logged = [-DOWNLOAD_LOG_STEP]

        def progress(done: int, total: int | None) -> None:
            if total and done / total >= logged[0] + DOWNLOAD_LOG_STEP:
                logged[0] = done / total
                log.warning("downloading voice %s: %d%% of %.0f MB", self.settings.voice, 100 * done / total,
                            total / 1e6)

        voice = self.choose_voice(None, progress=progress)
        load_engine(voice, self.settings)
        log.warning("voice %s ready in %.1f s", voice.name, time.perf_counter() - started)

    def _speak(self, text: str, voice: str | None, fmt: str, speed: float, request_id: str) -> None:
        from tts_news.speech import stream_path, stream_speech

        settings = self._voice_settings()
        path = stream_path(settings.data_dir, request_id, fmt)
        stream_speech(text, voice, fmt, speed, settings, path)
        info = read_json(info_file(path)) or {}
        if info.get("voice"):
            self._voice_chosen(settings, voice, info["voice"])

    def run(self, job_id: str) -> None:
        """Render one job, if it is still ours to render. Never raises: failure goes in the record."""
        me = worker_id()
        job = self.library.claim(job_id, me)
        if job is None:
            log.info("job %s: already taken or finished; skipped", job_id)
            return
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job_id, me, stop), daemon=True)
        beat.start()
        try:
            self._render(job, me)
        except UserError as err:
            log.warning("job %s failed: %s", job_id, err)
            self.library.fail(job_id, me, str(err))
        except Exception as err:  # a bug or a broken model: keep a readable reason, log the rest
            log.exception("job %s failed", job_id)
            self.library.fail(job_id, me, f"internal error while rendering ({type(err).__name__}: {err})")
        finally:
            stop.set()

    def _beat(self, job_id: str, me: str, stop: threading.Event) -> None:
        while not stop.wait(self.settings.job_lease_s / 4):
            self.library.beat(job_id, me)

    def _render(self, job: Job, me: str) -> None:
        from tts_news import live
        from tts_news.engine import load_engine
        from tts_news.episode import prepare, render

        notices: list[str] = []
        voice = self.choose_voice(job.voice, notice=notices.append)
        script = prepare(job.text, voice, self.settings, title=job.title)
        total = len(script.spoken)
        early = [{"message": n, "position": None} for n in notices]
        self.library.note(job.id, me, early + _warnings(script.warnings), voice.name)
        self.library.progress(job.id, me, 0, total)
        log.info("job %s: rendering %r, %d sentences, voice %s (attempt %d)", job.id, job.title[:60], total,
                 voice.name, job.attempts)

        def progress(done: int, _total: int) -> None:
            self.library.progress(job.id, me, done, total, "speaking" if done < total else "mastering")

        stream = live.LiveStream(self.library.live_path(job.id), load_engine(voice, self.settings).sample_rate,
                                 lufs=self.settings.loudness_lufs, true_peak=self.settings.true_peak_db,
                                 bitrate=self.settings.bitrate,
                                 gain_db=live.calibrated_gain(self.settings.data_dir, voice.name))
        try:
            episode = render(script, voice, self.library.episode_path(job.id), self.settings, progress=progress,
                             live=stream)
        except BaseException as err:
            stream.abort(str(err) or type(err).__name__)
            raise
        live.remember_gain(self.settings.data_dir, voice.name, episode.gain_db)
        self.library.finish(job.id, me, title=episode.title, duration=episode.duration,
                            chapters=episode.chapters, warnings=early + _warnings(episode.warnings))
        live.remove(stream.path)  # listeners still reading it keep their open file to the end
        log.info("job %s: %s", job.id, episode.summary())

    # -- running a consumer ---------------------------------------------------------------------
    def consumer(self, workers: int = 1, *, embedded: bool = False):
        from huey.consumer import Consumer

        # Inside `serve` the web server owns the process's signals (Ctrl-C stops both).
        cls = _embedded_consumer_class() if embedded else Consumer
        return cls(self.huey, workers=workers, worker_type="thread", periodic=False,
                   max_delay=MAX_POLL_DELAY_S, check_worker_health=True)

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

    def sweep_forever(self, stop: threading.Event) -> None:
        last_cleanup = 0.0
        while not stop.wait(max(1.0, self.settings.job_lease_s / 2)):
            try:
                self.recover()
                if time.monotonic() - last_cleanup > CLEANUP_EVERY_S:
                    last_cleanup = time.monotonic()
                    self.remove_expired()
            except Exception:  # a locked database or an unreachable Redis must not end the sweeps
                log.exception("sweeping for stopped jobs failed; trying again later")


def _embedded_consumer_class():
    from huey.consumer import Consumer

    class EmbeddedConsumer(Consumer):
        def _set_signal_handlers(self) -> None:
            pass

    return EmbeddedConsumer


def _warnings(warnings) -> list[dict]:
    return [{"message": w.message, "position": w.position, "text": w.text} for w in warnings]


def start_embedded_worker(queue: JobQueue) -> threading.Event:
    """The worker inside `tts-news serve`: a consumer thread, the voice loaded, the sweeps started."""
    stop = threading.Event()

    def main() -> None:
        try:
            queue.preload()
        except Exception:
            log.exception("loading the default voice failed; jobs will report why")
        queue.recover()
        consumer = queue.consumer(embedded=True)
        consumer.start()
        threading.Thread(target=queue.sweep_forever, args=(stop,), daemon=True, name="sweeper").start()
        stop.wait()
        consumer.stop(graceful=False)

    threading.Thread(target=main, daemon=True, name="embedded-worker").start()
    return stop


def cmd_worker(args, settings: Settings) -> int:
    logging.getLogger("tts_news").setLevel(logging.INFO)  # a worker's log says what it rendered
    queue = JobQueue(settings)
    queue.preload()
    sent = queue.recover()
    stop = threading.Event()
    threading.Thread(target=queue.sweep_forever, args=(stop,), daemon=True, name="sweeper").start()
    where = settings.redis_url or str(Path(settings.data_dir) / "queue.sqlite3")
    print(f"tts-news worker {worker_id()} ready: queue {where}, {sent} unfinished jobs sent again",
          file=sys.stderr, flush=True)
    try:
        queue.consumer(args.threads).run()
    finally:
        stop.set()
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("worker", help="consume jobs (Redis: run one per machine or per core)")
    p.add_argument("--threads", type=int, default=1,
                   help="jobs at once in this process (voices serialize synthesis; default 1)")
    p.set_defaults(func=cmd_worker)
