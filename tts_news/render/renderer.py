"""The one pipeline: script → segments → audio → files, behind the Renderer that every entry point uses
(an article's episode from the CLI, a job or a batch; a bulletin; a speech request).

A Renderer holds one voice's engine and the sentence cache. It owns what a render starts and must
end: the live stream (opened before the first sentence, closed when the last is joined, aborted on any
failure), the mastering's first pass and the early-started encoder; and it owns the warnings (the
script's, and the characters the voice cannot say). An episode's files — OUT.mp3 (tagged, with
chapters), OUT.vtt, OUT.transcript.json and OUT.chapters.json — each land by one rename, the MP3 last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from tts_news.audio import mp3, sidecars, timeline
from tts_news.audio.live import LiveEncoder
from tts_news.audio.mastering import SourceMeter
from tts_news.audio.timeline import Sound, Timeline
from tts_news.core.config import Settings
from tts_news.core.files import atomic_path
from tts_news.render import bulletin, gains
from tts_news.render.newsroom import prepare
from tts_news.render.speech import check_duration, check_request
from tts_news.text.normalize import TextWarning
from tts_news.text.script import Script, short_title
from tts_news.voice.cache import SegmentCache
from tts_news.voice.catalog import Voice
from tts_news.voice.engine import Engine
from tts_news.voice.loader import load_engine
from tts_news.voice.segments import Segment, unsayable, voice_segments

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]  # (sentences done, total)


class LiveSink(Protocol):
    """Where a live stream's bytes go, as they are made (`tts_news.jobs.streams.Stream` is one)."""

    def open(self, info: dict) -> BinaryIO:
        """Start the stream; `info` is what listeners are told first. The renderer closes the file."""

    def end(self, outcome: dict) -> None:
        """The stream is complete (`seconds`, `warnings`), or broke (`error`)."""


@dataclass
class Episode:
    mp3: Path
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

    @property
    def vtt(self) -> Path:
        return sidecars.beside(self.mp3, sidecars.VTT)

    @property
    def chapters_json(self) -> Path:
        return sidecars.beside(self.mp3, sidecars.CHAPTERS)

    def summary(self) -> str:
        return (f"{self.mp3}: {self.duration:.1f} s, {self.loudness_lufs:.1f} LUFS, "
                f"peak {self.true_peak_dbtp:.1f} dBTP, {self.chapters} chapters, "
                f"{self.sentences - self.cached} new / {self.cached} cached sentences, "
                f"{len(self.warnings)} warnings, voice {self.voice}")


@dataclass
class Tally:
    """What a render's sentences cost: counted as they pass, so their audio need not be kept."""

    sentences: int = 0
    cached: int = 0
    synthesis_seconds: float = 0.0

    def add(self, seg: Segment) -> None:
        self.sentences += 1
        self.cached += seg.cached
        self.synthesis_seconds += seg.seconds


@dataclass
class Part:
    """A piece of a programme: a script to speak, or a sound (a chime), and the chapters it starts
    (by paragraph within the script)."""

    script: Script | None = None
    sound: np.ndarray | None = None
    chapters: dict[int, str] = field(default_factory=dict)

    @property
    def paragraphs(self) -> int:
        return len(self.script.paragraphs) if self.script is not None else 1

    @property
    def sentences(self) -> int:
        return len(self.script.to_say) if self.script is not None else 0


def mp3_path(out: Path) -> Path:
    return out.with_suffix(".mp3") if out.suffix.lower() != ".mp3" else out


