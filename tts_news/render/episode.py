"""Article → Episode files: the whole pipeline behind one call, used by the CLI, jobs and batch.

OUT.mp3 (tagged, with chapters), OUT.vtt and OUT.chapters.json appear together, each by an atomic
rename, so a reader never sees a half-written episode.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tts_news.audio import mp3 as encode
from tts_news.audio import sidecars as transcript
from tts_news.audio import timeline as joins
from tts_news.audio.live import LiveStream
from tts_news.audio.mastering import SourceMeter
from tts_news.core import files
from tts_news.core.config import Settings
from tts_news.core.files import atomic_path
from tts_news.text.article import check_article
from tts_news.text.lexicon import Lexicon
from tts_news.text.markup import Furniture
from tts_news.text.normalize import Normalizer, TextWarning
from tts_news.text.roman import RomanReader
from tts_news.text.script import Script, build_script, short_title
from tts_news.voice.catalog import Voice
from tts_news.voice.engine import Engine
from tts_news.voice.loader import load_engine
from tts_news.voice.segments import Segment, SegmentCache, unsayable, voice_segments

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (sentences done, total)


@dataclass
class Episode:
    mp3: Path
    vtt: Path
    chapters_json: Path
    title: str
    voice: str
    duration: float
    loudness_lufs: float
    true_peak_dbtp: float
    chapters: int
    sentences: int
    cached: int
    warnings: list[TextWarning] = field(default_factory=list)
    seconds: float = 0.0  # the whole render
    synthesis_seconds: float = 0.0  # of which the voice spent speaking
    gain_db: float = 0.0  # the mastering's gain: what this voice needs to reach the target

    def summary(self) -> str:
        return (f"{self.mp3}: {self.duration:.1f} s, {self.loudness_lufs:.1f} LUFS, "
                f"peak {self.true_peak_dbtp:.1f} dBTP, {self.chapters} chapters, "
                f"{self.sentences - self.cached} new / {self.cached} cached sentences, "
                f"{len(self.warnings)} warnings, voice {self.voice}")


def normalizer_for(settings: Settings) -> Normalizer:
    """The normalizer with the newsroom's own lexicon, page furniture and names from the data dir —
    read once, and again only when one of those files changes (not for every job)."""
    files = (settings.user_lexicon, settings.data_dir / "furniture.txt", settings.data_dir / "names.txt")
    return _normalizer(tuple((path, _stamp(path)) for path in files))


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime, stat.st_size


@functools.lru_cache(maxsize=8)
def _normalizer(files: tuple[tuple[Path, tuple | None], ...]) -> Normalizer:
    (lexicon, _), (furniture, _), (names, _) = files
    return Normalizer(Lexicon.load(lexicon), furniture=Furniture.load(furniture), roman=RomanReader.load(names))


def prepare(text: str, voice: Voice, settings: Settings, title: str | None = None,
            normalizer: Normalizer | None = None) -> Script:
    check_article(text, settings)
    return build_script(text, normalizer or normalizer_for(settings), title=title, max_chars=voice.max_chars)


def segment_cache(settings: Settings, use_cache: bool = True) -> SegmentCache | None:
    """The sentence cache a render reads and fills; its caller prunes it once, when done."""
    return SegmentCache(settings.cache_dir, settings.cache_mb << 20) if use_cache else None


@dataclass
class Tally:
    """What a render's sentences cost: counted as they pass, so their audio need not be kept."""

    sentences: int = 0
    cached: int = 0
    synthesis_seconds: float = 0.0

    def add(self, seg: Segment) -> None:
        if seg.sentence is not None:
            self.sentences += 1
            self.cached += seg.cached
        self.synthesis_seconds += seg.seconds


def counted_segments(script: Script, voice: Voice, engine: Engine, cache: SegmentCache | None, *,
                     progress: ProgressFn | None = None, tally: Tally | None = None) -> Iterator[Segment]:
    """Every sentence's audio, in order (from the cache where it was said before), as it is ready."""
    for seg in voice_segments(script, voice, engine, cache):
        if tally is not None:
            tally.add(seg)
        if progress:
            progress(seg.index + 1, seg.total)
        yield seg


def assemble(segments: Iterable[Segment], settings: Settings, chapter_titles: dict[int, str], *,
             live: LiveStream | None = None, measure: SourceMeter | None = None) -> joins.Timeline:
    """Join the segments; a live stream, if any, hears each sentence as it is joined, and is ended
    with the reason if speaking fails (its caller closes it otherwise); `measure` makes the
    mastering's first pass meanwhile."""
    listeners = [listener for listener in (live.add if live else None, measure.listen if measure else None)
                 if listener]

    def listen(gap: int, piece: np.ndarray) -> None:
        for listener in listeners:
            listener(gap, piece)

    try:
        timeline = joins.assemble(
            segments,
            sentence_pause=settings.sentence_pause_ms / 1000,
            paragraph_pause=settings.paragraph_pause_ms / 1000,
            title_pause=settings.title_pause_ms / 1000,
            chapter_titles=chapter_titles,
            listen=listen if listeners else None,
        )
    except BaseException as err:
        if live:
            live.abort(str(err) or type(err).__name__)
        raise
    return timeline


