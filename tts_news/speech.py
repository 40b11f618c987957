"""Short text → audio bytes in a chosen format: what the OpenAI-compatible speech endpoint returns.

The same normalizer, voices, cache and loudness as episodes; no tags, chapters or transcript.
"""

from __future__ import annotations

import dataclasses

from tts_news import audio
from tts_news.config import Settings
from tts_news.errors import UserError

MAX_INPUT_CHARS = 4096  # OpenAI's limit for one speech request
MIN_SPEED, MAX_SPEED = 0.25, 4.0


class SpeechRequestError(UserError):
    """A speech request outside what is offered; `param` names the field, as OpenAI's errors do."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_value",
                 status: int = 400) -> None:
        super().__init__(message)
        self.param, self.code, self.status = param, code, status


def check_request(text: str, fmt: str, speed: float) -> None:
    """The limits of one request, checked where it arrives and again where it is spoken."""
    if not text.strip():
        raise SpeechRequestError("'input' is empty: there is no text to say", param="input", code="empty_input")
    if len(text) > MAX_INPUT_CHARS:
        raise SpeechRequestError(f"'input' has {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,}",
                                 param="input", code="string_above_max_length")
    if fmt not in audio.FORMATS:
        raise SpeechRequestError(f"response_format {fmt!r} is not one of {', '.join(audio.FORMATS)}",
                                 param="response_format")
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise SpeechRequestError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}", param="speed")


@dataclasses.dataclass
class Speech:
    audio: bytes
    content_type: str
    voice: str
    warnings: list[str]


def speak_text(text: str, voice_name: str | None, fmt: str, speed: float, settings: Settings) -> Speech:
    from tts_news.engine import load_engine
    from tts_news.episode import assemble, prepare, segment_cache, speak
    from tts_news.synth import unsayable
    from tts_news.voices import choose_voice

    check_request(text, fmt, speed)
    notices: list[str] = []
    voice = choose_voice(settings, voice_name, notice=notices.append)
    engine = load_engine(voice, settings)
    script = prepare(text, voice, settings, title="")
    cache = segment_cache(settings)
    # Plain text has no headline: every paragraph break is the same pause.
    even = dataclasses.replace(settings, title_pause_ms=settings.paragraph_pause_ms)
    timeline = assemble(speak(script, voice, engine, cache), even, {})
    cache.prune()
    encoded: dict[str, tuple[bytes, str]] = {}

    def encode(blocks) -> None:
        encoded["audio"] = audio.encode_bytes(blocks, fmt, speed)

    audio.deliver(timeline, encode, lufs=settings.loudness_lufs, true_peak=settings.true_peak_db)
    data, content_type = encoded["audio"]
    warnings = notices + [str(w) for w in script.warnings + unsayable(script, engine)]
    return Speech(data, content_type, voice.name, warnings)