class Renderer:
    """One voice's pipeline. `use_cache=False` synthesizes every sentence afresh."""

    def __init__(self, voice: Voice, settings: Settings, *, engine: Engine | None = None,
                 use_cache: bool = True) -> None:
        self.voice = voice
        self.settings = settings
        self.engine = engine or load_engine(voice, settings)
        self.cache = SegmentCache(settings.cache_dir, settings.cache_mb << 20) if use_cache else None

    # -- what to say --------------------------------------------------------------------------------
    def prepare(self, text: str, title: str | None = None) -> Script:
        return prepare(text, self.settings, max_chars=self.voice.max_chars, title=title)

    def warnings(self, script: Script) -> list[TextWarning]:
        """Everything a listener would miss: the script's own warnings (furniture left out, what the
        normalizer could not read) and the characters this voice cannot say."""
        return script.warnings + unsayable(script, self.engine)

    # -- the three products -------------------------------------------------------------------------
    def episode(self, script: Script, out: Path, *, progress: ProgressFn | None = None,
                live: LiveSink | None = None) -> Episode:
        """Speak the script and write OUT.mp3 and its sidecars; `live` hears it as it is spoken."""
        chapters = {p.index: short_title(p.text) for p in script.paragraphs}
        return self._files([Part(script, chapters=chapters)], out, title=script.title, progress=progress, live=live,
                           warnings=self.warnings(script))

    def bulletin(self, stories: list[Script], out: Path, *, day: date, progress: ProgressFn | None = None) -> Episode:
        """The day's stories as one programme: an opening with the date, a chime and a chapter per story
        (the first chapter takes in the opening, the last the closing line), a closing line."""
        show = self.settings.show_title
        opening, closing = self.prepare(bulletin.opening_text(show, day)), self.prepare(bulletin.closing_text(show))
        ring = timeline.chime(self.engine.sample_rate)
        parts = [Part(opening)]
        for story in stories:
            parts += [Part(sound=ring), Part(story, chapters={0: short_title(story.title)})]
        parts.append(Part(closing))
        warnings = [w for part in parts if part.script is not None for w in self.warnings(part.script)]
        return self._files(parts, out, title=bulletin.bulletin_title(show, day), day=day, progress=progress,
                           warnings=warnings, first_chapter_from_start=True)

    def speech(self, text: str, sink: LiveSink, *, fmt: str, speed: float, notices: Iterable[str] = ()) -> None:
        """Speak a short text into `sink` in `fmt` at `speed`, sentence by sentence: the first bytes are
        there as soon as the first sentence is spoken. Its end carries the warnings. No files, tags or
        chapters; plain text has no headline, so every paragraph break is the same pause. A request
        outside the limits raises before the stream starts."""
        check_request(text, fmt, speed)
        script = self.prepare(text, title="")
        check_duration(sum(len(s.spoken) for _, s in script.to_say), speed)
        warnings = [*notices, *map(str, self.warnings(script))]
        self._join([Part(script)], live=self._live(sink, fmt=fmt, speed=speed), even_pauses=True,
                   end={"voice": self.voice.name, "warnings": warnings})
        self._prune()

    # -- the pipeline -------------------------------------------------------------------------------
    def _items(self, parts: list[Part], titles: dict[int, str], tally: Tally,
               progress: ProgressFn | None) -> Iterator[Segment | Sound]:
        """Every sentence's audio and every sound, in programme order, paragraphs numbered through the
        whole programme; chapter titles fill in as their paragraphs come."""
        total = sum(part.sentences for part in parts)
        paragraph = done = 0
        for part in parts:
            titles.update({paragraph + p: title for p, title in part.chapters.items()})
            if part.script is None:
                yield Sound(paragraph, part.sound, self.engine.sample_rate)
            else:
                for seg in voice_segments(part.script, self.voice, self.engine, self.cache):
                    tally.add(seg)
                    done += 1
                    if progress:
                        progress(done, total)
                    yield replace(seg, paragraph=paragraph + seg.paragraph)
            paragraph += part.paragraphs

    def _live(self, sink: LiveSink, *, fmt: str = "mp3", speed: float = 1.0,
              bitrate: str | None = None) -> tuple[LiveSink, LiveEncoder]:
        out = sink.open({"voice": self.voice.name})
        try:
            encoder = LiveEncoder(out, self.engine.sample_rate, fmt=fmt, lufs=self.settings.loudness_lufs,
                                  true_peak=self.settings.true_peak_db,
                                  bitrate=bitrate, speed=speed,
                                  gain_db=gains.calibrated_gain(self.settings.data_dir, self.voice.name))
        except BaseException as err:
            sink.end({"error": str(err) or type(err).__name__})
            raise
        return sink, encoder

    def _join(self, parts: list[Part], *, tally: Tally | None = None, progress: ProgressFn | None = None,
              live: tuple[LiveSink, LiveEncoder] | None = None, measure: SourceMeter | None = None,
              even_pauses: bool = False, end: dict | None = None) -> Timeline:
        """Join the programme; the live stream (if any) hears each piece as it is joined and is ended
        here, whatever happens; `measure` makes the mastering's first pass meanwhile."""
        listeners = [listener for listener in (live[1].add if live else None, measure.listen if measure else None)
                     if listener]

        def listen(gap: int, piece: np.ndarray) -> None:
            for listener in listeners:
                listener(gap, piece)

        s = self.settings
        titles: dict[int, str] = {}
        try:
            joined = timeline.assemble(
                self._items(parts, titles, tally or Tally(), progress), sentence_pause=s.sentence_pause_ms / 1000,
                paragraph_pause=s.paragraph_pause_ms / 1000,
                title_pause=(s.paragraph_pause_ms if even_pauses else s.title_pause_ms) / 1000,
                chapter_titles=titles, listen=listen if listeners else None)
        except BaseException as err:
            if live:
                live[1].abort()
                live[0].end({"error": str(err) or type(err).__name__})
            raise
        if live:  # listeners hear the end while the episode is mastered
            live[0].end({**live[1].close(), **(end or {})})
        return joined

    def _files(self, parts: list[Part], out: Path, *, title: str, warnings: list[TextWarning],
               progress: ProgressFn | None, live: LiveSink | None = None, day: date | None = None,
               first_chapter_from_start: bool = False) -> Episode:
        started = time.perf_counter()
        out = mp3_path(out)
        tally = Tally()
        stream = self._live(live, bitrate=self.settings.bitrate) if live is not None else None
        try:
            with self._meanwhile(out) as (measure, encoder):
                owned, stream = stream, None  # the join ends the stream, whatever happens
                joined = self._join(parts, tally=tally, progress=progress, live=owned, measure=measure)
                if first_chapter_from_start and joined.chapters:
                    joined.chapters[0] = replace(joined.chapters[0], start=0.0)
                report = self._write(joined, out, title=title, day=day, measured=measure, encoder=encoder)
        except BaseException as err:
            if stream is not None:  # failed before the join took the stream over
                stream[1].abort()
                stream[0].end({"error": str(err) or type(err).__name__})
            raise
        self._prune()
        gains.remember_gain(self.settings.data_dir, self.voice.name, report["gain_db"])
        return Episode(
            mp3=out, title=title, voice=self.voice.name, duration=joined.duration,
            loudness_lufs=report["integrated_lufs"], true_peak_dbtp=report["true_peak_dbtp"],
            chapters=len(joined.chapters), sentences=tally.sentences, cached=tally.cached, warnings=warnings,
            seconds=time.perf_counter() - started, synthesis_seconds=tally.synthesis_seconds,
            gain_db=report["gain_db"])

    @contextmanager
    def _meanwhile(self, out: Path) -> Iterator[tuple[SourceMeter, mp3.Mp3Encoder | None]]:
        """What a render starts before its voice speaks: the loudness measured sentence by sentence as
        they are joined, and ffmpeg started up. Both are stopped, and the encoder's files removed, if the
        render ends before they are used."""
        measure = SourceMeter(self.engine.sample_rate)
        try:
            encoder = mp3.Mp3Encoder(out, bitrate=self.settings.bitrate, cover=self.settings.cover)
        except OSError as err:  # a folder without FIFOs, say: ffmpeg starts at the end instead
            log.info("ffmpeg not started early: %s", err)
            encoder = None
        try:
            yield measure, encoder
        finally:
            measure.close()
            if encoder is not None:
                encoder.close()

    def _write(self, joined: Timeline, out: Path, *, title: str, day: date | None, measured: SourceMeter,
               encoder: mp3.Mp3Encoder | None) -> dict:
        """OUT.mp3 (loudness-normalized, tagged, chapters) and its sidecars, each by rename, the MP3 last."""
        s = self.settings
        tags = mp3.Tags(title=title, artist=s.show_author, album=s.show_title, publisher=s.show_author,
                        comment=f"voice: {self.voice.name}", cover=s.cover, day=day, language=self.voice.language)
        encode = dict(lufs=s.loudness_lufs, true_peak=s.true_peak_db, bitrate=s.bitrate, tags=tags, measured=measured)
        if encoder is None:
            with atomic_path(out) as tmp:
                report = mp3.encode_mp3(joined, tmp, **encode)
                sidecars.write_sidecars(joined, out)
            return report
        report = mp3.encode_mp3(joined, encoder.path, encoder=encoder, **encode)  # the started ffmpeg's file
        sidecars.write_sidecars(joined, out)
        encoder.put_in_place(out)
        return report

    def _prune(self) -> None:
        """The cache back within its size, once a render is done."""
        if self.cache is not None:
            self.cache.prune()
