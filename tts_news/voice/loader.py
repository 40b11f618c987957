"""Which engine speaks a voice here, loaded once per voice per process and kept: espeak-ng; for a Coqui
voice, torch on a GPU, else ONNX Runtime on the CPU (exported on first use), torch when that fails."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from tts_news.core.config import Settings
from tts_news.core.errors import VoiceUnavailable
from tts_news.voice import onnx_export
from tts_news.voice.catalog import Voice
from tts_news.voice.coqui import CoquiEngine, model_files
from tts_news.voice.engine import Engine, Scales
from tts_news.voice.espeak import EspeakEngine
from tts_news.voice.onnx_runtime import OnnxEngine

log = logging.getLogger(__name__)

NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")  # present where CUDA can be; checked before importing torch


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
        try:
            files, _ = model_files(model_dir)
            return OnnxEngine(onnx_export.ensure_export(model_dir, files, exports_dir), scales=scales)
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
