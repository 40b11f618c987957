"""espeak-ng's Urdu voice as an engine: formant speech, always available offline (the fallback)."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import soundfile

from tts_news.core.errors import ToolFailed, VoiceUnavailable
from tts_news.voice.catalog import Voice
from tts_news.voice.engine import Engine


class EspeakEngine(Engine):
    def __init__(self, voice: Voice) -> None:
        self.voice_name = voice.settings.get("voice", "ur")
        self.rate = int(voice.settings.get("rate", 150))
        self.pitch = int(voice.settings.get("pitch", 50))
        self.sample_rate = voice.sample_rate

    def speak(self, text: str) -> np.ndarray:
        cmd = ["espeak-ng", "-v", self.voice_name, "-s", str(self.rate), "-p", str(self.pitch), "--stdout"]
        try:
            done = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, check=True, timeout=120)
        except FileNotFoundError as err:
            raise VoiceUnavailable("espeak-ng is not installed (Debian: apt-get install espeak-ng)") from err
        except subprocess.CalledProcessError as err:
            raise ToolFailed(f"espeak-ng failed: {err.stderr.decode(errors='replace').strip()}") from err
        return _wav_to_float(done.stdout, self.sample_rate)


def _wav_to_float(data: bytes, expected_rate: int) -> np.ndarray:
    """espeak-ng's WAV (streamed, with placeholder sizes, which libsndfile reads) as float32 mono."""
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    if audio.shape[1] != 1:
        raise ToolFailed(f"espeak-ng produced {audio.shape[1]}-channel audio; expected mono")
    if rate != expected_rate:
        raise ToolFailed(f"espeak-ng speaks at {rate} Hz but the voice file says {expected_rate} Hz")
    return np.ascontiguousarray(audio[:, 0])
