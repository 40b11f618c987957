"""Article → Episode files: the whole pipeline behind one call, used by the CLI, jobs and batch.

OUT.mp3 (tagged, with chapters), OUT.vtt and OUT.chapters.json appear together, each by an atomic
rename, so a reader never sees a half-written episode.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tts_news import audio
from tts_news.config import Settings
from tts_news.engine import Engine, load_engine
from tts_news.errors import TooLarge, UserError
from tts_news.files import atomic_path
from tts_news.live import LiveStream
from tts_news.synth import Segment, SegmentCache, synthesize, unsayable
from tts_news.text.lexicon import Lexicon
from tts_news.text.markup import Furniture, markdown_to_text
from tts_news.text.normalize import Normalizer, TextWarning
from tts_news.text.roman import RomanReader
from tts_news.text.script import Script, build_script
from tts_news.voices import Voice

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


def read_article(path: str | Path, stdin=None) -> str:
    """A UTF-8 article file, or '-' for standard input; clear errors for the usual mistakes."""
    if str(path) == "-":
        data = (stdin.buffer if hasattr(stdin, "buffer") else stdin).read()
        name = "standard input"
    else:
        p = Path(path)
        if not p.exists():
            raise UserError(f"{p}: no such file")
        if p.is_dir():
            raise UserError(f"{p}: is a folder, not an article file")
        data = p.read_bytes()
        name = str(p)
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise UserError(f"{name}: not UTF-8 text (byte {err.start} is not valid UTF-8)") from err
    if not text.strip():
        raise UserError(f"{name}: the article is empty")
    return text


def normalizer_for(settings: Settings) -> Normalizer:
    """The normalizer with the newsroom's own lexicon, page furniture and names from the data dir."""
    return Normalizer(Lexicon.load(settings.user_lexicon),
                      furniture=Furniture.load(settings.data_dir / "furniture.txt"),
                      roman=RomanReader.load(settings.data_dir / "names.txt"))


def check_article(text: str, settings: Settings) -> None:
    """An article a render can take: something to read, within the limit. Checked when a job is
    submitted (so the user hears at once) and again when it is prepared."""
    if not text.strip():
        raise UserError("the article is empty: there is no text to read")
    if len(text) > settings.max_article_chars:
        raise TooLarge(f"the article has {len(text):,} characters; the limit is {settings.max_article_chars:,}")


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


def speak(script: Script, voice: Voice, engine: Engine, cache: SegmentCache | None, *,
          progress: ProgressFn | None = None, tally: Tally | None = None) -> Iterator[Segment]:
    """Every sentence's audio, in order (from the cache where it was said before), as it is ready."""
    for seg in synthesize(script, voice, engine, cache):
        if tally is not None:
            tally.add(seg)
        if progress:
            progress(seg.index + 1, seg.total)
        yield seg


def assemble(segments: Iterable[Segment], settings: Settings, chapter_titles: dict[int, str], *,
             live: LiveStream | None = None) -> audio.Timeline:
    """Join the segments; a live stream, if any, hears each sentence as it is joined, and is ended
    with the reason if speaking fails (its caller closes it otherwise)."""
    try:
        timeline = audio.assemble(
            segments,
            sentence_pause=settings.sentence_pause_ms / 1000,
            paragraph_pause=settings.paragraph_pause_ms / 1000,
            title_pause=settings.title_pause_ms / 1000,
            chapter_titles=chapter_titles,
            listen=live.add if live else None,
        )
    except BaseException as err:
        if live:
            live.abort(str(err) or type(err).__name__)
        raise
    return timeline


def write_files(timeline: audio.Timeline, out: Path, settings: Settings, *, title: str, voice: str) -> tuple[Path, dict]:
    """OUT.mp3 (loudness-normalized, tagged, chapters), OUT.vtt and OUT.chapters.json, each by rename."""
    out = out.with_suffix(".mp3") if out.suffix.lower() != ".mp3" else out
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tags = audio.Tags(title=title, artist=settings.show_author, album=settings.show_title,
                          publisher=settings.show_author, comment=f"voice: {voice}", cover=settings.cover)
        report = audio.encode_mp3(timeline, tmp, lufs=settings.loudness_lufs, true_peak=settings.true_peak_db,
                                  bitrate=settings.bitrate, tags=tags)
        audio.write_text_atomic(out.with_suffix(".vtt"), audio.vtt_text(timeline.cues))
        audio.write_text_atomic(out.with_name(out.stem + ".chapters.json"),
                                json.dumps(audio.chapters_json(timeline.chapters), ensure_ascii=False, indent=1))
    return out, report


def render(script: Script, voice: Voice, out: Path, settings: Settings, *, engine: Engine | None = None,
           use_cache: bool = True, progress: ProgressFn | None = None, live: LiveStream | None = None) -> Episode:
    """Speak the script and write OUT.mp3, OUT.vtt and OUT.chapters.json; `live` hears it as it is spoken."""
    started = time.perf_counter()
    engine = engine or load_engine(voice, settings)
    warnings = script.warnings + unsayable(script, engine)
    cache = segment_cache(settings, use_cache)
    tally = Tally()
    timeline = assemble(speak(script, voice, engine, cache, progress=progress, tally=tally), settings,
                        {p.index: p.text[:120] for p in script.paragraphs}, live=live)
    if live:
        live.close()  # listeners hear the end while the episode is mastered
    out, report = write_files(timeline, out, settings, title=script.title, voice=voice.name)
    if cache:
        cache.prune()
    return episode_of(out, timeline, report, title=script.title, voice=voice.name, tally=tally,
                      warnings=warnings, started=started)


def episode_of(out: Path, timeline: audio.Timeline, report: dict, *, title: str, voice: str,
               tally: Tally, warnings: list[TextWarning], started: float) -> Episode:
    return Episode(
        mp3=out, vtt=out.with_suffix(".vtt"), chapters_json=out.with_name(out.stem + ".chapters.json"), title=title,
        voice=voice, duration=timeline.duration, loudness_lufs=report["integrated_lufs"],
        true_peak_dbtp=report["true_peak_dbtp"], chapters=len(timeline.chapters), sentences=tally.sentences,
        cached=tally.cached, warnings=warnings, seconds=time.perf_counter() - started,
        synthesis_seconds=tally.synthesis_seconds, gain_db=report["gain_db"],
    )


def strip_markdown(text: str) -> str:
    """A Markdown article as plain text a newsreader reads: parsed by markdown-it-py, markup gone,
    words kept, each block its own paragraph."""
    return markdown_to_text(text)
