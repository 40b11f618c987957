"""Engines turn spoken sentences into float32 audio: Coqui VITS (neural; ONNX Runtime on CPU, torch
on a GPU or as the fallback) and espeak-ng (formant).

A Coqui model is loaded once per process, lazily, and warmed up; it is called per sentence (or per
length-sorted batch on a GPU) with Coqui's own English-only splitting and padding bypassed. Neither
runtime is called from two threads at once. Each engine knows which characters it can say; the
pipeline reports the rest.
"""

from __future__ import annotations

import io
import logging
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from tts_news.core.config import Settings
from tts_news.core.errors import UserError, VoiceUnavailable
from tts_news.voice.catalog import Voice

log = logging.getLogger(__name__)

WARMUP_TEXT = "سلام"
END_TO_END_MODELS = ("vits",)  # text in, waveform out: no vocoder stage
Scales = tuple[float | None, float | None, float | None]  # noise, length, duration noise; None: the model's
NO_SCALES: Scales = (None, None, None)
NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")  # present where CUDA can be; checked before importing torch


class Engine:
    sample_rate: int
    vocabulary: frozenset[str] | None = None  # None: the engine says any character it is given
    batch_size: int = 1  # sentences per call the engine is fastest with
    runtime: str = ""

    def speak(self, text: str) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def speak_batch(self, texts: list[str]) -> list[np.ndarray]:
        return [self.speak(text) for text in texts]


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
    """espeak-ng's WAV (streamed, with placeholder sizes, which libsndfile reads) as float32 mono."""
    import soundfile

    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    if audio.shape[1] != 1:
        raise UserError(f"espeak-ng produced {audio.shape[1]}-channel audio; expected mono")
    if rate != expected_rate:
        raise UserError(f"espeak-ng speaks at {rate} Hz but the voice file says {expected_rate} Hz")
    return np.ascontiguousarray(audio[:, 0])


