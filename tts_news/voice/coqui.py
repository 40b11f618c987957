"""A Coqui model through torch: plain Coqui inference, on the GPU where there is one, one sentence or a
length-sorted batch per call with Coqui's English-only splitting and padding bypassed. torch is imported
only where this runtime is used (a worker on ONNX Runtime never loads it)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from tts_news.core.errors import UserError, VoiceUnavailable
from tts_news.voice.engine import NO_SCALES, WARMUP_TEXT, Engine, Scales

END_TO_END_MODELS = ("vits",)  # text in, waveform out: no vocoder stage


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
