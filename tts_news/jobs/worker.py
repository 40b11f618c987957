"""The worker: renders queued jobs and speech requests with the voice models it holds, and sweeps.

One per `tts-news worker` process, or a thread inside `tts-news serve`. It claims a job before rendering
(a duplicate queue entry is harmless), beats a heartbeat while it renders (its lease), streams each
sentence to live listeners through the Renderer, and sweeps: jobs whose worker died, and queued jobs
the queue lost, are sent again; expired files are removed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from tts_news.core.config import Settings
from tts_news.core.errors import NewsError, NotFound
from tts_news.jobs.library import Job, Library, worker_id
from tts_news.jobs.queue import Queue
from tts_news.jobs.streams import job_stream, remove_speech_leftovers, speech_stream
from tts_news.render.renderer import Renderer
from tts_news.text.normalize import TextWarning
from tts_news.voice.catalog import Voice
from tts_news.voice.install import DownloadProgress, choose_voice

log = logging.getLogger(__name__)

# A failed fetch of the default neural voice is not tried again for every job (one try can take
# minutes on a bad line): until this much time has passed, jobs speak with the fallback voice.
FETCH_RETRY_S = 600.0
DOWNLOAD_LOG_STEP = 0.1  # log a voice download's progress every 10 %
CLEANUP_EVERY_S = 3600.0  # how often a sweeping worker removes expired files
# A render that finishes no sentence for this long is stuck (a hung model, a wedged ffmpeg): it is failed.
# Mastering a 100,000-character article takes ~1 minute on 2 cores; a sentence, seconds.
STUCK_S = 900


class Cancelled(Exception):
    """The job was cancelled (or deleted) while it rendered."""


class Worker:
    """Renders what is queued, in the process that consumes the queue."""

    def __init__(self, settings: Settings, library: Library, queue: Queue) -> None:
        self.settings = settings
        self.library = library
        self.queue = queue
        self._fetch_failed = -FETCH_RETRY_S
        self._moved: dict[str, float] = {}  # job id → when its render last finished a sentence

    # -- voices ---------------------------------------------------------------------------------------
    def choose_voice(self, name: str | None, notice=log.warning, progress: DownloadProgress | None = None) -> Voice:
        """The voice that will speak. A failed fetch of the default neural voice is not tried again for a
        while: meanwhile the fallback speaks."""
        settings = self.settings
        if time.monotonic() - self._fetch_failed < FETCH_RETRY_S and not settings.offline:
            settings = settings.replace(offline=True)
        voice = choose_voice(settings, name, progress, notice=notice)
        if voice.name != (name or settings.voice) and not settings.offline:
            self._fetch_failed = time.monotonic()
        return voice

    def renderer(self, voice: Voice) -> Renderer:
        """A renderer for this voice (its model is loaded once per process and kept; see voice.loader)."""
        return Renderer(voice, self.settings)

    def preload(self) -> None:
        """Load the default voice's model now, once per worker process, so the first job does not wait
        (fetching its weights first if they are missing, with the progress in the log)."""
        started = time.perf_counter()
        logged = [-DOWNLOAD_LOG_STEP]

        def progress(done: int, total: int | None) -> None:
            if total and done / total >= logged[0] + DOWNLOAD_LOG_STEP:
                logged[0] = done / total
                log.warning("downloading voice %s: %d%% of %.0f MB", self.settings.voice, 100 * done / total,
                            total / 1e6)

        voice = self.choose_voice(None, progress=progress)
        self.renderer(voice)
        log.warning("voice %s ready in %.1f s", voice.name, time.perf_counter() - started)

    # -- the tasks ------------------------------------------------------------------------------------
    def speak_request(self, text: str, voice: str | None, fmt: str, speed: float, request_id: str) -> None:
        """Speak a /v1/audio/speech request into the stream the web process sends on; a request that
        cannot be spoken leaves its reason there instead."""
        stream = speech_stream(self.settings.data_dir, request_id, fmt)
        notices: list[str] = []
        try:
            renderer = self.renderer(self.choose_voice(voice, notice=notices.append))
            renderer.speech(text, stream, fmt=fmt, speed=speed, notices=notices)
        except NewsError as err:
            if stream.info() is None:  # refused before it started; a started stream was ended with the reason
                stream.refuse(err)
            else:
                log.warning("speech request %s failed: %s", request_id, err)

    def render_job(self, job_id: str) -> None:
        """Render one job, if it is still ours to render. Never raises: failure goes in the record."""
        me = worker_id()
        job = self.library.claim(job_id, me)
        if job is None:
            log.info("job %s: already taken or finished; skipped", job_id)
            return
        stop = threading.Event()
        self._moved[job_id] = time.monotonic()
        beat = threading.Thread(target=self._beat, args=(job_id, me, stop), daemon=True)
        beat.start()
        try:
            self._render(job, me)
        except Cancelled as err:
            log.info("%s", err)
            self._discard(job_id)
        except NewsError as err:
            log.warning("job %s failed: %s", job_id, err)
            self.library.fail(job_id, me, str(err))
        except Exception as err:  # a bug or a broken model: keep a readable reason, log the rest
            log.exception("job %s failed", job_id)
            self.library.fail(job_id, me, f"internal error while rendering ({type(err).__name__}: {err})")
        finally:
            stop.set()
            self._moved.pop(job_id, None)

    def _beat(self, job_id: str, me: str, stop: threading.Event) -> None:
        """Keep the lease while the render moves; a render that has not finished a sentence (or its
        mastering) for STUCK_S is failed with a clear reason, and the lease let go."""
        while not stop.wait(self.settings.job_lease_s / 4):
            if time.monotonic() - self._moved.get(job_id, time.monotonic()) > STUCK_S:
                log.error("job %s: no progress for %d s; failing it", job_id, STUCK_S)
                self.library.fail(job_id, me, f"the render made no progress for {STUCK_S // 60} minutes and was "
                                              "stopped; render it again, or try another voice")
                return
            self.library.beat(job_id, me)

    def _render(self, job: Job, me: str) -> None:
        notices: list[str] = []
        renderer = self.renderer(self.choose_voice(job.voice, notice=notices.append))
        script = renderer.prepare(job.text, title=job.title)
        total = len(script.to_say)
        early = [TextWarning.notice(n).as_dict() for n in notices]
        self.library.note(job.id, me, early + [w.as_dict() for w in renderer.warnings(script)], renderer.voice.name)
        self.library.progress(job.id, me, 0, total)
        log.info("job %s: rendering %r, %d sentences, voice %s (attempt %d)", job.id, job.title[:60], total,
                 renderer.voice.name, job.attempts)

        def progress(done: int, _total: int) -> None:
            self._moved[job.id] = time.monotonic()
            if not self.library.progress(job.id, me, done, total, "speaking" if done < total else "mastering"):
                raise Cancelled(f"job {job.id} is no longer this worker's (cancelled or deleted); stopped")

        stream = job_stream(self.settings.data_dir, job.id)
        episode = renderer.episode(script, self.library.episode_path(job.id), progress=progress, live=stream)
        finished = self.library.finish(job.id, me, title=episode.title, duration=episode.duration,
                                       chapters=episode.chapters, warnings=early + [w.as_dict() for w in episode.warnings])
        stream.remove()  # listeners still reading it keep their open file to the end
        if not finished:
            self._discard(job.id)
            return
        log.info("job %s: %s", job.id, episode.summary())

    def _discard(self, job_id: str) -> None:
        """A render that ended after its job was deleted leaves no files behind."""
        try:
            self.library.get(job_id)
        except NotFound:
            for path in self.library.episodes_dir.glob(f"{job_id}.*"):
                path.unlink(missing_ok=True)
            log.info("job %s was deleted while it rendered; its files are removed", job_id)

    # -- sweeps ---------------------------------------------------------------------------------------
    def recover(self) -> int:
        """Send again every job a dead worker held, and queued jobs the queue no longer holds (e.g. a
        queue file deleted, or the enqueue lost). A job sent twice is still rendered once."""
        pending = self.queue.queued_job_ids()
        lost = [j for j in self.library.jobs(status="queued", limit=10_000) if j.id not in pending]
        orphans = self.library.orphans()
        for job in orphans:  # a dead worker's partial live stream: listeners wait for the next one
            job_stream(self.settings.data_dir, job.id).remove()
        again = orphans + lost
        for job in again:
            log.warning("job %s: %s; sending it again", job.id,
                        "its worker stopped" if job.status == "running" else "not in the queue")
            self.queue.send_job(job.id)
        return len(again)

    def remove_expired(self, now: float | None = None) -> int:
        """Unpublished episodes and speech leftovers older than TTS_NEWS_KEEP_DAYS go; published
        episodes stay (they are the feed)."""
        cutoff = (now or time.time()) - self.settings.keep_days * 86400
        removed = len(self.library.remove_unpublished(cutoff))
        leftovers = remove_speech_leftovers(self.settings.data_dir, cutoff)
        if removed or leftovers:
            log.info("removed %d unpublished episodes and %d speech files older than %g days", removed, leftovers,
                     self.settings.keep_days)
        return removed + leftovers

    def start(self) -> int:
        """What a worker does before it consumes: litter of killed processes removed, lost jobs sent again."""
        self.library.remove_stale_parts()
        return self.recover()

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


def stop_on_signals() -> None:
    """SIGTERM and SIGINT end the process within moments: a render in progress is not waited for (it can
    take minutes). Its job keeps its record; the lease runs out and the next worker renders it again
    from the sentence cache — as after a crash, which every render already survives."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (an embedded consumer started from another one)

    def stop(signum, _frame) -> None:
        log.warning("stopping on %s; an unfinished job is sent again when its lease runs out",
                    signal.Signals(signum).name)
        logging.shutdown()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def start_embedded_worker(settings: Settings, library: Library, queue: Queue) -> threading.Event:
    """The worker inside `tts-news serve`: a consumer thread, the voice loaded, the sweeps started.
    Setting the returned event stops it."""
    stop = threading.Event()
    worker = Worker(settings, library, queue)

    def main() -> None:
        try:
            worker.preload()
        except Exception:
            log.exception("loading the default voice failed; jobs will report why")
        worker.start()
        consumer = queue.consumer(worker)
        consumer.start()
        threading.Thread(target=worker.sweep_forever, args=(stop,), daemon=True, name="sweeper").start()
        stop.wait()
        consumer.stop(graceful=False)

    threading.Thread(target=main, daemon=True, name="embedded-worker").start()
    return stop