class CoquiEngine(Engine):
    """A Coqui model through torch: plain Coqui inference, on the GPU where there is one."""

    runtime = "torch"

    def __init__(self, model_dir: Path, batch_size: int = 1, scales: Scales = NO_SCALES) -> None:
        import torch  # heavy: imported only when this runtime is used

        self._torch = torch
        self._lock = threading.Lock()
        self.model = load_coqui_model(model_dir)
        for name, value in zip(("inference_noise_scale", "length_scale", "inference_noise_scale_dp"), scales):
            if value is not None:
                setattr(self.model, name, value)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        self.batch_size = batch_size
        self.sample_rate = int(self.model.config.audio["sample_rate"])
        characters = self.model.tokenizer.characters
        self.vocabulary = frozenset(c for c in characters.vocab if isinstance(c, str) and len(c) == 1)
        self._hop = int(np.prod(self.model.args.upsample_rates_decoder))  # output samples per decoder frame
        self.speak(WARMUP_TEXT)  # first inference pays one-off costs; pay them at load, not on a job

    def speak(self, text: str) -> np.ndarray:
        with self._lock, self._torch.inference_mode():
            out = self.model.synthesize(text=text, use_griffin_lim=True)
        wav = out["wav"]
        if hasattr(wav, "cpu"):
            wav = wav.cpu().numpy()
        return np.asarray(wav, dtype=np.float32).reshape(-1)

    def speak_batch(self, texts: list[str]) -> list[np.ndarray]:
        """Several sentences in one padded call (fp32): each comes back at its own length."""
        if len(texts) == 1:
            return [self.speak(texts[0])]
        torch = self._torch
        ids = [self.model.tokenizer.text_to_ids(text) for text in texts]
        lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
        batch = torch.zeros(len(ids), int(lengths.max()), dtype=torch.long)
        for i, x in enumerate(ids):
            batch[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        with self._lock, torch.inference_mode():
            out = self.model.inference(batch.to(self.device), aux_input={
                "x_lengths": lengths.to(self.device), "d_vectors": None, "speaker_ids": None,
                "language_ids": None, "durations": None})
            frames = torch.clamp_min(out["durations"].sum(dim=(1, 2)), 1).long().cpu()
            wavs = out["model_outputs"][:, 0].float().cpu().numpy()
        return [np.ascontiguousarray(wavs[i, : int(frames[i]) * self._hop], np.float32) for i in range(len(texts))]


class OnnxEngine(Engine):
    """A Coqui VITS export through ONNX Runtime on the CPU: no torch in the process."""

    runtime = "onnx"

    def __init__(self, folder: Path, scales: Scales = NO_SCALES) -> None:
        import json

        from tts_news.voice import decoder_rows
        from tts_news.voice import onnx_export as vits_onnx

        spec = json.loads((folder / vits_onnx.TOKENIZER_FILE).read_text(encoding="utf-8"))
        self.tokenizer = vits_onnx.VitsTokenizer(spec)
        self._session = vits_onnx.session(folder)
        self._extra = decoder_rows.inputs_for(self._session)
        self._run = vits_onnx.run
        self._scales = np.asarray([own if own is not None else model for own, model in zip(scales, spec["scales"])],
                                  np.float32)
        self._lock = threading.Lock()
        self.sample_rate = int(spec["sample_rate"])
        self.vocabulary = frozenset(c for c in self.tokenizer.char_to_id if len(c) == 1)
        self.speak(WARMUP_TEXT)

    def speak(self, text: str) -> np.ndarray:
        ids = self.tokenizer.ids(text)
        with self._lock:
            return self._run(self._session, ids, self._scales, self._extra)


def model_files(model_dir: Path) -> tuple[list[Path], bool]:
    """The files a Coqui model folder is loaded from, and whether it is an MMS (fairseq) folder."""
    if not (model_dir / "config.json").is_file():
        raise VoiceUnavailable(f"no config.json in {model_dir}: the voice is not installed")
    fairseq = sorted(model_dir.glob("G_*.pth"))
    if fairseq and (model_dir / "vocab.txt").is_file():
        return [fairseq[-1], model_dir / "config.json", model_dir / "vocab.txt"], True
    checkpoints = sorted(p for p in model_dir.glob("*.pth") if "speaker" not in p.name)
    if not checkpoints:
        raise VoiceUnavailable(f"no .pth checkpoint in {model_dir}")
    return [checkpoints[-1], model_dir / "config.json"], False


def load_coqui_model(model_dir: Path):
    """Load a Coqui checkpoint folder, or an MMS (fairseq) folder: G_*.pth + vocab.txt + config.json."""
    from TTS.config import load_config
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models import setup_model
    from TTS.tts.models.vits import Vits

    files, fairseq = model_files(model_dir)
    try:
        if fairseq:
            # Coqui's MMS loader; the same one Synthesizer uses when "fairseq" is in the path. No
            # discriminator: it is for training, and would cost memory here.
            config = VitsConfig()
            config.model_args.init_discriminator = False
            model = Vits(config)
            model.load_fairseq_checkpoint(config, files[0], eval=True)
            return model
        # What Coqui's Synthesizer does for a checkpoint, without its "fairseq"-in-the-path guess.
        config = load_config(str(model_dir / "config.json"))
        if not hasattr(config, "model_args") or config.model not in END_TO_END_MODELS:
            raise UserError(f"{model_dir}: a {config.model} model needs a separate vocoder; use an "
                            f"end-to-end model ({', '.join(END_TO_END_MODELS)})")
        model = setup_model(config)
        model.load_checkpoint(config, str(files[0]), eval=True)
        return model
    except (RuntimeError, KeyError, ValueError, OSError) as err:
        raise VoiceUnavailable(f"the Coqui model in {model_dir} could not be loaded: {err}") from err


def cuda_present() -> bool:
    """A usable NVIDIA GPU: the driver is loaded and torch sees a device."""
    if not NVIDIA_DRIVER.exists():
        return False
    import torch

    return torch.cuda.is_available()


@lru_cache(maxsize=4)
def _coqui(model_dir: Path, runtime: str, exports_dir: Path, gpu_batch: int, scales: Scales) -> Engine:
    if runtime == "auto" and cuda_present():
        return CoquiEngine(model_dir, batch_size=gpu_batch, scales=scales)
    if runtime in ("auto", "onnx"):
        from tts_news.voice import onnx_export as vits_onnx

        try:
            files, _ = model_files(model_dir)
            return OnnxEngine(vits_onnx.ensure_export(model_dir, files, exports_dir), scales=scales)
        except VoiceUnavailable:
            raise
        except Exception as err:  # noqa: BLE001 - any failure of the fast path leaves the torch path
            log.warning("%s: ONNX Runtime cannot run this voice (%s: %s); speaking with torch", model_dir,
                        type(err).__name__, err)
    return CoquiEngine(model_dir, batch_size=gpu_batch if cuda_present() else 1, scales=scales)


def load_engine(voice: Voice, settings: Settings) -> Engine:
    """One engine per voice per process: the model loads on first use and stays."""
    if voice.engine == "espeak":
        return EspeakEngine(voice)
    engine = _coqui(voice.model_dir(settings), voice.settings.get("runtime", "auto"), settings.exports_dir,
                    settings.gpu_batch, voice.scales)
    if engine.sample_rate != voice.sample_rate:
        log.info("voice %s: model speaks at %d Hz (file says %d)", voice.name, engine.sample_rate,
                 voice.sample_rate)
    return engine
