"""Segments → one episode: trimmed joins with pauses and fades, podcast loudness, MP3, ID3 tags and
chapters, a WebVTT transcript and Podcasting 2.0 JSON chapters.

Joins are done on float32 numpy arrays (exact sample counts for pauses, no int16 round trips);
ffmpeg resamples to 44.1 kHz, normalizes loudness (EBU R128 / ITU-R BS.1770, two passes) and
encodes constant-bitrate MP3; mutagen writes ID3v2.4 with CHAP/CTOC.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from tts_news.errors import UserError

OUTPUT_RATE = 44100
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
    audio: np.ndarray
    sample_rate: int
    cues: list[Cue] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


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


def assemble(segments, *, sentence_pause: float, paragraph_pause: float, title_pause: float,
             chapter_titles: dict[int, str]) -> Timeline:
    """Join segments (in order) with a pause between sentences and a longer one between paragraphs;
    paragraph 0 is the title. A chapter starts at each paragraph `chapter_titles` names and runs to
    the next one. A segment without a sentence is a sound (a chime): heard, but not a transcript cue.
    Every cue and chapter time comes from real sample counts."""
    pieces: list[np.ndarray] = []
    cues: list[Cue] = []
    starts: dict[int, float] = {}
    rate = None
    position = 0
    last_paragraph = None
    for seg in segments:
        rate = rate or seg.sample_rate
        if seg.sample_rate != rate:
            raise UserError("segments of one episode must share one sample rate")
        if last_paragraph is not None:
            gap = sentence_pause
            if seg.paragraph != last_paragraph:
                gap = title_pause if last_paragraph == 0 else paragraph_pause
            silence = np.zeros(int(round(gap * rate)), np.float32)
            pieces.append(silence)
            position += len(silence)
        audio = fade(trim_silence(seg.audio, rate), rate)
        starts.setdefault(seg.paragraph, position / rate)
        if seg.sentence is not None:
            cues.append(Cue(position / rate, (position + len(audio)) / rate, seg.sentence.text, seg.paragraph))
        pieces.append(audio)
        position += len(audio)
        last_paragraph = seg.paragraph
    if rate is None:
        raise UserError("there is nothing to say in this article")
    audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    end = len(audio) / rate
    order = sorted(p for p in starts if p in chapter_titles)
    chapters = [
        Chapter(starts[p], starts[order[i + 1]] if i + 1 < len(order) else end, chapter_titles[p])
        for i, p in enumerate(order)
    ]
    return Timeline(audio, rate, cues, chapters)


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
TRUE_PEAK_OVERSAMPLE = 4  # BS.1770 estimates true peak at 4x oversampling
LIMITER_LOOKAHEAD_S = 0.003  # the gain is already down when a peak arrives: no overshoot, no click
LIMITER_RELEASE_S = 0.050
ID3_VERSION = 3


def to_output_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """High-quality resampling (libsoxr) to 44.1 kHz from 16 kHz MMS or 22.05 kHz espeak."""
    import soxr

    if sample_rate == OUTPUT_RATE:
        return audio.astype(np.float32, copy=False)
    return soxr.resample(audio.astype(np.float32), sample_rate, OUTPUT_RATE, quality="HQ").astype(np.float32)


def true_peak_envelope(audio: np.ndarray) -> np.ndarray:
    """Per-sample true peak: the largest magnitude of the 4x oversampled signal around each sample."""
    import soxr

    n = len(audio)
    over = np.abs(soxr.resample(audio.astype(np.float32), OUTPUT_RATE, OUTPUT_RATE * TRUE_PEAK_OVERSAMPLE,
                                quality="HQ"))
    over = np.pad(over, (0, max(0, n * TRUE_PEAK_OVERSAMPLE - len(over))))[: n * TRUE_PEAK_OVERSAMPLE]
    return np.maximum(over.reshape(n, TRUE_PEAK_OVERSAMPLE).max(axis=1), np.abs(audio))


def limiter_gain(peaks: np.ndarray, ceiling_db: float) -> np.ndarray:
    """A look-ahead limiter's gain curve for a signal with these true peaks: the gain is already
    down when a peak arrives and recovers smoothly, never above what keeps peaks under the ceiling."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    need = np.minimum(1.0, 10 ** (ceiling_db / 20) / np.maximum(peaks, 1e-12)).astype(np.float32)
    if need.min() >= 1.0:
        return need
    look = max(1, int(LIMITER_LOOKAHEAD_S * OUTPUT_RATE))
    held = minimum_filter1d(need, size=2 * look + 1)
    held = minimum_filter1d(held, size=int(LIMITER_RELEASE_S * OUTPUT_RATE))
    return np.minimum(uniform_filter1d(held, size=look + 1), need)