def mp3_path(out: Path) -> Path:
    return out.with_suffix(".mp3") if out.suffix.lower() != ".mp3" else out


def write_files(timeline: joins.Timeline, out: Path, settings: Settings, *, title: str, voice: Voice,
                day: date | None = None, measured: SourceMeter | None = None,
                encoder: encode.Mp3Encoder | None = None) -> tuple[Path, dict]:
    """OUT.mp3 (loudness-normalized, tagged, chapters), OUT.vtt, OUT.transcript.json and OUT.chapters.json,
    each by rename (the MP3 last). `measured`, `encoder`: see `encode.encode_mp3`."""
    out = mp3_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tags = encode.Tags(title=title, artist=settings.show_author, album=settings.show_title,
                      publisher=settings.show_author, comment=f"voice: {voice.name}", cover=settings.cover,
                      day=day, language=voice.language)

    def write(tmp: Path) -> dict:
        report = encode.encode_mp3(timeline, tmp, lufs=settings.loudness_lufs, true_peak=settings.true_peak_db,
                                   bitrate=settings.bitrate, tags=tags, measured=measured, encoder=encoder)
        files.write_text_atomic(out.with_suffix(".vtt"), transcript.vtt_text(timeline.cues))
        files.write_text_atomic(out.with_name(out.stem + ".transcript.json"),
                                json.dumps(transcript.transcript_json(timeline.cues), ensure_ascii=False, indent=1))
        files.write_text_atomic(out.with_name(out.stem + ".chapters.json"),
                                json.dumps(transcript.chapters_json(timeline.chapters), ensure_ascii=False, indent=1))
        return report

    if encoder is None:
        with atomic_path(out) as tmp:
            return out, write(tmp)
    report = write(encoder.path)  # the started ffmpeg's own temporary file beside OUT
    files.put_in_place(encoder.path, out)
    encoder.taken = True
    return out, report


def render(script: Script, voice: Voice, out: Path, settings: Settings, *, engine: Engine | None = None,
           use_cache: bool = True, progress: ProgressFn | None = None, live: LiveStream | None = None) -> Episode:
    """Speak the script and write OUT.mp3, OUT.vtt and OUT.chapters.json; `live` hears it as it is spoken."""
    started = time.perf_counter()
    engine = engine or load_engine(voice, settings)
    warnings = script.warnings + unsayable(script, engine)
    cache = segment_cache(settings, use_cache)
    tally = Tally()
    with meanwhile(engine, out, settings) as (measure, encoder):
        timeline = assemble(counted_segments(script, voice, engine, cache, progress=progress, tally=tally), settings,
                            {p.index: short_title(p.text) for p in script.paragraphs}, live=live, measure=measure)
        if live:
            live.close()  # listeners hear the end while the episode is mastered
        return finish(timeline, out, settings, title=script.title, voice=voice, cache=cache, tally=tally,
                      warnings=warnings, started=started, measured=measure, encoder=encoder)


@contextmanager
def meanwhile(engine: Engine, out: Path, settings: Settings) -> Iterator[tuple[SourceMeter, encode.Mp3Encoder | None]]:
    """What a render starts before its voice speaks: the loudness measured sentence by sentence as
    they are joined, and ffmpeg started up. Both are stopped, and the encoder's files removed, if the
    render ends before they are used."""
    measure = SourceMeter(engine.sample_rate)
    try:
        encoder = encode.Mp3Encoder(mp3_path(out), bitrate=settings.bitrate, cover=settings.cover)
    except OSError as err:  # a folder without FIFOs, say: ffmpeg starts at the end instead
        log.info("ffmpeg not started early: %s", err)
        encoder = None
    try:
        yield measure, encoder
    finally:
        measure.close()
        if encoder is not None:
            encoder.close()


def finish(timeline: joins.Timeline, out: Path, settings: Settings, *, title: str, voice: Voice,
           cache: SegmentCache | None, tally: Tally, warnings: list[TextWarning], started: float,
           day: date | None = None, measured: SourceMeter | None = None,
           encoder: encode.Mp3Encoder | None = None) -> Episode:
    """The one ending of every render (an article, a bulletin): write the files, prune the sentence
    cache, and say what was made."""
    out, report = write_files(timeline, out, settings, title=title, voice=voice, day=day, measured=measured,
                              encoder=encoder)
    if cache:
        cache.prune()
    return Episode(
        mp3=out, vtt=out.with_suffix(".vtt"), chapters_json=out.with_name(out.stem + ".chapters.json"), title=title,
        voice=voice.name, duration=timeline.duration, loudness_lufs=report["integrated_lufs"],
        true_peak_dbtp=report["true_peak_dbtp"], chapters=len(timeline.chapters), sentences=tally.sentences,
        cached=tally.cached, warnings=warnings, seconds=time.perf_counter() - started,
        synthesis_seconds=tally.synthesis_seconds, gain_db=report["gain_db"],
    )
