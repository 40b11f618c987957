"""Engines turn one spoken sentence into float32 audio. Coqui (neural) and espeak-ng (formant).

The Coqui model is loaded once per process, lazily, and warmed up; it is called per sentence with
Coqui's own (English-only) splitting and padding bypassed. Coqui is not thread-safe, so calls go
through a lock. Each engine knows which characters it can say; the pipeline reports the rest.
"""

from __future__ import annotations

import io
import logging
import subprocess
import threading
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from tts_news.config import Settings
from tts_news.errors import UserError, VoiceUnavailable
from tts_news.voices import Voice

log = logging.getLogger(__name__)

WARMUP_TEXT = "سلام"
END_TO_END_MODELS = ("vits",)  # text in, waveform out: no vocoder stage


class Engine:
    sample_rate: int
    vocabulary: frozenset[str] | None = None  # None: the engine says any character it is given

    def speak(self, text: str) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


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
            raise UserError(f"espeak-ng failed: {err.stderr.decode(errors='replace').strip()}") from err
        return _wav_to_float(done.stdout, self.sample_rate)


def _wav_to_float(data: bytes, expected_rate: int) -> np.ndarray:
    """espeak-ng streams WAV with placeholder sizes, so read the header and take the rest as PCM."""
    with wave.open(io.BytesIO(data[:44])) as header:
        rate, width, channels = header.getframerate(), header.getsampwidth(), header.getnchannels()
    if width != 2 or channels != 1:
        raise UserError(f"espeak-ng produced {channels}-channel {8 * width}-bit audio; expected mono 16-bit")
    if rate != expected_rate:
        raise UserError(f"espeak-ng speaks at {rate} Hz but the voice file says {expected_rate} Hz")
    start = data.find(b"data") + 8
    pcm = np.frombuffer(data[start : start + (len(data) - start) // 2 * 2], dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0).copy()


class CoquiEngine(Engine):
    def __init__(self, model_dir: Path) -> None:
        import torch  # heavy: imported only when a neural voice is used

        self._torch = torch
        self._lock = threading.Lock()
        self.model = _load_coqui_model(model_dir)
        self.sample_rate = int(self.model.config.audio["sample_rate"])
        characters = self.model.tokenizer.characters
        self.vocabulary = frozenset(c for c in characters.vocab if isinstance(c, str) and len(c) == 1)
        self.speak(WARMUP_TEXT)  # first inference pays one-off costs; pay them at load, not on a job

    def speak(self, text: str) -> np.ndarray:
        with self._lock, self._torch.inference_mode():
            out = self.model.synthesize(text=text, use_griffin_lim=True)
        wav = out["wav"]
        if hasattr(wav, "cpu"):
            wav = wav.cpu().numpy()
        return np.asarray(wav, dtype=np.float32).reshape(-1)


def _load_coqui_model(model_dir: Path):
    """Load a Coqui checkpoint folder, or an MMS (fairseq) folder: G_*.pth + vocab.txt + config.json."""
    from TTS.config import load_config
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models import setup_model
    from TTS.tts.models.vits import Vits

    if not (model_dir / "config.json").is_file():
        raise VoiceUnavailable(f"no config.json in {model_dir}: the voice is not installed")
    fairseq = sorted(model_dir.glob("G_*.pth"))
    try:
        if fairseq and (model_dir / "vocab.txt").is_file():
            # Coqui's MMS loader; the same one Synthesizer uses when "fairseq" is in the path.
            config = VitsConfig()
            model = Vits(config)
            model.load_fairseq_checkpoint(config, fairseq[-1], eval=True)
            return model
        checkpoints = sorted(p for p in model_dir.glob("*.pth") if "speaker" not in p.name)
        if not checkpoints:
            raise VoiceUnavailable(f"no .pth checkpoint in {model_dir}")
        # What Coqui's Synthesizer does for a checkpoint, without its "fairseq"-in-the-path guess.
        config = load_config(str(model_dir / "config.json"))
        if not hasattr(config, "model_args") or config.model not in END_TO_END_MODELS:
            raise UserError(f"{model_dir}: a {config.model} model needs a separate vocoder; use an "
                            f"end-to-end model ({', '.join(END_TO_END_MODELS)})")
        model = setup_model(config)
        model.load_checkpoint(config, str(checkpoints[-1]), eval=True)
        return model
    except (RuntimeError, KeyError, ValueError, OSError) as err:
        raise VoiceUnavailable(f"the Coqui model in {model_dir} could not be loaded: {err}") from err


@lru_cache(maxsize=4)
def _coqui(model_dir: Path) -> CoquiEngine:
    return CoquiEngine(model_dir)


def load_engine(voice: Voice, settings: Settings) -> Engine:
    """One engine per voice per process: the model loads on first use and stays."""
    if voice.engine == "espeak":
        return EspeakEngine(voice)
    model_dir = voice.model_dir(settings)
    engine = _coqui(model_dir)
    if engine.sample_rate != voice.sample_rate:
        log.info("voice %s: model speaks at %d Hz (file says %d)", voice.name, engine.sample_rate,
                 voice.sample_rate)
    return engine