def limit_true_peak(audio: np.ndarray, ceiling_db: float) -> np.ndarray:
    return (audio * limiter_gain(true_peak_envelope(audio), ceiling_db)).astype(np.float32)


def normalize_loudness(audio: np.ndarray, lufs: float, true_peak: float) -> tuple[np.ndarray, float]:
    """Gain to `lufs` integrated (ITU-R BS.1770-4, pyloudnorm) with true peaks limited to
    `true_peak` dBTP; a second round makes up the little loudness the limiter took. True peaks scale
    with gain, so they are found once (4x oversampling) and the limiter works from them."""
    import pyloudnorm

    meter = pyloudnorm.Meter(OUTPUT_RATE)
    peaks = true_peak_envelope(audio)
    gain = np.float32(1.0)
    out = audio
    # BS.1770 gates in 400 ms blocks; a shorter clip is measured with silence after it (gated out).
    min_len = int(0.5 * OUTPUT_RATE)
    for _ in range(2):
        measured = meter.integrated_loudness(np.pad(out, (0, max(0, min_len - len(out)))).astype(np.float64))
        if not np.isfinite(measured):
            break  # silence: nothing to normalize
        gain *= np.float32(10 ** ((lufs - measured) / 20))
        out = (audio * gain * limiter_gain(peaks * gain, true_peak)).astype(np.float32)
    return out, float(gain)


MAX_ENCODER_DRIFT = 3.0  # LU; a larger difference is a clip too short to gate, not encoder drift
LOUDNESS_TOLERANCE = 0.5  # LU; the encoder's low-pass can cost a few tenths, made up in a second encode


def ffmpeg_from_float(audio: np.ndarray, output_args: list[str], timeout: float = 3600) -> bytes:
    """Feed 44.1 kHz mono float32 samples to ffmpeg; returns what it writes to standard output."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "f32le", "-ar", str(OUTPUT_RATE),
           "-ac", "1", "-i", "pipe:0", *output_args]
    try:
        done = subprocess.run(cmd, input=audio.astype("<f4").tobytes(), capture_output=True, timeout=timeout)
    except FileNotFoundError as err:
        raise UserError("ffmpeg is not installed (Debian: apt-get install ffmpeg)") from err
    if done.returncode != 0:
        raise UserError("ffmpeg failed: " + done.stderr.decode(errors="replace").strip()[-300:])
    return done.stdout


def _encode(audio: np.ndarray, out: Path, bitrate: str) -> None:
    ffmpeg_from_float(audio, ["-c:a", "libmp3lame", "-b:a", bitrate, "-ar", str(OUTPUT_RATE), "-ac", "1",
                              "-f", "mp3", "-y", str(out)])


def encode_mp3(timeline: Timeline, out: Path, *, lufs: float, true_peak: float, bitrate: str) -> dict:
    """Resample to 44.1 kHz, normalize loudness over the whole episode, encode CBR mono MP3, and check
    the MP3 itself with ffmpeg's ebur128 (what podcast platforms measure)."""
    audio = to_output_rate(timeline.audio, timeline.sample_rate)
    audio, _ = normalize_loudness(audio, lufs, true_peak)
    _encode(audio, out, bitrate)
    measured = measure_loudness(out)
    off = lufs - measured["integrated_lufs"]
    if np.isfinite(off) and LOUDNESS_TOLERANCE < abs(off) < MAX_ENCODER_DRIFT:
        audio = limit_true_peak(audio * np.float32(10 ** (off / 20)), true_peak)
        _encode(audio, out, bitrate)
        measured = measure_loudness(out)
    return measured


# The formats the OpenAI speech API names, as ffmpeg makes them; pcm is raw 24 kHz s16le like OpenAI's.
FORMATS = {
    "mp3": (["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"], "audio/mpeg", None),
    "opus": (["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"], "audio/ogg", 48000),
    "aac": (["-c:a", "aac", "-b:a", "96k", "-f", "adts"], "audio/aac", None),
    "flac": (["-c:a", "flac", "-f", "flac"], "audio/flac", None),
    "wav": (["-c:a", "pcm_s16le", "-f", "wav"], "audio/wav", None),
    "pcm": (["-c:a", "pcm_s16le", "-f", "s16le"], "audio/pcm", 24000),
}


