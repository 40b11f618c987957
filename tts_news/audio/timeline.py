"""Segments → one timeline: trimmed joins with pauses and fades, transcript cues and chapters.

Joins are done on float32 numpy arrays (exact sample counts for pauses, no int16 round trips). The
joined episode is kept as its pieces, never as one array: mastering reads it block by block, so a
long bulletin costs its source audio once and a few blocks more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from tts_news.audio.mastering import BLOCK_S
from tts_news.core.errors import UserError

FADE_S = 0.008  # long enough that no join clicks, short enough to keep consonants crisp
TRIM_FRAME_S = 0.010
TRIM_THRESHOLD_DB = -40.0  # below the segment's peak: breath noise and engine padding
TRIM_KEEP_S = 0.020  # keep a little of the silence edge so word onsets are not clipped


@dataclass(frozen=True)
class Cue:
    """One sentence on the episode's timeline."""

    start: float
    end: float
    text: str
    paragraph: int


@dataclass(frozen=True)
class Sound:
    """A sound on the timeline that is not speech (the chime between a bulletin's stories): heard, but
    neither a transcript cue nor a sentence of the article."""

    paragraph: int
    audio: np.ndarray
    sample_rate: int
    sentence: None = None


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str


@dataclass
class Timeline:
    """The joined episode at the voice's rate, as its pieces: (silence samples before, audio)."""

    parts: list[tuple[int, np.ndarray]]
    sample_rate: int
    cues: list[Cue] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return sum(gap + len(piece) for gap, piece in self.parts)

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    def blocks(self, size: int | None = None) -> Iterator[np.ndarray]:
        """The episode's samples in consecutive float32 blocks of `size` (the last one shorter)."""
        size = size or int(BLOCK_S * self.sample_rate)
        block = np.zeros(size, np.float32)
        filled = 0
        for gap, piece in self.parts:
            for run in (gap, piece):
                pos, n = 0, run if isinstance(run, int) else len(run)
                while pos < n:
                    take = min(size - filled, n - pos)
                    if isinstance(run, int):
                        block[filled:filled + take] = 0.0
                    else:
                        block[filled:filled + take] = run[pos:pos + take]
                    filled += take
                    pos += take
                    if filled == size:
                        yield block.copy()
                        filled = 0
        if filled:
            yield block[:filled].copy()

    @property
    def audio(self) -> np.ndarray:
        """The whole episode as one array (short clips and tests; long episodes use `blocks`)."""
        return np.concatenate([*self.blocks(), np.zeros(0, np.float32)])


def trim_silence(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Cut a segment's own leading and trailing silence (engines pad differently)."""
    if audio.size == 0:
        return audio
    frame = max(1, int(TRIM_FRAME_S * sample_rate))
    n = len(audio) // frame
    if n == 0:
        return audio
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1))
    peak = rms.max()
    if peak <= 0:
        return audio[:0]
    loud = np.nonzero(rms > peak * 10 ** (TRIM_THRESHOLD_DB / 20))[0]
    keep = int(TRIM_KEEP_S * sample_rate)
    start = max(0, loud[0] * frame - keep)
    end = min(len(audio), (loud[-1] + 1) * frame + keep)
    return audio[start:end]


def fade(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Short raised-cosine fades at both ends, so a join never clicks."""
    n = min(int(FADE_S * sample_rate), len(audio) // 2)
    if n == 0:
        return audio
    out = audio.astype(np.float32, copy=True)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))).astype(np.float32)
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def assemble(segments: Iterable, *, sentence_pause: float, paragraph_pause: float, title_pause: float,
             chapter_titles: dict[int, str], listen: Callable[[int, np.ndarray], None] | None = None) -> Timeline:
    """Join segments (in order) with a pause between sentences and a longer one between paragraphs;
    paragraph 0 is the title. A chapter starts at each paragraph `chapter_titles` names and runs to
    the next one. A `Sound` (a chime) is heard, but is not a transcript cue.
    Every cue and chapter time comes from real sample counts. Segments may be a generator: only
    their trimmed, faded audio is kept. `listen(gap, piece)` hears each piece as it is joined."""
    parts: list[tuple[int, np.ndarray]] = []
    cues: list[Cue] = []
    starts: dict[int, float] = {}
    rate = None
    position = 0
    last_paragraph = None
    for seg in segments:
        rate = rate or seg.sample_rate
        if seg.sample_rate != rate:
            raise UserError("segments of one episode must share one sample rate")
        gap = 0
        if last_paragraph is not None:
            pause = sentence_pause
            if seg.paragraph != last_paragraph:
                pause = title_pause if last_paragraph == 0 else paragraph_pause
            gap = int(round(pause * rate))
            position += gap
        audio = fade(trim_silence(seg.audio, rate), rate)
        starts.setdefault(seg.paragraph, position / rate)
        if seg.sentence is not None:
            cues.append(Cue(position / rate, (position + len(audio)) / rate, seg.sentence.text, seg.paragraph))
        parts.append((gap, audio))
        if listen is not None:
            listen(gap, audio)
        position += len(audio)
        last_paragraph = seg.paragraph
    if rate is None:
        raise UserError("there is nothing to say in this article")
    end = position / rate
    order = sorted(p for p in starts if p in chapter_titles)
    chapters = [
        Chapter(starts[p], starts[order[i + 1]] if i + 1 < len(order) else end, chapter_titles[p])
        for i, p in enumerate(order)
    ]
    return Timeline(parts, rate, cues, chapters)


CHIME_NOTES_HZ = (659.25, 987.77)  # E5 then B5: a rising fifth, bright but soft
CHIME_NOTE_S = 0.35


def chime(sample_rate: int) -> np.ndarray:
    """A short two-note chime between stories: sine partials with a soft attack and a bell-like decay."""
    t = np.arange(int(CHIME_NOTE_S * sample_rate)) / sample_rate
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / 0.12)
    notes = []
    for f in CHIME_NOTES_HZ:
        tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2 * f * t) + 0.1 * np.sin(2 * np.pi * 3 * f * t)
        notes.append(tone * envelope)
    out = np.concatenate(notes)
    return (0.25 * out / np.abs(out).max()).astype(np.float32)
