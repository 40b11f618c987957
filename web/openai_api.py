"""OpenAI-compatible speech: `POST /v1/audio/speech` and `GET /v1/models`.

Clients written for OpenAI's API (the official SDKs included) work by pointing base_url here. The
text goes through the same normalizer and voices as episodes; a worker makes the audio. Errors come
in OpenAI's shape: {"error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, jsonify, request

from tts_news.errors import UnknownVoice, UserError
from tts_news.speech import SpeechRequestError, check_request
from web.api import job_queue

bp = Blueprint("openai", __name__, url_prefix="/v1")

MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "tts-news")
# OpenAI's voice names speak with our default voice (mms-urdu, or espeak-urdu where it cannot be had).
OPENAI_VOICES = ("alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx", "sage",
                 "shimmer", "verse")
MODELS_CREATED = 1_764_201_600  # 2025-11-27: when these model ids were first offered here


def openai_error(message: str, code: str | None, status: int, param: str | None = None):
    kind = "invalid_request_error" if status < 500 else "server_error"
    return jsonify({"error": {"message": message, "type": kind, "param": param, "code": code}}), status


@bp.record_once
def _install(state) -> None:
    state.app.extensions.setdefault("tts_news_error_shapes", {})["openai"] = openai_error


@bp.errorhandler(UserError)
def _user_error(err: UserError):
    return openai_error(str(err), err.code, err.status, getattr(err, "param", None))


@bp.before_request
def _check_key():
    key = job_queue().settings.api_key
    if not key:
        return None
    header = request.headers.get("Authorization", "")
    sent = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not sent or not secrets.compare_digest(sent.encode(), key.encode()):
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
def speech():
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        raise SpeechRequestError("the body must be a JSON object: {\"model\", \"input\", \"voice\"}",
                                 code="invalid_json")
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
    if _field(data, "stream_format", str, "audio") != "audio":
        raise SpeechRequestError("only stream_format 'audio' is offered", param="stream_format")
    result = job_queue().speak(text, voice=voice, fmt=fmt, speed=float(speed))
    response = Response(result.audio, content_type=result.content_type)
    response.headers["X-TTS-News-Voice"] = result.voice
    return response


def _our_voice(name: str) -> str:
    try:
        return job_queue().check_voice(name)
    except UnknownVoice as err:
        raise SpeechRequestError(f"{err}; or an OpenAI voice name ({', '.join(OPENAI_VOICES)})", param="voice",
                                 code="unknown_voice") from err


@bp.get("/models")
def models():
    return jsonify({"object": "list", "data": [
        {"id": m, "object": "model", "created": MODELS_CREATED, "owned_by": "tts-news"} for m in MODELS]})
