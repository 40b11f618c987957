"""Short text → audio in a chosen format, streamed as it is spoken: what the OpenAI-compatible
speech endpoint returns. A worker speaks into a growing file in the data dir; the web process sends
it on as it grows (never through the queue's database).

The same normalizer, voices and cache as episodes, levelled like a job's live stream; no tags,
chapters or transcript.
"""

from __future__ import annotations

import re
from pathlib import Path

from tts_news.audio import live
from tts_news.audio.live import FORMATS
from tts_news.core.config import Settings
from tts_news.core.errors import NewsError, UserError

MAX_INPUT_CHARS = 4096  # OpenAI's limit for one speech request
MAX_SPEECH_S = 600  # the longest audio one request may make (10 minutes: 4,096 characters of prose at half speed)
SPOKEN_CHARS_PER_S = 14.0  # an Urdu voice's pace at speed 1, spaces included (MMS and espeak: 13-16)
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
    characters, a quarter of an hour of audio. Refused (400) past MAX_SPEECH_S at the asked speed."""
    seconds = spoken_chars / SPOKEN_CHARS_PER_S / speed
    if seconds > MAX_SPEECH_S:
        raise SpeechRequestError(
            f"'input' would take about {seconds / 60:.0f} minutes to say at speed {speed:g}; the limit is "
            f"{MAX_SPEECH_S // 60} minutes: send a shorter text or a faster speed", param="input",
            code="speech_too_long")


def spoken_length(text: str, settings: Settings) -> int:
    """How many characters a voice would say for `text` (after the normalizer)."""
    from tts_news.render.episode import normalizer_for

    return len(normalizer_for(settings).normalize(text).spoken)


def stream_path(data_dir: Path, request_id: str, fmt: str) -> Path:
    """Where a speech request's audio grows while it is spoken (the web process reads it from there)."""
    if not re.fullmatch(r"[0-9a-f]{32}", request_id) or fmt not in FORMATS:
        raise UserError("not a speech request id")
    return data_dir / "speech" / f"{request_id}.{fmt}"


def stream_speech(text: str, voice_name: str | None, fmt: str, speed: float, settings: Settings, path: Path) -> None:
    """Speak `text` into the growing file `path`, sentence by sentence: the first bytes are there as
    soon as the first sentence is spoken. The file's `.done` marker carries the warnings, or the
    error (message, code, status) if the request could not be spoken."""
    from tts_news.render.episode import assemble, counted_segments, prepare, segment_cache
    from tts_news.voice.install import choose_voice
    from tts_news.voice.loader import load_engine
    from tts_news.voice.segments import unsayable

    try:
        check_request(text, fmt, speed)
        notices: list[str] = []
        voice = choose_voice(settings, voice_name, notice=notices.append)
        engine = load_engine(voice, settings)
        script = prepare(text, voice, settings, title="")
        check_duration(sum(len(s.spoken) for _, s in script.to_say), speed)
    except NewsError as err:
        path.parent.mkdir(parents=True, exist_ok=True)
        live.write_json(live.done_marker(path), {"error": str(err), "code": err.code})
        return
    stream = live.LiveStream(path, engine.sample_rate, fmt=fmt, lufs=settings.loudness_lufs,
                             true_peak=settings.true_peak_db, speed=speed,
                             gain_db=live.calibrated_gain(settings.data_dir, voice.name), info={"voice": voice.name})
    cache = segment_cache(settings)
    # Plain text has no headline: every paragraph break is the same pause.
    even = settings.replace(title_pause_ms=settings.paragraph_pause_ms)
    assemble(counted_segments(script, voice, engine, cache), even, {}, live=stream)
    cache.prune()
    warnings = notices + [str(w) for w in script.warnings + unsayable(script, engine)]
    stream.close(voice=voice.name, warnings=warnings)
