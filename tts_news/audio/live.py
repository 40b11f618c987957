"""Listen while it renders: each sentence, as soon as it is spoken, is levelled (`mastering.Leveller`, the
mastering's chain a piece at a time) and encoded by ffmpeg, every packet written as soon as it is made,
into a file that grows (a job's live MP3, a speech request's reply). Where that file lives and how
listeners learn it has ended is the jobs layer's business (`tts_news.jobs.streams`).
"""

from __future__ import annotations

import subprocess
from typing import BinaryIO

import numpy as np

from tts_news.audio import ffmpeg
from tts_news.audio.mastering import OUTPUT_RATE, Leveller
from tts_news.core.errors import ToolFailed

# What a stream can be, as ffmpeg makes it packet by packet: (encoder arguments, content type, rate).
# The OpenAI speech API's formats; pcm is raw 24 kHz s16le as OpenAI's is; wav is that with a
# header for a stream of unknown length, as OpenAI streams it.
FORMATS = {
    "mp3": (["-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-f", "mp3"], "audio/mpeg", OUTPUT_RATE),
    "opus": (["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"], "audio/ogg", 48000),
    "aac": (["-c:a", "aac", "-b:a", "96k", "-f", "adts"], "audio/aac", OUTPUT_RATE),
    "flac": (["-c:a", "flac", "-f", "flac"], "audio/flac", OUTPUT_RATE),
    "wav": (["-c:a", "pcm_s16le", "-f", "s16le"], "audio/wav", 24000),
    "pcm": (["-c:a", "pcm_s16le", "-f", "s16le"], "audio/pcm", 24000),
}
WAV_STREAM_HEADER_SIZE = 0xFFFFFFFF  # sizes unknown while streaming, as OpenAI's streamed WAV says
ENCODER_EXIT_S = 60


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


def wav_stream_header(rate: int) -> bytes:
    """A 16-bit mono WAV header for a stream whose length is not known yet."""
    size = WAV_STREAM_HEADER_SIZE.to_bytes(4, "little")
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little") + \
        (2 * rate).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    return b"RIFF" + size + b"WAVE" + b"fmt " + (16).to_bytes(4, "little") + fmt + b"data" + size


class LiveEncoder:
    """Levelled audio encoded as it comes. `add(gap, piece)` takes what `timeline.assemble` joins (silence
    samples, then a trimmed and faded sentence) at the voice's rate; `close()` finishes the stream and
    returns how it went, `abort()` ends it where it is. The encoder owns `out` and closes it."""

    def __init__(self, out: BinaryIO, sample_rate: int, *, fmt: str = "mp3", lufs: float, true_peak: float,
                 gain_db: float | None = None, bitrate: str | None = None, speed: float = 1.0) -> None:
        encoder, _, out_rate = FORMATS[fmt]
        if bitrate and "-b:a" in encoder:
            encoder = [bitrate if prev == "-b:a" else arg for prev, arg in zip(["", *encoder], encoder)]
        self.rate = sample_rate
        self.seconds = 0.0
        self.closed = False
        self._level = Leveller(sample_rate, lufs=lufs, true_peak=true_peak, gain_db=gain_db)
        self._out = out
        if fmt == "wav":
            out.write(wav_stream_header(out_rate))
            out.flush()
        tempo = ["-af", atempo_chain(speed)] if abs(speed - 1.0) > 1e-6 else []
        try:
            self._proc = ffmpeg.start(["-f", "f32le", "-ar", str(OUTPUT_RATE), "-ac", "1", "-i", "pipe:0", *tempo,
                                       "-ar", str(out_rate), "-ac", "1", *encoder, "-flush_packets", "1", "pipe:1"],
                                      stdout=out)
        except BaseException:
            out.close()
            raise

    def add(self, gap: int, piece: np.ndarray) -> None:
        self._write(self._level.add(gap, piece))
        self.seconds += (gap + len(piece)) / self.rate

    def _write(self, x: np.ndarray) -> None:
        if not len(x):
            return
        try:
            self._proc.stdin.write(np.ascontiguousarray(x, "<f4").tobytes())
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as err:
            raise ToolFailed("the live stream's encoder stopped: " + ffmpeg.message(self._proc.stderr.read())) from err

    def close(self) -> dict:
        """The encoder's last packets; what the stream came to (`seconds`, and `error` if it broke)."""
        outcome: dict = {"seconds": round(self.seconds, 3)}
        if self.closed:
            return outcome
        try:
            self._write(self._level.flush())
            self._proc.stdin.close()
            self._proc.wait(timeout=ENCODER_EXIT_S)
        except (ToolFailed, subprocess.TimeoutExpired) as err:
            self._proc.kill()
            outcome["error"] = str(err)
        finally:
            self._end()
        return outcome

    def abort(self) -> None:
        """End the stream where it is (the render failed)."""
        if self.closed:
            return
        self._proc.kill()
        self._proc.wait()
        self._end()

    def _end(self) -> None:
        self.closed = True
        self._out.close()
