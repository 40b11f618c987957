"""Test and benchmark fixtures, not runtime code: random-weight Coqui VITS voices, built on the spot —
a tiny one for tests, and one of the real MMS size and layout for benchmarks (`tts-news bench --voice mms-size`), so figures can be reproduced
where the real weights cannot be downloaded. They load through exactly the code users' voices load
through, and cost the same compute per sentence as the real ones."""

from __future__ import annotations

import json
from pathlib import Path

# Urdu letters, space and the sentence punctuation the normalizer keeps.
URDU_CHARACTERS = "آءابپتٹثجچحخدڈذرڑزژسشصضطظعغفقکگلمنںوہھئیےۂۃؤ"
PUNCTUATION = "۔،؟!؛ "


def _small_args() -> dict:
    return dict(
        hidden_channels=32, hidden_channels_ffn_text_encoder=64, num_heads_text_encoder=2,
        num_layers_text_encoder=1, num_layers_posterior_encoder=1, num_layers_flow=1,
        resblock_kernel_sizes_decoder=[3], resblock_dilation_sizes_decoder=[[1, 3, 5]],
        upsample_rates_decoder=[4, 4, 4], upsample_initial_channel_decoder=32,
        upsample_kernel_sizes_decoder=[8, 8, 8], spec_segment_size=8, init_discriminator=False,
    )


def build_tiny_vits(folder: Path, sample_rate: int = 16000, **model_args) -> Path:
    """A Coqui VITS of a few hundred thousand parameters, saved as model.pth + config.json;
    `model_args` change its VitsArgs (a wider decoder, say)."""
    import torch  # only where a voice is built: importing this module costs nothing
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.shared_configs import CharactersConfig
    from TTS.tts.configs.vits_config import VitsArgs, VitsConfig
    from TTS.tts.models.vits import Vits

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    config = VitsConfig(
        model_args=VitsArgs(**(_small_args() | model_args)),
        audio=BaseAudioConfig(sample_rate=sample_rate, hop_length=64, win_length=256, fft_size=256),
        use_phonemes=False,
        text_cleaner="basic_cleaners",
        characters=CharactersConfig(
            characters_class="TTS.tts.utils.text.characters.Graphemes",
            characters=URDU_CHARACTERS, punctuations=PUNCTUATION, pad="<PAD>", eos="<EOS>", bos="<BOS>",
            blank="<BLNK>",
        ),
        add_blank=True,
    )
    model = Vits(config)
    torch.save({"model": model.state_dict(), "config": config.to_dict()}, folder / "model.pth")
    config.save_json(str(folder / "config.json"))
    return folder


# Reverse of TTS.tts.utils.fairseq.rehash_fairseq_vits_checkpoint: Coqui names → fairseq names.
_TO_FAIRSEQ = [
    ("duration_predictor.flows.0.translation", "dp.flows.0.m"),
    ("duration_predictor.flows.0.log_scale", "dp.flows.0.logs"),
    ("duration_predictor.post_flows.0.translation", "dp.post_flows.0.m"),
    ("duration_predictor.post_flows.0.log_scale", "dp.post_flows.0.logs"),
    ("duration_predictor.post_flows.1", "dp.post_flows.1"),
    ("duration_predictor.post_flows.2", "dp.post_flows.3"),
    ("duration_predictor.post_flows.3", "dp.post_flows.5"),
    ("duration_predictor.post_flows.4", "dp.post_flows.7"),
    ("duration_predictor.flows.1", "dp.flows.1"),
    ("duration_predictor.flows.2", "dp.flows.3"),
    ("duration_predictor.flows.3", "dp.flows.5"),
    ("duration_predictor.flows.4", "dp.flows.7"),
    ("duration_predictor.", "dp."),
    ("text_encoder.", "enc_p."),
    ("waveform_decoder.", "dec."),
    ("posterior_encoder.", "enc_q."),
    ("flow.flows.1.", "flow.flows.2."),
    ("flow.flows.2.", "flow.flows.4."),
    ("flow.flows.3.", "flow.flows.6."),
]


def _fairseq_name(key: str) -> str:
    for coqui, fairseq in _TO_FAIRSEQ:
        if key.startswith(coqui):
            return fairseq + key[len(coqui):]
    return key


def mms_size_voice_file(folder: Path, model_dir: Path, name: str = "mms-size", based_on=None) -> Path:
    """A voice file for a model folder: settings as `voices/mms-urdu.toml` (or as the voice
    `based_on`), the weights at a local path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    rate, max_chars = (based_on.sample_rate, based_on.max_chars) if based_on else (16000, 250)
    runtime = based_on.settings.get("runtime", "auto") if based_on else "auto"
    path.write_text(f'name = "{name}"\nlabel = "ایم ایم ایس (بے ترتیب وزن)"\nengine = "coqui"\nlanguage = "ur"\n'
                    f'license = "random weights, for benchmarks"\nsample_rate = {rate}\nmax_chars = {max_chars}\n'
                    f'[coqui]\npath = "{model_dir}"\nruntime = "{runtime}"\n', encoding="utf-8")
    return path


def build_fairseq_mms(folder: Path, sample_rate: int = 16000) -> Path:
    """An MMS-layout folder (G_100000.pth, vocab.txt, config.json) with random weights of the real
    size: Coqui builds its default VITS for these, so the checkpoint must have every parameter."""
    import torch
    from TTS.tts.configs.vits_config import VitsConfig
    from TTS.tts.models.vits import Vits

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["_", *PUNCTUATION.replace(" ", ""), " ", *URDU_CHARACTERS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (folder / "config.json").write_text(json.dumps({
        "data": {"sampling_rate": sample_rate, "training_files": "data/train.ltr", "add_blank": True},
    }), encoding="utf-8")
    config = VitsConfig()
    model = Vits(config)
    model.text_encoder.emb = torch.nn.Embedding(len(vocab), config.model_args.hidden_channels)
    state = {_fairseq_name(k): v for k, v in model.state_dict().items() if not k.startswith("disc.")}
    torch.save({"model": state}, folder / "G_100000.pth")
    return folder