def atempo_chain(speed: float) -> str:
    """ffmpeg's atempo takes 0.5–2.0 per stage (pitch kept); 0.25 and 4.0 need two."""
    stages = []
    while speed > 2.0:
        stages.append(2.0)
        speed /= 2.0
    while speed < 0.5:
        stages.append(0.5)
        speed /= 0.5
    stages.append(speed)
    return ",".join(f"atempo={s:.6f}" for s in stages)


def encode_bytes(audio: np.ndarray, fmt: str, speed: float = 1.0) -> tuple[bytes, str]:
    """44.1 kHz float audio → (file bytes, content type) in one of FORMATS, tempo changed by `speed`."""
    args, content_type, rate = FORMATS[fmt]
    tempo = ["-af", atempo_chain(speed)] if abs(speed - 1.0) > 1e-6 else []
    data = ffmpeg_from_float(audio, [*tempo, "-ar", str(rate or OUTPUT_RATE), "-ac", "1", *args, "pipe:1"], 600)
    return data, content_type


def measure_loudness(path: Path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, as ffmpeg's ebur128 measures them."""
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, timeout=600,
    )
    text = done.stderr.decode(errors="replace")
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


def write_id3(path: Path, tags: Tags, chapters: list[Chapter]) -> None:
    """ID3 tags: title, artist, show, publisher, date, language urd, comment, cover, and one CHAP per
    paragraph under a top-level ordered CTOC, so podcast apps and screen-reader users can jump.

    Written as ID3v2.3 (the chapter addendum covers 2.3 and 2.4): ffmpeg 5 — and players built on
    it — stops reading chapters from a v2.4 tag that also holds a picture, and v2.3 is what podcast
    apps read most reliably."""
    from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TALB, TDRC, TIT2, TLAN, TPE1, TPUB, CTOCFlags

    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    if tags.publisher:
        id3.add(TPUB(encoding=3, text=tags.publisher))
    id3.add(TDRC(encoding=3, text=(tags.day or date.today()).isoformat()))
    id3.add(TLAN(encoding=3, text="urd"))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="urd", desc="", text=tags.comment))
    if tags.cover and tags.cover.is_file():
        mime = "image/png" if tags.cover.suffix.lower() == ".png" else "image/jpeg"
        id3.add(APIC(encoding=3, mime=mime, type=3, desc="cover", data=tags.cover.read_bytes()))
    ids = [f"chp{i}" for i in range(len(chapters))]
    for cid, ch in zip(ids, chapters):
        id3.add(CHAP(element_id=cid, start_time=int(ch.start * 1000), end_time=int(ch.end * 1000),
                     sub_frames=[TIT2(encoding=3, text=ch.title)]))
    if ids:
        id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                     sub_frames=[TIT2(encoding=3, text=tags.title)]))
    id3.save(str(path), v2_version=ID3_VERSION)
    order_chapter_frames(path)


def order_chapter_frames(path: Path) -> None:
    """Put the CHAP frames in time order inside the tag. mutagen writes frames smallest first, and
    players that list chapters in frame order (ffmpeg and what is built on it) would show them
    shuffled. The tag keeps its size: only the order of its frames changes (ID3v2.3 frame sizes
    are plain 32-bit, and mutagen writes no unsynchronisation)."""
    with open(path, "r+b") as f:
        header = f.read(10)
        if header[:3] != b"ID3" or header[3] != 3 or header[5] & 0x80:
            return
        size = int.from_bytes(bytes(b & 0x7F for b in header[6:10]), "big")  # syncsafe
        body = f.read(size)
        frames, pos = [], 0
        while pos + 10 <= len(body) and body[pos:pos + 4].strip(b"\0"):
            length = int.from_bytes(body[pos + 4:pos + 8], "big")
            frames.append(body[pos:pos + 10 + length])
            pos += 10 + length
        chaps = [fr for fr in frames if fr[:4] == b"CHAP"]
        if len(chaps) < 2:
            return

        def start_ms(frame: bytes) -> int:
            end_of_id = frame.index(b"\0", 10)
            return int.from_bytes(frame[end_of_id + 1:end_of_id + 5], "big")

        ordered = iter(sorted(chaps, key=start_ms))
        rebuilt = b"".join(next(ordered) if fr[:4] == b"CHAP" else fr for fr in frames) + body[pos:]
        f.seek(10)
        f.write(rebuilt)


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


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes files private; episodes are served and shared
    os.replace(tmp, path)
