"""The OpenAPI 3.1 description of the JSON API (`/api`, `/healthz`) and the OpenAI-compatible `/v1`,
served at /api/openapi.json. The tests fuzz a live server against it with schemathesis."""

from __future__ import annotations

from flask import Blueprint, jsonify

from tts_news import __version__
from tts_news.audio.live import FORMATS
from tts_news.render.speech import MAX_INPUT_CHARS, MAX_SPEED, MIN_SPEED
from tts_news.voice.catalog import all_voices
from tts_news.web.common import service
from tts_news.web.openai_api import MODELS, OPENAI_VOICES

bp = Blueprint("openapi", __name__)

ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["message", "code"],
                             "properties": {"message": {"type": "string"}, "code": {"type": "string"}}}},
}
OPENAI_ERROR = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["message", "type"],
                             "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                                            "param": {"type": ["string", "null"]},
                                            "code": {"type": ["string", "null"]}}}},
}
NULLABLE_TIME = {"type": ["string", "null"]}
JOB = {
    "type": "object",
    "required": ["id", "status", "stage", "title", "voice", "progress", "warnings", "created", "status_url"],
    "properties": {
        "id": {"type": "string"}, "status": {"enum": ["queued", "running", "done", "failed"]},
        "stage": {"type": "string"}, "title": {"type": "string"}, "voice": {"type": "string"},
        "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
        "warnings": {"type": "array"}, "error": {"type": ["string", "null"]}, "attempts": {"type": "integer"},
        "created": NULLABLE_TIME, "updated": NULLABLE_TIME, "finished": NULLABLE_TIME,
        "status_url": {"type": "string"}, "live_audio_url": {"type": ["string", "null"]},
        "source_url": {"type": ["string", "null"]},
        "episode": {"type": ["object", "null"]},
    },
}


def _errors(*codes: int, shape: str = "Error") -> dict:
    ref = {"$ref": f"#/components/schemas/{shape}"}
    return {str(c): {"description": "error", "content": {"application/json": {"schema": ref}}} for c in codes}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def description(limit: int, voices: list[str]) -> dict:
    voice = {"enum": [*voices, None]}
    job_ref = {"$ref": "#/components/schemas/Job"}
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}
    write_errors = _errors(400, 401, 413, 415, 422, 429, 503, 507)
    return {
        "openapi": "3.1.0",
        "info": {"title": "tts-news", "version": __version__,
                 "description": "Urdu news articles to podcast audio. Writes need `Authorization: Bearer KEY` "
                                "once keys are configured."},
        "components": {
            "schemas": {"Error": ERROR, "OpenAIError": OPENAI_ERROR, "Job": JOB},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/healthz": {"get": {"operationId": "health", "responses": {
                "200": _json({"type": "object", "required": ["status"],
                              "properties": {"status": {"const": "ok"}, "queue": {"type": "string"},
                                             "queued": {"type": "integer"}, "jobs": {"type": "object"}}}),
                "503": _json({"type": "object", "required": ["status", "error"]}, "the database or queue is down"),
            }}},
            "/api/jobs": {
                "post": {
                    "operationId": "createJob", "security": [{"bearer": []}, {}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "oneOf": [{"required": ["text"]}, {"required": ["url"]}],
                        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": limit},
                                       "url": {"type": "string", "format": "uri",
                                               "description": "a news page to fetch the article from"},
                                       "title": {"type": ["string", "null"], "maxLength": 300},
                                       "voice": voice}}}}},
                    "responses": {"202": _json(job_ref, "queued"), **write_errors, **_errors(409)},
                },
                "get": {
                    "operationId": "listJobs",
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {"200": _json({"type": "object", "required": ["jobs"],
                                                "properties": {"jobs": {"type": "array", "items": job_ref}}}),
                                  **_errors(400)},
                },
            },
            "/api/jobs/{job_id}": {
                "get": {"operationId": "getJob", "parameters": [job_id],
                        "responses": {"200": _json(job_ref), **_errors(400, 404)}},
                "delete": {"operationId": "deleteJob", "parameters": [job_id], "security": [{"bearer": []}, {}],
                           "responses": {"204": {"description": "deleted, with its episode and feed item"},
                                         **_errors(400, 401, 403, 404, 415, 429)}},
            },
            "/api/jobs/{job_id}/render": {"post": {
                "operationId": "rerenderJob", "parameters": [job_id], "security": [{"bearer": []}, {}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"voice": voice}}}}},
                "responses": {"202": _json(job_ref, "queued again"), **write_errors, **_errors(404, 409)},
            }},
            "/api/voices": {"get": {"operationId": "listVoices", "responses": {"200": _json({
                "type": "object", "required": ["default", "voices"],
                "properties": {"default": {"type": "string"}, "voices": {"type": "array"}}})}}},
            "/v1/models": {"get": {"operationId": "listModels", "security": [{"bearer": []}, {}], "responses": {
                "200": _json({"type": "object", "required": ["object", "data"]}),
                **_errors(401, 429, shape="OpenAIError")}}},
            "/v1/audio/speech": {"post": {
                "operationId": "createSpeech", "security": [{"bearer": []}, {}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["model", "input", "voice"],
                    "properties": {
                        "model": {"enum": list(MODELS)}, "voice": {"enum": [*OPENAI_VOICES, *voices]},
                        "input": {"type": "string", "minLength": 1, "maxLength": MAX_INPUT_CHARS},
                        "response_format": {"enum": list(FORMATS)},
                        "speed": {"type": "number", "minimum": MIN_SPEED, "maximum": MAX_SPEED},
                        "stream_format": {"enum": ["audio", "sse"]}}}}}},
                "responses": {
                    "200": {"description": "the audio, streamed as it is spoken", "content": {
                        **{FORMATS[f][1]: {"schema": {"type": "string", "format": "binary"}} for f in FORMATS},
                        # each server-sent event: {"data": JSON text of speech.audio.delta / .done / error}
                        "text/event-stream": {"schema": {"type": "object", "required": ["data"],
                                                         "properties": {"data": {"type": "string"}}}}}},
                    **_errors(400, 401, 404, 409, 413, 415, 429, 503, 507, shape="OpenAIError"),
                },
            }},
        },
    }


@bp.get("/api/openapi.json")
def openapi_json():
    settings = service().settings
    return jsonify(description(settings.max_article_chars, sorted(all_voices(settings))))
