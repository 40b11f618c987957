"""The worker: renders queued jobs and speech requests with the voice model it holds.

One per `tts-news worker` process, or a thread inside `tts-news serve`. It claims a job before rendering
(a duplicate queue entry is harmless), beats a heartbeat while it renders, streams each sentence to live
listeners, and sweeps for jobs whose worker died and sends them again.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from tts_news.audio.live import info_file, read_json
from tts_news.core.config import Settings
from tts_news.core.errors import NewsError, NotFound
from tts_news.jobs.library import Job, worker_id
from tts_news.jobs.service import Service
from tts_news.text.normalize import TextWarning

log = logging.getLogger(__name__)

# A failed fetch of the default neural voice is not tried again for every job (one try can take
# minutes on a bad line): until this much time has passed, jobs speak with the fallback voice.
FETCH_RETRY_S = 600.0
DOWNLOAD_LOG_STEP = 0.1  # log a voice download's progress every 10 %
# How long an idle consumer sleeps between polls of the queue at most (Huey backs off to this); a
# speech request waits at most this long to be picked up.
MAX_POLL_DELAY_S = 0.25
CLEANUP_EVERY_S = 3600.0  # how often a sweeping worker removes expired files
# A render that finishes no sentence for this long is stuck (a hung model, a wedged ffmpeg): it is failed.
# Mastering a 100,000-character article takes ~1 minute on 2 cores; a sentence, seconds.
STUCK_S = 900


class Cancelled(Exception):
    """The job was cancelled (or deleted) while it rendered."""


class Worker:
    """Renders what the service queued, in the process that consumes the queue."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings
        self.library = service.library
        self._fetch_failed = -FETCH_RETRY_S
        self._moved: dict[str, float] = {}  # job id → when its render last finished a sentence

    def _voice_settings(self) -> Settings:
        if time.monotonic() - self._fetch_failed < FETCH_RETRY_S and not self.settings.offline:
            return self.settings.replace(offline=True)
        return self.settings

    def _note_failed_download(self, settings: Settings, asked: str | None, spoken: str) -> None:
        """Another voice than asked spoke because the asked one could not be fetched: back off fetching."""
        if spoken != (asked or settings.voice) and not settings.offline:
            self._fetch_failed = time.monotonic()

    def choose_voice(self, name: str | None, notice=log.warning, progress=None):
        from tts_news.voice.install import choose_voice

        settings = self._voice_settings()
        voice = choose_voice(settings, name, progress, notice=notice)
        self._note_failed_download(settings, name, voice.name)
        return voice

    def preload(self) -> None:
        """Load the default voice's model now, once per worker process, so the first job does not wait
        (fetching its weights first if they are missing, with the progress in the log)."""
        from tts_news.voice.loader import load_engine

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

    def speak_request(self, text: str, voice: str | None, fmt: str, speed: float, request_id: str) -> None:
        """Speak a /v1/audio/speech request into the file the web process streams from."""
        from tts_news.render.speech import stream_path, stream_speech

        settings = self._voice_settings()
        path = stream_path(settings.data_dir, request_id, fmt)
        stream_speech(text, voice, fmt, speed, settings, path)
        info = read_json(info_file(path)) or {}
        if info.get("voice"):
            self._note_failed_download(settings, voice, info["voice"])

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
        from tts_news.audio import live
        from tts_news.render.episode import prepare, render
        from tts_news.voice.loader import load_engine

        notices: list[str] = []
        voice = self.choose_voice(job.voice, notice=notices.append)
        script = prepare(job.text, voice, self.settings, title=job.title)
        total = len(script.to_say)
        early = [TextWarning.notice(n) for n in notices]
        self.library.note(job.id, me, [w.as_dict() for w in early + script.warnings], voice.name)
        self.library.progress(job.id, me, 0, total)
        log.info("job %s: rendering %r, %d sentences, voice %s (attempt %d)", job.id, job.title[:60], total,
                 voice.name, job.attempts)

        def progress(done: int, _total: int) -> None:
            self._moved[job.id] = time.monotonic()
            if not self.library.progress(job.id, me, done, total, "speaking" if done < total else "mastering"):
                raise Cancelled(f"job {job.id} is no longer this worker's (cancelled or deleted); stopped")

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
        if not self.library.finish(job.id, me, title=episode.title, duration=episode.duration,
                                   chapters=episode.chapters, warnings=[w.as_dict() for w in early + episode.warnings]):
            self._discard(job.id)
            live.remove(stream.path)
            return
        live.remove(stream.path)  # listeners still reading it keep their open file to the end
        log.info("job %s: %s", job.id, episode.summary())

    def _discard(self, job_id: str) -> None:
        """A render that ended after its job was deleted leaves no files behind."""
        try:
            self.library.get(job_id)
        except NotFound:
            for path in self.library.episodes_dir.glob(f"{job_id}.*"):
                path.unlink(missing_ok=True)
            log.info("job %s was deleted while it rendered; its files are removed", job_id)

    # -- running a consumer ---------------------------------------------------------------------
    def consumer(self, workers: int = 1):
        """A Huey consumer of this worker's queue whose process stops at once on SIGTERM or Ctrl-C (see
        `stop_on_signals`), rather than Huey's wait for the running render to end."""
        from huey.consumer import Consumer

        class PromptConsumer(Consumer):
            def _set_signal_handlers(self) -> None:
                stop_on_signals()

        return PromptConsumer(self.service.huey, workers=workers, worker_type="thread", periodic=False,
                              max_delay=MAX_POLL_DELAY_S, check_worker_health=True)

    def sweep_forever(self, stop: threading.Event) -> None:
        last_cleanup = 0.0
        while not stop.wait(max(1.0, self.settings.job_lease_s / 2)):
            try:
                self.service.recover()
                if time.monotonic() - last_cleanup > CLEANUP_EVERY_S:
                    last_cleanup = time.monotonic()
                    self.service.remove_expired()
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


def start_embedded_worker(service: Service) -> threading.Event:
    """The worker inside `tts-news serve`: a consumer thread, the voice loaded, the sweeps started."""
    stop = threading.Event()
    worker = service.worker

    def main() -> None:
        try:
            worker.preload()
        except Exception:
            log.exception("loading the default voice failed; jobs will report why")
        service.library.remove_stale_parts()
        service.recover()
        consumer = worker.consumer()
        consumer.start()
        threading.Thread(target=worker.sweep_forever, args=(stop,), daemon=True, name="sweeper").start()
        stop.wait()
        consumer.stop(graceful=False)

    threading.Thread(target=main, daemon=True, name="embedded-worker").start()
    return stop


def cmd_worker(args, settings: Settings) -> int:
    logging.getLogger("tts_news").setLevel(logging.INFO)  # a worker's log says what it rendered
    service = Service(settings)
    worker = service.worker
    worker.preload()
    service.library.remove_stale_parts()
    sent = service.recover()
    stop = threading.Event()
    threading.Thread(target=worker.sweep_forever, args=(stop,), daemon=True, name="sweeper").start()
    where = settings.redis_url or str(Path(settings.data_dir) / "queue.sqlite3")
    print(f"tts-news worker {worker_id()} ready: queue {where}, {sent} unfinished jobs sent again",
          file=sys.stderr, flush=True)
    try:
        worker.consumer(args.threads).run()
    finally:
        stop.set()
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("worker", help="consume jobs (Redis: run one per machine or per core)")
    p.add_argument("--threads", type=int, default=1,
                   help="jobs at once in this process (voices serialize synthesis; default 1)")
    p.set_defaults(func=cmd_worker)
