"""Listen while it renders: each sentence, as soon as it is spoken, is levelled and appended to a
growing audio file that any number of listeners read (a job's live MP3, a speech request's reply).

The finished episode is still mastered as a whole; the live stream cannot wait for that, so it is
levelled sentence by sentence: the speech band filter the mastering uses, then the gain the same
voice needed in its last finished episode (kept per voice in the data dir) — or, for a voice never
rendered here, the gain its sentences so far need — then 44.1 kHz and the true-peak limiter. The
encoder is ffmpeg, writing every packet as soon as it is made.

Files: `STREAM` grows; `STREAM.done` appears when it is complete (its JSON says how it ended).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import soxr
from scipy.signal import sosfilt

from tts_news.audio.mastering import OUTPUT_RATE, LoudnessMeter, limit_true_peak, speech_band
from tts_news.core.errors import ToolFailed
from tts_news.core.files import write_text_atomic

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
GAINS_FILE = "live-gains.json"
MAX_ADAPTIVE_GAIN_DB = 40.0  # a nearly silent first sentence must not be blown up without bound
WAV_STREAM_HEADER_SIZE = 0xFFFFFFFF  # sizes unknown while streaming, as OpenAI's streamed WAV says


def done_marker(path: Path) -> Path:
    return path.with_name(path.name + ".done")


def info_file(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, ensure_ascii=False))


def remove(path: Path) -> None:
    """The stream and the files beside it."""
    for p in (path, done_marker(path), info_file(path)):
        p.unlink(missing_ok=True)


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


def calibrated_gain(data_dir: Path, voice: str) -> float | None:
    """The gain (dB) this voice's last finished episode needed, if one was rendered here."""
    try:
        return float(json.loads((data_dir / GAINS_FILE).read_text(encoding="utf-8"))[voice])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_gain(data_dir: Path, voice: str, gain_db: float) -> None:
    path = data_dir / GAINS_FILE
    try:
        gains = json.loads(path.read_text(encoding="utf-8"))
        gains = gains if isinstance(gains, dict) else {}
    except (OSError, ValueError):
        gains = {}
    gains[voice] = round(float(gain_db), 3)
    write_json(path, gains)


def wav_stream_header(rate: int) -> bytes:
    """A 16-bit mono WAV header for a stream whose length is not known yet."""
    size = WAV_STREAM_HEADER_SIZE.to_bytes(4, "little")
    fmt = (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little") + \
        (2 * rate).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    return b"RIFF" + size + b"WAVE" + b"fmt " + (16).to_bytes(4, "little") + fmt + b"data" + size


class LiveStream:
    """A growing file of levelled audio. `add(gap, piece)` takes what `joins.assemble` joins (silence
    samples, then a trimmed and faded sentence) at the voice's rate; `close()` finishes the file.
    `info` is written beside it (STREAM.json) before the first byte, for whoever serves it."""

    def __init__(self, path: Path, sample_rate: int, *, fmt: str = "mp3", lufs: float, true_peak: float,
                 gain_db: float | None = None, bitrate: str | None = None, speed: float = 1.0,
                 info: dict | None = None) -> None:
        encoder, _, out_rate = FORMATS[fmt]
        if bitrate and "-b:a" in encoder:
            encoder = [bitrate if prev == "-b:a" else arg for prev, arg in zip(["", *encoder], encoder)]
        self.path = path
        self.rate = sample_rate
        self.lufs = lufs
        self.ceiling = true_peak
        self.fixed_gain = gain_db
        self.seconds = 0.0
        self.closed = False
        self._sos = speech_band(sample_rate)
        self._state = np.zeros((self._sos.shape[0], 2), np.float32)
        self._meter = LoudnessMeter(sample_rate)
        self._resampler = soxr.ResampleStream(sample_rate, OUTPUT_RATE, 1, dtype="float32", quality="HQ")
        path.parent.mkdir(parents=True, exist_ok=True)
        remove(path)
        with open(path, "wb") as f:
            f.write(wav_stream_header(out_rate) if fmt == "wav" else b"")
        write_json(info_file(path), info or {})  # after the file: whoever sees this can open it
        tempo = ["-af", atempo_chain(speed)] if abs(speed - 1.0) > 1e-6 else []
        cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "f32le", "-ar", str(OUTPUT_RATE),
               "-ac", "1", "-i", "pipe:0", *tempo, "-ar", str(out_rate), "-ac", "1", *encoder,
               "-flush_packets", "1", "pipe:1"]
        self._out = open(path, "ab")  # noqa: SIM115 - ffmpeg appends to it until close()
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self._out, stderr=subprocess.PIPE)
        except FileNotFoundError as err:
            self._out.close()
            raise ToolFailed("ffmpeg is not installed (Debian: apt-get install ffmpeg)") from err

    def gain_db(self) -> float:
        if self.fixed_gain is not None:
            return self.fixed_gain
        measured = self._meter.integrated()
        return float(np.clip(self.lufs - measured, -MAX_ADAPTIVE_GAIN_DB, MAX_ADAPTIVE_GAIN_DB)) \
            if np.isfinite(measured) else 0.0

    def add(self, gap: int, piece: np.ndarray) -> None:
        x = np.concatenate([np.zeros(gap, np.float32), np.asarray(piece, np.float32)])
        x, self._state = sosfilt(self._sos, x, zi=self._state)
        self._meter.add(x[gap:])
        x = self._resampler.resample_chunk(x * np.float32(10 ** (self.gain_db() / 20)))
        self._write(limit_true_peak(x, self.ceiling))
        self.seconds += (gap + len(piece)) / self.rate

    def _write(self, x: np.ndarray) -> None:
        if not len(x):
            return
        try:
            self._proc.stdin.write(np.ascontiguousarray(x, "<f4").tobytes())
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError) as err:
            raise ToolFailed("the live stream's encoder stopped: " + self._proc.stderr.read().decode(
                errors="replace").strip()[-300:]) from err

    def close(self, **outcome) -> None:
        """Finish the stream: the encoder's last packets, then the marker listeners stop at."""
        if self.closed:
            return
        try:
            self._write(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
            self._proc.stdin.close()
            self._proc.wait(timeout=60)
        except (ToolFailed, subprocess.TimeoutExpired) as err:
            self._proc.kill()
            outcome.setdefault("error", str(err))
        finally:
            self._finish(outcome)

    def abort(self, reason: str) -> None:
        """End the stream where it is (the render failed); listeners are told it ended."""
        if self.closed:
            return
        self._proc.kill()
        self._proc.wait()
        self._finish({"error": reason})

    def _finish(self, outcome: dict) -> None:
        self.closed = True
        self._out.close()
        write_json(done_marker(self.path), {"seconds": round(self.seconds, 3), **outcome})
