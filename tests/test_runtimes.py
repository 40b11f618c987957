"""Coqui voices through ONNX Runtime and through torch: the same tokens, the same audio, one export
per checkpoint, a logged fall-back, and batches that agree with one sentence at a time."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
from conftest import SEED

from tts_news.render.newsroom import prepare
from tts_news.voice import onnx_export as vits_onnx
from tts_news.voice import onnx_runtime
from tts_news.voice.catalog import get_voice
from tts_news.voice.coqui import CoquiEngine, load_coqui_model, model_files
from tts_news.voice.loader import load_engine
from tts_news.voice.onnx_runtime import OnnxEngine
from tts_news.voice.segments import voice_segments

TEXTS = ["سلام", "جنیوا میں امریکی اور روسی صدور", "ملاقات کے بعد دونوں ممالک اپنے سفیروں کو دوبارہ تعینات کرنے پر "
         "رضامند ہوگئے۔", "خبر"]
QUIET = {"noise_scale": 0, "noise_scale_dp": 0}  # no sampling noise: the same text always sounds the same


def voice_file(settings, name, model_dir, **coqui) -> str:
    settings.user_voices_dir.mkdir(parents=True, exist_ok=True)
    extra = "".join(f"{key} = {json.dumps(value)}\n" for key, value in coqui.items())
    (settings.user_voices_dir / f"{name}.toml").write_text(
        f'name = "{name}"\nlabel = "آواز"\nengine = "coqui"\nlanguage = "ur"\nlicense = "test"\n'
        f'sample_rate = 16000\nmax_chars = 120\n[coqui]\npath = "{model_dir}"\n{extra}', encoding="utf-8")
    return name


def test_a_coqui_voice_speaks_through_onnx_runtime_by_default_exported_once(settings, tiny_vits):
    voice = get_voice(settings, voice_file(settings, "tiny", tiny_vits))
    engine = load_engine(voice, settings)
    assert isinstance(engine, OnnxEngine) and engine is load_engine(voice, settings)
    exports = list(settings.exports_dir.iterdir())
    assert [sorted(p.name for p in e.iterdir()) for e in exports] == [["model.onnx", "tokenizer.json"]]
    assert len(engine.speak(TEXTS[2])) > 3 * len(engine.speak(TEXTS[0]))
    assert "۔" in engine.vocabulary and "a" not in engine.vocabulary
    # the same checkpoint again: the cached export is used as it is
    before = (exports[0] / "model.onnx").stat().st_mtime_ns
    files, _ = model_files(tiny_vits)
    assert vits_onnx.ensure_export(tiny_vits, files, settings.exports_dir) == exports[0]
    assert (exports[0] / "model.onnx").stat().st_mtime_ns == before


def test_a_changed_checkpoint_gets_a_fresh_export(settings, tiny_vits, tmp_path):
    model = shutil.copytree(tiny_vits, tmp_path / "model")
    files, _ = model_files(model)
    first = vits_onnx.ensure_export(model, files, settings.exports_dir)
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    config["length_scale"] = 1.2
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    second = vits_onnx.ensure_export(model, files, settings.exports_dir)
    assert second != first and (second / "model.onnx").is_file()


def test_onnx_and_torch_give_the_same_audio_with_noise_off(settings, tiny_vits):
    onnx = load_engine(get_voice(settings, voice_file(settings, "fast", tiny_vits, runtime="onnx", **QUIET)), settings)
    torch = load_engine(get_voice(settings, voice_file(settings, "plain", tiny_vits, runtime="torch", **QUIET)),
                        settings)
    assert (onnx.runtime, torch.runtime) == ("onnx", "torch")
    assert onnx.vocabulary == torch.vocabulary and onnx.sample_rate == torch.sample_rate
    for text in TEXTS:
        a, b = onnx.speak(text), torch.speak(text)
        assert len(a) == len(b) > 0
        assert np.abs(a - b).max() < 1e-4 < np.abs(a).max()


def test_the_onnx_tokenizer_gives_coqui_s_own_ids(tiny_vits, fairseq_mms):
    for folder in (tiny_vits, fairseq_mms):
        model = load_coqui_model(folder)
        tokenizer = onnx_runtime.VitsTokenizer(vits_onnx.tokenizer_spec(model))
        for text in [*TEXTS, "  دو   خالی  جگہیں ", "IMF ڱ x"]:
            assert tokenizer.ids(text) == model.tokenizer.text_to_ids(text), (folder.name, text)


def test_a_voice_onnx_runtime_cannot_run_falls_back_to_torch_with_one_logged_reason(settings, tiny_vits, tmp_path,
                                                                                     caplog):
    model = shutil.copytree(tiny_vits, tmp_path / "english-cleaned")
    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    config["text_cleaner"] = "english_cleaners"  # Coqui cleans with it; the torch-free tokenizer cannot
    (model / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (model / "model.pth").write_bytes((tiny_vits / "model.pth").read_bytes())
    with caplog.at_level(logging.WARNING, logger="tts_news.voice.loader"):
        engine = load_engine(get_voice(settings, voice_file(settings, "cleaned", model, runtime="onnx")), settings)
    assert engine.runtime == "torch" and len(engine.speak(TEXTS[0])) > 0
    reasons = [r.getMessage() for r in caplog.records if r.name == "tts_news.voice.loader"]
    assert len(reasons) == 1 and "english_cleaners" in reasons[0] and "torch" in reasons[0]
    assert not list(settings.exports_dir.iterdir())  # nothing half-made is left to be loaded later


def test_an_episode_through_onnx_runtime_never_imports_torch(settings, tiny_vits, tmp_path):
    voice = voice_file(settings, "tiny", tiny_vits)
    load_engine(get_voice(settings, voice), settings)  # the export, made once (in a child process)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tts_news.core.config import Settings\n"
        "from tts_news.render.renderer import Renderer\n"
        "from tts_news.voice.catalog import get_voice\n"
        "s = Settings.from_env(); r = Renderer(get_voice(s, 'tiny'), s)\n"
        f"e = r.episode(r.prepare('خبر ہے۔ دوسری خبر۔'), Path({str(tmp_path / 'e.mp3')!r}))\n"
        "print(e.duration > 0, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TTS_NEWS_DATA_DIR": str(settings.data_dir)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]


def test_batches_agree_with_one_sentence_at_a_time(tiny_vits):
    engine = CoquiEngine(tiny_vits, batch_size=4, scales=(0.0, None, 0.0))
    alone = [engine.speak(text) for text in TEXTS]
    together = engine.speak_batch(TEXTS)
    edge = 4 * engine._hop  # the decoder's last frames see the batch's padding instead of silence
    for a, b in zip(alone, together):
        assert len(a) == len(b)
        assert np.abs(a[:-edge] - b[:-edge]).max() < 1e-4
        assert np.corrcoef(a, b)[0, 1] > 0.95


def test_a_batching_engine_yields_sentences_in_article_order(settings, tiny_vits):
    voice = get_voice(settings, voice_file(settings, "tiny", tiny_vits, **QUIET))
    script = prepare(SEED.read_text(encoding="utf-8"), settings, max_chars=voice.max_chars)
    one = CoquiEngine(tiny_vits, batch_size=1, scales=(0.0, None, 0.0))
    batched = CoquiEngine(tiny_vits, batch_size=5, scales=(0.0, None, 0.0))
    singles = list(voice_segments(script, voice, one))
    batches = list(voice_segments(script, voice, batched))
    assert [s.index for s in batches] == list(range(len(script.to_say)))
    assert [len(s.audio) for s in batches] == [len(s.audio) for s in singles]
    assert all(s.seconds > 0 and not s.cached for s in batches)
