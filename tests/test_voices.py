"""Voice files, engines (real Coqui and espeak-ng) and getting the neural voice's weights."""

from __future__ import annotations

import re

import pytest
from conftest import PROJECT_ROOT, tarball, write_voice

from tts_news.core.errors import UserError, VoiceUnavailable
from tts_news.voice.catalog import all_voices, get_voice, load_voice_file
from tts_news.voice.coqui import load_coqui_model
from tts_news.voice.espeak import EspeakEngine
from tts_news.voice.install import choose_voice, install_voice, pull_voice
from tts_news.voice.loader import load_engine


def test_shipped_voices_are_mms_urdu_and_espeak_urdu(settings):
    voices = all_voices(settings)
    assert voices["mms-urdu"].engine == "coqui"
    assert voices["mms-urdu"].model_name == "tts_models/urd-script_arabic/fairseq/vits"
    assert voices["mms-urdu"].license == "CC BY-NC 4.0"
    assert voices["espeak-urdu"].engine == "espeak"
    assert not voices["mms-urdu"].is_installed(settings)


COQUI_HEAD = 'name = "x"\nlabel = "x"\nengine = "coqui"\nlanguage = "ur"\nlicense = "x"\nsample_rate = 16000\n'


@pytest.mark.parametrize(("body", "message"), [
    ('name = "x"', "missing 'label'"),
    ('name = "x"\nlabel = "x"\nengine = "festival"\nlanguage = "ur"\nlicense = "x"\nsample_rate = 1', "engine must be"),
    ('name = "x"\nlabel = "x"\nengine = "coqui"\nlanguage = "ur"\nlicense = "x"\nsample_rate = 1', "[coqui] needs"),
    ('name = "x"\nlabel = "x"\nengine = "espeak"\nlanguage = "ur"\nlicense = "x"\nsample_rate = "fast"', "must be a int"),
    ("name = ", "not valid TOML"),
    (COQUI_HEAD + '[coqui]\npath = "m"\nruntime = "gpu"', "runtime must be one of auto, onnx, torch"),
    (COQUI_HEAD + '[coqui]\npath = "m"\nlength_scale = 0', "length_scale must be a number above 0"),
    (COQUI_HEAD + '[coqui]\npath = "m"\nnoise_scale = true', "noise_scale must be a number of at least 0"),
    (COQUI_HEAD + '[coqui]\npath = "m"\nnoise_scale_dp = -0.5', "noise_scale_dp must be a number of at least 0"),
    (COQUI_HEAD + '[coqui]\nmodel = "tts_models/../../etc"', "model must be a Coqui model name"),
    (COQUI_HEAD + "coqui = 3", "[coqui] must be a table"),
    (COQUI_HEAD.replace('"coqui"', '"espeak"') + "[espeak]\nvoice = 1", "[espeak] voice must be a string"),
    (COQUI_HEAD + 'max_chars = 19\n[coqui]\npath = "m"', "'max_chars' must be a whole number of at least 20"),
    (COQUI_HEAD + 'max_chars = 40.0\n[coqui]\npath = "m"', "'max_chars' must be a whole number of at least 20"),
    (COQUI_HEAD.replace("16000", "0") + '[coqui]\npath = "m"', "'sample_rate' must be positive"),
    (COQUI_HEAD.replace("16000", "true") + '[coqui]\npath = "m"', "'sample_rate' must be a int, not bool"),
])
def test_a_bad_voice_file_is_reported_by_name_with_what_is_wrong(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_voice_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_espeak_speaks_urdu_for_real(settings):
    engine = load_engine(get_voice(settings, "espeak-urdu"), settings)
    assert isinstance(engine, EspeakEngine)
    short, long = engine.speak("سلام"), engine.speak("جنیوا میں پانچ گھنٹے تک ملاقات ہوئی")
    assert short.dtype.name == "float32" and 0.05 < abs(long).max() <= 1.0
    assert len(long) > 2 * len(short)


def test_tiny_coqui_voice_speaks_longer_for_longer_text(settings, tiny_voice):
    voice = get_voice(settings, tiny_voice)
    engine = load_engine(voice, settings)
    assert engine.runtime == "onnx" and engine is load_engine(voice, settings)  # loaded once
    short = engine.speak("سلام")
    long = engine.speak("جنیوا میں امریکی اور روسی صدور میں ہونے والی ملاقات کے بعد")
    assert short.dtype.name == "float32" and len(long) > 3 * len(short)
    assert "۔" in engine.vocabulary and "a" not in engine.vocabulary


def test_mms_fairseq_folder_loads_through_coqui_and_speaks(settings, fairseq_mms):
    write_voice(settings.user_voices_dir, "mms-local", fairseq_mms)
    assert sum(p.numel() for p in load_coqui_model(fairseq_mms).parameters()) > 30_000_000  # the real MMS size
    engine = load_engine(get_voice(settings, "mms-local"), settings)  # exported, then run by ONNX Runtime
    assert engine.sample_rate == 16000 and engine.runtime == "onnx"
    assert len(engine.speak("سلام دنیا")) > 0


def test_voices_pull_downloads_and_installs_atomically(settings, fairseq_mms, file_server):
    file_server.routes["/urd-script_arabic.tar.gz"] = tarball(fairseq_mms, "urd-script_arabic")
    settings.download_base_url = file_server.url
    settings.offline = False
    settings.fetch_allow_private = True  # the file server is on 127.0.0.1
    voice = get_voice(settings, "mms-urdu")
    seen = []
    path = pull_voice(voice, settings, progress=lambda done, total: seen.append((done, total)))
    assert voice.is_installed(settings) and "fairseq" in str(path)
    assert seen[-1][0] == seen[-1][1]
    assert load_engine(voice, settings).runtime == "onnx"


def test_an_interrupted_download_never_looks_installed(settings, tiny_vits, file_server):
    file_server.routes["/urd-script_arabic.tar.gz"] = tarball(tiny_vits, "urd-script_arabic")
    file_server.truncate.add("/urd-script_arabic.tar.gz")
    settings.download_base_url = file_server.url
    settings.offline = False
    settings.fetch_allow_private = True  # the file server is on 127.0.0.1
    voice = get_voice(settings, "mms-urdu")
    with pytest.raises(VoiceUnavailable):
        pull_voice(voice, settings)
    assert not voice.is_installed(settings)
    assert not [p for p in settings.models_dir.rglob("*") if p.is_file()]  # no partial files left


def test_voices_install_from_a_local_archive(settings, tiny_vits, tmp_path):
    archive = tmp_path / "mms.tar.gz"
    archive.write_bytes(tarball(tiny_vits, "urd-script_arabic"))
    voice = get_voice(settings, "mms-urdu")
    install_voice(voice, archive, settings)
    assert voice.is_installed(settings)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    with pytest.raises(UserError, match="not a readable"):
        install_voice(voice, bad, settings)


def test_default_voice_falls_back_to_espeak_and_says_so(settings):
    notices = []
    voice = choose_voice(settings, None, notice=notices.append)
    assert voice.name == "espeak-urdu"
    assert "mms-urdu" in notices[0] and "espeak-urdu" in notices[0]


def test_an_explicitly_chosen_missing_voice_is_an_error(settings, tiny_vits, tmp_path):
    write_voice(settings.user_voices_dir, "gone", tmp_path / "nowhere")
    with pytest.raises(VoiceUnavailable):
        choose_voice(settings, "gone")


def test_a_voice_folder_lands_whole_or_not_at_all(tmp_path):
    from tts_news.core.files import staged_dir

    target = tmp_path / "models" / "voice"
    with staged_dir(target) as staging:
        (staging / "config.json").write_text("{}")
        assert not target.exists()  # not under its name until it is complete
    assert (target / "config.json").is_file()
    with pytest.raises(RuntimeError), staged_dir(target, replace=True) as staging:
        (staging / "half.pth").write_bytes(b"x")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in target.iterdir()) == ["config.json"]  # the old one stays
    with staged_dir(target, replace=True) as staging:
        (staging / "model.pth").write_bytes(b"new")
    assert sorted(p.name for p in target.iterdir()) == ["model.pth"]  # replaced whole
    assert [p.name for p in target.parent.iterdir()] == ["voice"]  # no staging or old folder left


def test_a_concurrent_writer_that_finishes_first_wins_and_the_other_gives_way(tmp_path):
    from tts_news.core.files import staged_dir

    target = tmp_path / "onnx" / "key"
    with staged_dir(target) as mine:
        (mine / "model.onnx").write_bytes(b"mine")
        with staged_dir(target) as theirs:  # another worker's export, finished while mine runs
            (theirs / "model.onnx").write_bytes(b"theirs")
    assert (target / "model.onnx").read_bytes() == b"theirs"
    assert [p.name for p in target.parent.iterdir()] == ["key"]


def test_staged_folders_are_made_by_the_one_helper():
    by_hand = [str(p) for p in (PROJECT_ROOT / "tts_news").rglob("*.py")
               if p.name != "files.py" and re.search(r"mkdtemp\(|\.rename\(|os\.rename", p.read_text())]
    assert by_hand == []
