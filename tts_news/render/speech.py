"""What one speech request may ask (the OpenAI-compatible speech endpoint): its text, format, speed and
the length of audio it would make, checked where it arrives and again where it is spoken. The speaking
itself is `Renderer.speech`."""

from __future__ import annotations

from tts_news.audio.live import FORMATS
from tts_news.core.config import Settings
from tts_news.core.errors import UserError
from tts_news.render.newsroom import normalizer_for
from tts_news.voice.catalog import SLOWEST_PACE_CHARS_PER_S

MAX_INPUT_CHARS = 4096  # OpenAI's limit for one speech request
# The longest audio one request may make: 4,096 characters of prose at half speed, at the slowest voice's
# pace (about 12.5 minutes), fit; 4,096 digits (12,000 spoken characters) do not.
MAX_SPEECH_S = 15 * 60
MIN_SPEED, MAX_SPEED = 0.25, 4.0


class SpeechRequestError(UserError):
    """A speech request outside what is offered; `param` names the field, as OpenAI's errors do."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message)
        self.param, self.code = param, code


def check_request(text: str, fmt: str, speed: float) -> None:
    """The limits of one request, checked where it arrives and again where it is spoken."""
    if not text.strip():
        raise SpeechRequestError("'input' is empty: there is no text to say", param="input", code="empty_input")
    if len(text) > MAX_INPUT_CHARS:
        raise SpeechRequestError(f"'input' has {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,}",
                                 param="input", code="string_above_max_length")
    if fmt not in FORMATS:
        raise SpeechRequestError(f"response_format {fmt!r} is not one of {', '.join(FORMATS)}",
                                 param="response_format")
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise SpeechRequestError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}", param="speed")


def check_duration(spoken_chars: int, speed: float) -> None:
    """Speech is bounded by what it would say, not only by what was sent: 4,096 digits are 12,000 spoken
    characters, over a quarter of an hour of audio. Refused (400) past MAX_SPEECH_S at the asked speed."""
    seconds = spoken_chars / SLOWEST_PACE_CHARS_PER_S / speed
    if seconds > MAX_SPEECH_S:
        raise SpeechRequestError(
            f"'input' would take about {seconds / 60:.0f} minutes to say at speed {speed:g}; the limit is "
            f"{MAX_SPEECH_S // 60} minutes: send a shorter text or a faster speed", param="input",
            code="speech_too_long")


def spoken_length(text: str, settings: Settings) -> int:
    """How many characters a voice would say for `text` (after the normalizer)."""
    return len(normalizer_for(settings).normalize(text).spoken)
