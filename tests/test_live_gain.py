"""A live stream is levelled from its first sentence with the gain the same voice needed in its last
finished episode here: it is remembered per voice in the data dir, and a broken record is ignored."""

from __future__ import annotations

import numpy as np
import pytest

from tts_news.audio import mp3
from tts_news.audio.mastering import Leveller
from tts_news.jobs.streams import Stream
from tts_news.render.gains import GAINS_FILE, calibrated_gain, remember_gain
from tts_news.render.renderer import Renderer
from tts_news.voice.catalog import get_voice

ARTICLE = "سرخی\nکراچی میں آج دن بھر تیز بارش ہوتی رہی۔ شہری گھروں میں رہے۔\nمحکمہ موسمیات نے کل بھی بارش کی پیش گوئی کی ہے۔"


def test_a_finished_episode_remembers_its_voice_s_gain(settings, tmp_path):
    assert calibrated_gain(settings.data_dir, "espeak-urdu") is None  # never rendered here
    renderer = Renderer(get_voice(settings, "espeak-urdu"), settings)
    episode = renderer.episode(renderer.prepare(ARTICLE), tmp_path / "a.mp3")
    assert calibrated_gain(settings.data_dir, "espeak-urdu") == pytest.approx(episode.gain_db, abs=0.001)
    assert calibrated_gain(settings.data_dir, "mms-urdu") is None  # per voice


def test_a_broken_gains_file_is_ignored_and_mended(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / GAINS_FILE).write_text("{not json", encoding="utf-8")
    assert calibrated_gain(settings.data_dir, "espeak-urdu") is None
    remember_gain(settings.data_dir, "espeak-urdu", 7.25)
    remember_gain(settings.data_dir, "other", -3.0)
    assert calibrated_gain(settings.data_dir, "espeak-urdu") == 7.25
    assert calibrated_gain(settings.data_dir, "other") == -3.0


def test_a_known_gain_levels_the_first_piece_instead_of_guessing():
    rate = 16000
    t = np.arange(rate) / rate
    quiet = (0.01 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    known = Leveller(rate, lufs=-16, true_peak=-1.5, gain_db=-6.0).add(0, quiet)
    unity = Leveller(rate, lufs=-16, true_peak=-1.5, gain_db=0.0).add(0, quiet)
    guessed = Leveller(rate, lufs=-16, true_peak=-1.5).add(0, quiet)  # what its own loudness asks: far louder
    rms = [float(np.sqrt(np.mean(x[rate // 10: -rate // 10] ** 2))) for x in (known, unity, guessed)]
    assert 20 * np.log10(rms[0] / rms[1]) == pytest.approx(-6.0, abs=0.1)
    assert 20 * np.log10(rms[2] / rms[1]) > 20


def test_the_live_stream_of_a_job_uses_the_remembered_gain(settings, tmp_path):
    """Told that this voice needs 10 dB less, the next live stream is 10 dB quieter (both well under
    the limiter, which would otherwise take its share)."""
    renderer = Renderer(get_voice(settings, "espeak-urdu"), settings)
    first = renderer.episode(renderer.prepare(ARTICLE), tmp_path / "first.mp3")
    heard = {}
    for drop in (20, 30):
        remember_gain(settings.data_dir, "espeak-urdu", first.gain_db - drop)
        live = Stream(tmp_path / f"live-{drop}.mp3")
        episode = renderer.episode(renderer.prepare(ARTICLE), tmp_path / f"e-{drop}.mp3", live=live)
        heard[drop] = mp3.measure_loudness(live.path)["integrated_lufs"]
        assert live.outcome()["seconds"] == pytest.approx(episode.duration, abs=0.1)
        assert live.info() == {"voice": "espeak-urdu"}
    assert heard[20] - heard[30] == pytest.approx(10, abs=1)
    assert heard[20] < first.loudness_lufs - 5  # the episode itself is mastered as a whole, to the target
