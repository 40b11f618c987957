"""A timeline → the delivered MP3: podcast loudness (through `mastering`) and one ffmpeg pass that
encodes the MP3 with its ID3v2.3 tags, cover and chapters. `measure_loudness` is ffmpeg's own
(ebur128) reading of a finished file, for benchmarks and tests."""

from __future__ import annotations

import errno
import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from tts_news.audio import ffmpeg
from tts_news.audio.mastering import OUTPUT_RATE, Master, SourceMeter
from tts_news.audio.timeline import Chapter, Timeline
from tts_news.core import files
from tts_news.core.errors import ToolFailed
from tts_news.text.cleanup import xml_safe


@dataclass
class Tags:
    title: str
    artist: str
    album: str
    publisher: str = ""
    comment: str = ""
    day: date | None = None  # the programme's date (a bulletin's --date); today when unset
    cover: Path | None = None
    language: str = "ur"  # the voice's language, ISO 639-1 as voice files give it


# -- loudness and encoding -----------------------------------------------------------------------
LOUDNESS_TOLERANCE = 0.5  # LU; delivered further off than this (the prediction failed) is encoded again
MAX_DELIVERY_PASSES = 3
WRITE_AHEAD_BLOCKS = 3  # mastered blocks waiting for the encoder: enough to keep both cores busy
# LAME's quantizer takes about 0.4 LU from what it is given, at any bitrate and quality (measured
# with ffmpeg's ebur128 on espeak and MMS-size episodes, 96 and 128 kbps): the MP3 aims that much higher.
MP3_LOUDNESS_LOSS_LU = 0.4
ENCODE_TIMEOUT_S = 3600
# LAME's -q 5 ("good", its default until 3.98) instead of 3: a fifth less encoding time, the last
# step of every render, for the same signal-to-noise on speech at 96 kbps mono (25.1 dB against
# 25.1 dB on a 2-minute espeak reading). Mono speech at podcast bitrates gains nothing from -q 3's
# slower noise shaping.
LAME_QUALITY = 5
MEASURE_TIMEOUT_S = 600


PCM_INPUT = ["-thread_queue_size", "4096", "-f", "f32le", "-ar", str(OUTPUT_RATE), "-ac", "1", "-i", "pipe:0"]


def _stream(proc: subprocess.Popen, blocks: Iterable[np.ndarray], *, timeout: float = ENCODE_TIMEOUT_S) -> None:
    """Feed 44.1 kHz mono float32 blocks to a started ffmpeg's stdin and wait for it. A writer
    thread feeds the pipe from a short queue, so ffmpeg encodes on one core while the next blocks are
    mastered on the other. (A deep input queue: with several inputs ffmpeg reads each in a thread of
    its own.)"""
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
        raise ToolFailed(f"ffmpeg took longer than {timeout:.0f} s") from expired
    for thread in threads:
        thread.join()
    if proc.returncode != 0:
        raise ToolFailed("ffmpeg failed: " + ffmpeg.message(b"".join(err)))


def deliver(timeline: Timeline, encode, *, lufs: float, true_peak: float,
            measured: SourceMeter | None = None) -> Master:
    """Master the timeline and hand the blocks to `encode(blocks)`; when what was delivered missed
    the target by more than the tolerance (the limiter's prediction failed), correct the gain and
    encode again."""
    mastered = Master(timeline.blocks, timeline.sample_rate, lufs=lufs, true_peak=true_peak, measured=measured)
    for _ in range(MAX_DELIVERY_PASSES):
        encode(mastered.blocks())
        if not np.isfinite(mastered.loudness) or abs(lufs - mastered.loudness) <= LOUDNESS_TOLERANCE:
            break
        mastered.correct()
    return mastered


ISO_639_2 = {"ur": "urd", "en": "eng", "pa": "pan", "sd": "snd", "ps": "pus", "hi": "hin"}  # ID3 TLAN wants three letters


def ffmetadata(tags: Tags, chapters: list[Chapter]) -> str:
    """ffmpeg's metadata file: the episode's tags and one chapter per paragraph."""
    def esc(value: str) -> str:
        return re.sub(r"([=;#\\\n])", r"\\\1", xml_safe(value))

    lines = [";FFMETADATA1"]
    for key, value in (("title", tags.title), ("artist", tags.artist), ("album", tags.album),
                       ("publisher", tags.publisher), ("date", (tags.day or date.today()).isoformat()),
                       ("language", ISO_639_2.get(tags.language, tags.language)), ("comment", tags.comment)):
        if value:
            lines.append(f"{key}={esc(value)}")
    for ch in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={int(round(ch.start * 1000))}",
                  f"END={int(round(ch.end * 1000))}", f"title={esc(ch.title)}"]
    return "\n".join(lines) + "\n"


def _mp3_args(meta: Path, out: Path, bitrate: str, cover: Path | None) -> list[str]:
    """ffmpeg's arguments: the metadata (input 0), the samples on stdin (input 1), the cover (input
    2), and one output: CBR mono MP3 with ID3v2.3 tags, cover and chapters."""
    inputs = ["-f", "ffmetadata", "-i", str(meta), *PCM_INPUT]
    maps = ["-map", "1:a", "-map_metadata", "0", "-map_chapters", "0"]
    if cover and cover.is_file():
        inputs += ["-i", str(cover)]
        maps += ["-map", "2:v", "-c:v", "copy", "-disposition:v", "attached_pic",
                 "-metadata:s:v", "title=cover", "-metadata:s:v", "comment=Cover (front)"]
    return [*inputs, *maps, "-c:a", "libmp3lame", "-b:a", bitrate, "-compression_level", str(LAME_QUALITY),
            "-ar", str(OUTPUT_RATE), "-ac", "1", "-id3v2_version", "3", "-write_id3v1", "0", "-f", "mp3", "-y",
            str(out)]


