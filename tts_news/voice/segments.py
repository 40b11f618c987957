"""Script × Voice → Segments: audio per sentence, from the sentence cache where it was said before.

Synthesis is a generator of small results (one Segment per sentence, as soon as it is ready), so
progress bars, job progress and early stops all fall out of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tts_news.core.errors import ToolFailed
from tts_news.text.normalize import SPOKEN_PUNCTUATION, TextWarning
from tts_news.text.script import Script, Sentence
from tts_news.voice.cache import SegmentCache
from tts_news.voice.catalog import Voice
from tts_news.voice.engine import Engine


@dataclass(frozen=True)
class Segment:
    paragraph: int
    index: int  # sentence number in the article, from 0
    total: int
    sentence: Sentence | None  # None: a sound (a chime between stories), not speech
    audio: np.ndarray  # float32, mono
    sample_rate: int
    cached: bool
    seconds: float = 0.0  # time the voice spent on it (0 when cached)


def unsayable(script: Script, engine: Engine) -> list[TextWarning]:
    """Characters of the spoken text the voice would drop, reported at their place in the article.

    Sentence punctuation a voice lacks is not reported: it becomes the pause between sentences.
    """
    if engine.vocabulary is None:
        return []
    warnings = []
    for sentence in script.sentences:
        for i, ch in enumerate(sentence.spoken):
            if ch in engine.vocabulary or ch.isspace() or ch in SPOKEN_PUNCTUATION:
                continue
            where = next((s.source_start for s in sentence.spans if s.spoken_start <= i < s.spoken_end), 0)
            warnings.append(TextWarning(sentence.start + where, ch,
                                        f"the voice cannot say {ch!r} (U+{ord(ch):04X}); it is left out"))
    return warnings


def voice_text(spoken: str, engine: Engine) -> str:
    """What the engine is given: characters it cannot say become spaces (reported beforehand)."""
    if engine.vocabulary is None:
        return spoken
    return " ".join("".join(ch if ch in engine.vocabulary else " " for ch in spoken).split())


# No voice takes longer than this over one character (the slowest real reading is ~0.15 s); a sentence's
# audio past the cap is a broken model or a hostile text, and one episode is bounded by its text.
MAX_SECONDS_PER_CHAR = 0.5
MIN_SENTENCE_S = 5.0


def check_length(audio: np.ndarray, sample_rate: int, text: str) -> None:
    limit = MIN_SENTENCE_S + MAX_SECONDS_PER_CHAR * len(text)
    if len(audio) > limit * sample_rate:
        raise ToolFailed(f"the voice made {len(audio) / sample_rate:.0f} s of audio for {len(text)} characters "
                        f"(at most {limit:.0f} s); it is not working properly")


def voice_segments(script: Script, voice: Voice, engine: Engine, cache: SegmentCache | None = None
                   ) -> Iterator[Segment]:
    """Speak each sentence of the script, yielded in order; cached sentences are not synthesized
    again. An engine that works in batches gets the new sentences length-sorted, in batches."""
    todo = script.to_say
    texts = [voice_text(sentence.spoken, engine) for _, sentence in todo]
    keys = [SegmentCache.key(voice, engine.sample_rate, text) if cache else "" for text in texts]

    def segment(index: int, audio: np.ndarray, cached: bool, seconds: float) -> Segment:
        paragraph, sentence = todo[index]
        check_length(audio, engine.sample_rate, texts[index])
        return Segment(paragraph, index, len(todo), sentence, audio, engine.sample_rate, cached, seconds)

    def say(index: int) -> Segment:
        audio = cache.get(keys[index]) if cache else None
        if audio is not None:
            return segment(index, audio, True, 0.0)
        started = time.perf_counter()
        audio = engine.speak(texts[index]) if texts[index] else np.zeros(0, np.float32)
        seconds = time.perf_counter() - started
        if cache:
            cache.put(keys[index], audio)
        return segment(index, audio, False, seconds)

    if engine.batch_size <= 1:
        for index in range(len(todo)):
            yield say(index)
        return

    new = sorted((i for i in range(len(todo)) if texts[i] and not (cache and cache.has(keys[i]))),
                 key=lambda i: len(texts[i]))
    waiting = set(new)
    made: dict[int, Segment] = {}
    following = 0  # the next sentence to yield, in article order
    batches = [new[start:start + engine.batch_size] for start in range(0, len(new), engine.batch_size)]
    for batch in [*batches, []]:  # the last, empty round yields what follows the last batch
        if batch:
            started = time.perf_counter()
            audios = engine.speak_batch([texts[i] for i in batch])
            share = (time.perf_counter() - started) / len(batch)
            for i, audio in zip(batch, audios):
                if cache:
                    cache.put(keys[i], audio)
                made[i] = segment(i, audio, False, share)
        while following < len(todo) and (following in made or following not in waiting):
            yield made.pop(following, None) or say(following)
            following += 1
