"""OpenAI-compatible speech: `POST /v1/audio/speech` and `GET /v1/models`.

Clients written for OpenAI's API (the official SDKs included) work by pointing base_url here. The
text goes through the same normalizer and voices as episodes; a worker makes the audio, and it
streams: the first bytes leave as soon as the first sentence is spoken (chunked transfer), or as
OpenAI's `speech.audio.delta` events with `stream_format: "sse"`. Errors come in OpenAI's shape:
{"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, request, stream_with_context

from tts_news.audio.live import FORMATS
from tts_news.core.errors import Busy, NewsError, UnknownVoice
from tts_news.jobs.streams import Stream
from tts_news.render.speech import SpeechRequestError, check_duration, check_request, spoken_length
from tts_news.web.common import service, unencodable_field
from tts_news.web.errors import Relayed, status_of
from tts_news.web.security import bearer_key, key_is_valid, limiter, speech_rate

bp = Blueprint("openai", __name__, url_prefix="/v1")

MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "tts-news")
# OpenAI's voice names speak with our default voice (mms-urdu, or espeak-urdu where it cannot be had).
OPENAI_VOICES = ("alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage",
                 "shimmer", "verse")
STREAM_FORMATS = ("audio", "sse")  # raw audio bytes as they are made, or OpenAI's server-sent events
# Speech requests this web process answers at once; one more is refused at once (503) rather than holding
# a web thread in a queue: pages, feeds and /healthz keep their threads.
MAX_WAITING_SPEECH = 8
WAITING = threading.BoundedSemaphore(MAX_WAITING_SPEECH)
MODELS_CREATED = 1_764_201_600  # 2025-11-27: when these model ids were first offered here


def openai_error(message: str, code: str | None, status: int, param: str | None = None):
    kind = "invalid_request_error" if status < 500 else "server_error"
    return jsonify({"error": {"message": message, "type": kind, "param": param, "code": code}}), status


@bp.errorhandler(NewsError)
def _news_error(err: NewsError):
    return openai_error(str(err), err.code, status_of(err), getattr(err, "param", None))


@bp.before_request
def _check_key():
    if service().settings.credentials_configured and not key_is_valid(bearer_key()):
        return openai_error("Incorrect or missing API key: send 'Authorization: Bearer <key>'", "invalid_api_key",
                            401)
    return None


def _field(data: dict, name: str, kind: type | tuple, default=None, required: bool = False):
    value = data.get(name, default)
    if value is None:
        if required:
            raise SpeechRequestError(f"'{name}' is required", param=name, code="missing_required_parameter")
        return default
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SpeechRequestError(f"'{name}' has the wrong type", param=name, code="invalid_type")
    return value


@bp.post("/audio/speech")
@limiter.limit(speech_rate)
def speech():
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        raise SpeechRequestError("the body must be a JSON object: {\"model\", \"input\", \"voice\"}",
                                 code="invalid_json")
    if (key := unencodable_field(data)) is not None:
        raise SpeechRequestError(f"'{key}' holds an unpaired surrogate: it is not text", param=key,
                                 code="invalid_value")
    model = _field(data, "model", str, required=True)
    if model not in MODELS:
        raise SpeechRequestError(f"model {model!r} does not exist; models: {', '.join(MODELS)}", param="model",
                                 code="model_not_found")
    text = _field(data, "input", str, required=True)
    voice = _field(data, "voice", str, required=True)
    voice = None if voice.lower() in OPENAI_VOICES else _our_voice(voice)  # OpenAI's names: the default voice
    fmt = _field(data, "response_format", str, "mp3")
    speed = _field(data, "speed", (int, float), 1.0)
    check_request(text, fmt, speed)
    stream_format = _field(data, "stream_format", str, "audio")
    if stream_format not in STREAM_FORMATS:
        raise SpeechRequestError(f"stream_format must be one of {', '.join(STREAM_FORMATS)}", param="stream_format")
    # A full house is refused before anything costly (the length check normalizes the whole input).
    if not WAITING.acquire(blocking=False):
        raise Busy(f"{MAX_WAITING_SPEECH} speech requests are being answered already; try again in a moment")
    try:
        check_duration(spoken_length(text, service().settings), float(speed))
        stream, voice_name = _started_speech(text, voice, fmt, float(speed))
        body = stream.follow(lambda: True, appear_s=0, stale_s=service().settings.job_lease_s)
        if stream_format == "sse":
            response = Response(stream_with_context(_cleaned(_events(body, stream, text), stream)),
                                content_type="text/event-stream")
        else:
            response = Response(stream_with_context(_cleaned(body, stream)), content_type=FORMATS[fmt][1])
    except BaseException:
        WAITING.release()
        raise
    response.call_on_close(WAITING.release)  # whenever the reply ends: sent, or its listener gone
    response.headers["X-TTS-News-Voice"] = voice_name
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _started_speech(text: str, voice: str | None, fmt: str, speed: float) -> tuple[Stream, str]:
    """Queue the speech for a worker and wait until it has started speaking (or said why it cannot)."""
    queue = service()
    stream, task = queue.start_speech(text, voice=voice, fmt=fmt, speed=speed)
    started = stream.started(queue.settings.speech_timeout_s)
    if started is None:
        task.revoke()
        stream.remove()
        raise Busy(f"no worker answered within {queue.settings.speech_timeout_s:g} s; try again later")
    if "error" in started:
        stream.remove()
        raise Relayed(started["error"], started.get("code"))
    return stream, started.get("voice", "")


def _cleaned(chunks: Iterator[bytes], stream: Stream) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        stream.remove()  # the reply is its only reader


def _events(chunks: Iterator[bytes], stream: Stream, text: str) -> Iterator[bytes]:
    """OpenAI's speech stream events: `speech.audio.delta` with base64 audio, then `speech.audio.done`."""
    def event(data: dict) -> bytes:
        return f"data: {json.dumps(data)}\n\n".encode()

    sent = 0
    for chunk in chunks:
        sent += len(chunk)
        yield event({"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode("ascii")})
    outcome = stream.outcome() or {}
    if "error" in outcome:
        yield event({"type": "error", "error": {"message": outcome["error"], "code": outcome.get("code")}})
        return
    yield event({"type": "speech.audio.done", "usage": {"input_characters": len(text), "output_bytes": sent,
                                                        "seconds": outcome.get("seconds")}})


def _our_voice(name: str) -> str:
    try:
        return service().check_voice(name)
    except UnknownVoice as err:
        raise SpeechRequestError(f"{err}; or an OpenAI voice name ({', '.join(OPENAI_VOICES)})", param="voice",
                                 code="unknown_voice") from err


@bp.get("/models")
def models():
    return jsonify({"object": "list", "data": [
        {"id": m, "object": "model", "created": MODELS_CREATED, "owned_by": "tts-news"} for m in MODELS]})
