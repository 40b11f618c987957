"""Segments → one episode: trimmed joins with pauses and fades, then (through `mastering`) podcast
loudness, and one ffmpeg pass that encodes the MP3 with its ID3v2.3 tags, cover and chapters; a
WebVTT transcript and Podcasting 2.0 JSON chapters beside it.

Joins are done on float32 numpy arrays (exact sample counts for pauses, no int16 round trips). The
joined episode is kept as its pieces, never as one array: mastering reads it block by block, so a
long bulletin costs its source audio once and a few blocks more.
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tts_news import files
from tts_news.errors import UserError
from tts_news.mastering import BLOCK_S, OUTPUT_RATE, Master

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
    the next one. A segment without a sentence is a sound (a chime): heard, but not a transcript cue.
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


# -- loudness and encoding -----------------------------------------------------------------------
LOUDNESS_TOLERANCE = 0.5  # LU; delivered further off than this (the prediction failed) is encoded again
MAX_DELIVERY_PASSES = 3
WRITE_AHEAD_BLOCKS = 3  # mastered blocks waiting for the encoder: enough to keep both cores busy
# LAME's quantizer takes about 0.4 LU from what it is given, at any bitrate and quality (measured
# with ffmpeg's ebur128 on espeak and MMS-size episodes, 96 and 128 kbps): the MP3 aims that much higher.
MP3_LOUDNESS_LOSS_LU = 0.4
ENCODE_TIMEOUT_S = 3600


def _ffmpeg(blocks: Iterable[np.ndarray], input_args: list[str], output_args: list[str], *,
            timeout: float = ENCODE_TIMEOUT_S) -> None:
    """Stream 44.1 kHz mono float32 blocks into ffmpeg (more inputs after it). A writer thread feeds
    the pipe from a short queue, so ffmpeg encodes on one core while the next blocks are mastered on
    the other. (A deep input queue: with several inputs ffmpeg reads each in a thread of its own.)"""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-thread_queue_size", "4096",
           "-f", "f32le", "-ar", str(OUTPUT_RATE), "-ac", "1", "-i", "pipe:0", *input_args, *output_args]
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except FileNotFoundError as err:
        raise UserError("ffmpeg is not installed (Debian: apt-get install ffmpeg)") from err
    err: list[bytes] = []
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=WRITE_AHEAD_BLOCKS)

    def write() -> None:
        broken = False
        while (data := pending.get()) is not None:
            if not broken:
                try:
                    proc.stdin.write(data)
                except (BrokenPipeError, ValueError):
                    broken = True  # ffmpeg stopped early: its exit status and message say why
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass

    threads = [threading.Thread(target=write, daemon=True),
               threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)]
    for thread in threads:
        thread.start()
    try:
        for block in blocks:
            pending.put(np.ascontiguousarray(block, "<f4").tobytes())
    except BaseException:
        proc.kill()
        raise
    finally:
        pending.put(None)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as expired:
        proc.kill()
        raise UserError(f"ffmpeg took longer than {timeout:.0f} s") from expired
    for thread in threads:
        thread.join()
    if proc.returncode != 0:
        raise UserError("ffmpeg failed: " + b"".join(err).decode(errors="replace").strip()[-300:])


def master(timeline: Timeline, *, lufs: float, true_peak: float) -> Master:
    return Master(timeline.blocks, timeline.sample_rate, lufs=lufs, true_peak=true_peak)


def deliver(timeline: Timeline, encode, *, lufs: float, true_peak: float) -> Master:
    """Master the timeline and hand the blocks to `encode(blocks)`; when what was delivered missed
    the target by more than the tolerance (the limiter's prediction failed), correct the gain and
    encode again."""
    mastered = master(timeline, lufs=lufs, true_peak=true_peak)
    for _ in range(MAX_DELIVERY_PASSES):
        encode(mastered.blocks())
        if not np.isfinite(mastered.loudness) or abs(lufs - mastered.loudness) <= LOUDNESS_TOLERANCE:
            break
        mastered.correct()
    return mastered


def ffmetadata(tags: Tags, chapters: list[Chapter]) -> str:
    """ffmpeg's metadata file: the episode's tags and one chapter per paragraph."""
    def esc(value: str) -> str:
        return re.sub(r"([=;#\\\n])", r"\\\1", value)

    lines = [";FFMETADATA1"]
    for key, value in (("title", tags.title), ("artist", tags.artist), ("album", tags.album),
                       ("publisher", tags.publisher), ("date", (tags.day or date.today()).isoformat()),
                       ("language", "urd"), ("comment", tags.comment)):
        if value:
            lines.append(f"{key}={esc(value)}")
    for ch in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={int(round(ch.start * 1000))}",
                  f"END={int(round(ch.end * 1000))}", f"title={esc(ch.title)}"]
    return "\n".join(lines) + "\n"


def encode_mp3(timeline: Timeline, out: Path, *, lufs: float, true_peak: float, bitrate: str, tags: Tags) -> dict:
    """Master the episode and encode it in one ffmpeg pass: CBR mono MP3 with ID3v2.3 tags (title,
    artist, show, publisher, date, language urd, comment), the cover and one CHAP per chapter in
    time order under an ordered top-level CTOC. ID3v2.3, not 2.4: ffmpeg 5 — and players built on
    it — stop reading chapters from a v2.4 tag that also holds a picture."""
    meta = out.with_name(f".{out.name}.ffmeta")
    meta.write_text(ffmetadata(tags, timeline.chapters), encoding="utf-8")
    inputs = ["-i", str(meta)]
    maps = ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
    if tags.cover and tags.cover.is_file():
        inputs += ["-i", str(tags.cover)]
        maps += ["-map", "2:v", "-c:v", "copy", "-disposition:v", "attached_pic",
                 "-metadata:s:v", "title=cover", "-metadata:s:v", "comment=Cover (front)"]
    args = [*maps, "-c:a", "libmp3lame", "-b:a", bitrate, "-ar", str(OUTPUT_RATE), "-ac", "1",
            "-id3v2_version", "3", "-write_id3v1", "0", "-f", "mp3", "-y", str(out)]
    try:
        mastered = deliver(timeline, lambda blocks: _ffmpeg(blocks, inputs, args), lufs=lufs + MP3_LOUDNESS_LOSS_LU,
                           true_peak=true_peak)
    finally:
        meta.unlink(missing_ok=True)
    check_mp3(out, mastered.samples / OUTPUT_RATE)
    return {"integrated_lufs": round(mastered.loudness - MP3_LOUDNESS_LOSS_LU, 2),
            "true_peak_dbtp": round(mastered.true_peak, 2), "gain_db": round(mastered.gain_db, 3)}


def check_mp3(path: Path, seconds: float) -> None:
    """A cheap check of what the encoder wrote: a readable MP3 of the expected length."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        length = MP3(path).info.length
    except MutagenError as err:
        raise UserError(f"the encoder wrote an unreadable MP3: {err}") from err
    if abs(length - seconds) > 0.1 + 0.001 * seconds:
        raise UserError(f"the encoder wrote {length:.2f} s of audio instead of {seconds:.2f} s")


def measure_loudness(path: Path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, as ffmpeg's ebur128 measures them."""
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, timeout=600,
    )
    text = done.stderr.decode(errors="replace")
    if done.returncode != 0 or "Summary:" not in text:
        raise UserError(f"ffmpeg could not measure {path.name}: {text.strip()[-300:]}")
    summary = text[text.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return {"integrated_lufs": integrated, "true_peak_dbtp": peak}


# -- tags, transcript, chapters ------------------------------------------------------------------
@dataclass
class Tags:
    title: str
    artist: str
    album: str
    publisher: str = ""
    comment: str = ""
    day: date | None = None
    cover: Path | None = None


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt_text(cues: list[Cue]) -> str:
    """WebVTT, one cue per sentence with the original Urdu text."""
    lines = ["WEBVTT", "Language: ur", ""]
    for i, cue in enumerate(cues, 1):
        text = cue.text.replace("-->", "→").replace("\n", " ")
        lines += [f"p{cue.paragraph}-s{i}", f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}", text, ""]
    return "\n".join(lines)


VTT_CUE_RE = re.compile(r"^p(\d+)-s\d+\n(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})\n(.*)$", re.M)


def read_vtt(text: str) -> list[Cue]:
    """The cues `vtt_text` wrote, paragraph numbers included (they ride in the cue identifiers)."""
    def seconds(h: str, m: str, s: str, ms: str) -> float:
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [Cue(seconds(*m.group(2, 3, 4, 5)), seconds(*m.group(6, 7, 8, 9)), m.group(10), int(m.group(1)))
            for m in VTT_CUE_RE.finditer(text.replace("\r\n", "\n"))]


def chapters_json(chapters: list[Chapter]) -> dict:
    """Podcasting 2.0 JSON chapters."""
    return {
        "version": "1.2.0",
        "chapters": [{"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title}
                     for c in chapters],
    }


write_text_atomic = files.write_text_atomic