def _encode_file(blocks: Iterable[np.ndarray], meta: Path, metadata: str, out: Path, bitrate: str,
                 cover: Path | None) -> None:
    """One pass through a fresh ffmpeg, the metadata in a plain file."""
    meta.write_text(metadata, encoding="utf-8")
    _stream(ffmpeg.start(_mp3_args(meta, out, bitrate, cover)), blocks)


FIFO_OPEN_TIMEOUT_S = 30


class Mp3Encoder:
    """An ffmpeg started before the episode is joined, so that its start-up (some 70 ms of loading
    libraries, otherwise on the path of every render) passes while the voice speaks. It waits on a
    FIFO for the metadata (the chapters are known only at the end), then reads the samples from
    stdin, and writes `path`, a temporary file beside the episode; `put_in_place(out)` makes that
    file the episode. `close()` stops an ffmpeg that has not run and removes whatever is left."""

    def __init__(self, out: Path, *, bitrate: str, cover: Path | None) -> None:
        self.path = files.temp_beside(out)
        self.fifo = self.path.with_suffix(".ffmeta")
        self._proc: subprocess.Popen | None = None
        try:
            os.mkfifo(self.fifo, 0o600)
            self._proc = ffmpeg.start(_mp3_args(self.fifo, self.path, bitrate, cover))
        except BaseException:
            self.close()
            raise

    def encode(self, metadata: str, blocks: Iterable[np.ndarray]) -> None:
        """The one pass this ffmpeg makes: the metadata through the FIFO, then the samples."""
        proc, self._proc = self._proc, None
        if proc is None:
            raise RuntimeError("this encoder has already run")
        deadline = time.monotonic() + FIFO_OPEN_TIMEOUT_S
        while True:  # ffmpeg opens its end of the FIFO once it is up
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as err:
                if err.errno != errno.ENXIO:
                    raise
                if proc.poll() is not None:  # ffmpeg stopped before reading: its own message says why
                    _stream(proc, [])
                    raise ToolFailed("ffmpeg did not read the episode's metadata") from err
                if time.monotonic() > deadline:
                    proc.kill()
                    proc.communicate()
                    raise ToolFailed("ffmpeg did not read the episode's metadata") from err
                time.sleep(0.002)
        os.set_blocking(fd, True)
        try:
            with os.fdopen(fd, "wb") as fifo:
                fifo.write(metadata.encode("utf-8"))
        except BrokenPipeError:
            pass  # ffmpeg stopped: its exit status and message say why
        _stream(proc, blocks)

    def put_in_place(self, out: Path) -> None:
        """The encoded file becomes `out`, by one rename."""
        files.put_in_place(self.path, out)

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.communicate()
            self._proc = None
        self.fifo.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)  # gone already once put in place


def encode_mp3(timeline: Timeline, out: Path, *, lufs: float, true_peak: float, bitrate: str, tags: Tags,
               measured: SourceMeter | None = None, encoder: Mp3Encoder | None = None) -> dict:
    """Master the episode and encode it in one ffmpeg pass: CBR mono MP3 with ID3v2.3 tags (title,
    artist, show, publisher, date, language urd, comment), the cover and one CHAP per chapter in
    time order under an ordered top-level CTOC. ID3v2.3, not 2.4: ffmpeg 5 — and players built on
    it — stop reading chapters from a v2.4 tag that also holds a picture. `measured`: the
    mastering's first pass, made while the episode was joined; `encoder`: an ffmpeg already
    started that makes the first pass (then `out` is `encoder.path`)."""
    metadata = ffmetadata(tags, timeline.chapters)
    meta = out.with_name(f".{out.name}.ffmeta")
    started = [encoder] if encoder else []

    def one_pass(blocks: Iterable[np.ndarray]) -> None:
        if started:  # the first pass, through the ffmpeg already running
            started.pop().encode(metadata, blocks)
        else:
            _encode_file(blocks, meta, metadata, out, bitrate, tags.cover)

    try:
        mastered = deliver(timeline, one_pass, lufs=lufs + MP3_LOUDNESS_LOSS_LU,
                           true_peak=true_peak, measured=measured)
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
        raise ToolFailed(f"the encoder wrote an unreadable MP3: {err}") from err
    if abs(length - seconds) > 0.1 + 0.001 * seconds:
        raise ToolFailed(f"the encoder wrote {length:.2f} s of audio instead of {seconds:.2f} s")


def measure_loudness(path: Path) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file, as ffmpeg's ebur128 measures them."""
    done = ffmpeg.run(["-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-"], timeout=MEASURE_TIMEOUT_S)
    text = done.stderr.decode(errors="replace")
    if done.returncode != 0 or "Summary:" not in text:
        raise ToolFailed(f"ffmpeg could not measure {path.name}: {ffmpeg.message(done.stderr)}")
    summary = text[text.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary).group(1))
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return {"integrated_lufs": integrated, "true_peak_dbtp": peak}
