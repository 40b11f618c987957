"""The job queue: Huey, on a SQLite file in the data dir (nothing to install) or on Redis
(TTS_NEWS_REDIS_URL: `tts-news worker`s on any number of machines), carrying only plain JSON arguments.

Both tasks are registered here, once: rendering a job (its id) and speaking a speech request. Neither
returns anything through the queue: a render leaves its result in the library, speech its audio in a
stream (`streams`), so the queue's database stays small. The process that consumes the queue gives it
its worker (`serve`); a process that only submits never needs one.
"""

from __future__ import annotations

import datetime
import json
from typing import Protocol

from huey import PriorityRedisHuey, SqliteHuey
from huey.api import Huey, Result
from huey.consumer import Consumer
from huey.registry import Message
from huey.serializer import Serializer

from tts_news.core.config import Settings

RENDER_TASK = "tts_news.render_job"  # task names are what queued messages carry: never rename them
SPEECH_TASK = "tts_news.speech"
# Speech requests are interactive (a client waits on the line): they go ahead of queued episodes.
SPEECH_PRIORITY = 100
# How long an idle consumer sleeps between polls of the queue at most (Huey backs off to this); a
# speech request waits at most this long to be picked up.
MAX_POLL_DELAY_S = 0.25


class TaskRunner(Protocol):
    """What consumes the tasks: this process's worker."""

    def render_job(self, job_id: str) -> None: ...

    def speak_request(self, text: str, voice: str | None, fmt: str, speed: float, request_id: str) -> None: ...


def _encode(value):
    if isinstance(value, Message):
        return {"$message": [_encode(v) for v in value]}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"the job queue carries only plain values, not {type(value).__name__}")


def _decode(value):
    if isinstance(value, dict):
        if "$message" in value:
            return Message(*(_decode(v) for v in value["$message"]))
        if "$datetime" in value:
            return datetime.datetime.fromisoformat(value["$datetime"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class JsonSerializer(Serializer):
    """Huey's messages as JSON, not pickle: whoever can write to the queue (a Redis reachable on the
    network) can only name our tasks with plain arguments, never run code in a worker."""

    def _serialize(self, data) -> bytes:
        return json.dumps(_encode(data), ensure_ascii=False).encode("utf-8")

    def _deserialize(self, data: bytes):
        return _decode(json.loads(data))


def make_huey(settings: Settings) -> Huey:
    if settings.redis_url:
        # Plain RedisHuey ignores priorities, and speech must pass queued episodes.
        return PriorityRedisHuey("tts-news", url=settings.redis_url, serializer=JsonSerializer())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("tts-news", filename=str(settings.data_dir / "queue.sqlite3"), serializer=JsonSerializer())


class PromptConsumer(Consumer):
    """A consumer that leaves signal handling to the process (`worker.stop_on_signals`): it stops at
    once on SIGTERM or Ctrl-C rather than waiting, as Huey does, for the running render to end."""

    def _set_signal_handlers(self) -> None:
        pass


class Queue:
    """The queue of one data dir or Redis, with its two tasks."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.huey = make_huey(settings)
        self._runner: TaskRunner | None = None
        self._render = self.huey.task(name=RENDER_TASK)(self._run_render)
        self._speech = self.huey.task(name=SPEECH_TASK, priority=SPEECH_PRIORITY)(self._run_speech)

    @property
    def where(self) -> str:
        return self.settings.redis_url or str(self.settings.data_dir / "queue.sqlite3")

    # -- sending --------------------------------------------------------------------------------------
    def send_job(self, job_id: str) -> Result:
        return self._render(job_id)

    def send_speech(self, text: str, voice: str | None, fmt: str, speed: float, request_id: str) -> Result:
        """`.revoke()` the result when nobody waits for the speech any more."""
        return self._speech(text, voice, fmt, speed, request_id)

    def pending_count(self) -> int:
        return self.huey.pending_count()

    def queued_job_ids(self) -> set[str]:
        return {t.args[0] for t in self.huey.pending() if t.name == RENDER_TASK and t.args}

    # -- consuming ------------------------------------------------------------------------------------
    def consumer(self, runner: TaskRunner, workers: int = 1) -> Consumer:
        """A consumer whose tasks `runner` carries out, in threads of this process."""
        self._runner = runner
        return PromptConsumer(self.huey, workers=workers, worker_type="thread", periodic=False,
                              max_delay=MAX_POLL_DELAY_S, check_worker_health=True)

    def _runner_here(self) -> TaskRunner:
        if self._runner is None:
            raise RuntimeError("this process consumes the queue without a worker")
        return self._runner

    def _run_render(self, job_id: str) -> None:
        self._runner_here().render_job(job_id)

    def _run_speech(self, text: str, voice: str | None, fmt: str, speed: float, request_id: str) -> None:
        self._runner_here().speak_request(text, voice, fmt, speed, request_id)
