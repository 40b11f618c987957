"""Mastering block by block: the same loudness, limiting and samples as working on the whole signal,
and podcast loudness for voices that leave rumble, DC and energy at their Nyquist frequency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soxr
from conftest import SEED

from tts_news import encode, joins
from tts_news.mastering import OUTPUT_RATE, LoudnessMeter, Master, limit_true_peak, limited


def speechlike(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Noise shaped into syllables and words, with sharp onsets: a crest factor like speech's."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2 * (np.sin(2 * np.pi * 0.4 * t) > -0.3)
    return (0.2 * rng.standard_normal(len(t)) * envelope).astype(np.float32)


def in_blocks(x: np.ndarray, seed: int = 1):
    rng = np.random.default_rng(seed)
    pos = 0
    while pos < len(x):
        n = int(rng.integers(1, 200_000))
        yield x[pos:pos + n]
        pos += n


def test_the_streaming_meter_measures_as_pyloudnorm_whatever_the_blocks():
    x = speechlike(30, OUTPUT_RATE)
    meter = LoudnessMeter(OUTPUT_RATE)
    for block in in_blocks(x):
        meter.add(block)
    assert meter.integrated() == pytest.approx(pyloudnorm.Meter(OUTPUT_RATE).integrated_loudness(x), abs=0.02)
    silent = LoudnessMeter(OUTPUT_RATE)
    silent.add(np.zeros(OUTPUT_RATE, np.float32))
    assert silent.integrated() == float("-inf")


def test_limiting_block_by_block_equals_limiting_the_whole_signal():
    x = 4 * speechlike(40, OUTPUT_RATE, seed=2)  # peaks far above the ceiling
    whole = limit_true_peak(x, -1.5)
    pieces = np.concatenate(list(limited(in_blocks(x), OUTPUT_RATE, 1.0, -1.5, LoudnessMeter(OUTPUT_RATE))))
    assert len(pieces) == len(x)
    assert np.abs(pieces - whole).max() < 1e-4
    assert np.abs(whole).max() <= 10 ** (-1.5 / 20) * (1 + 1e-5)


def test_the_timeline_gives_its_samples_in_blocks_exactly():
    rng = np.random.default_rng(3)
    parts = [(int(rng.integers(0, 5000)), rng.standard_normal(int(rng.integers(1, 30000))).astype(np.float32))
             for _ in range(40)]
    timeline = joins.Timeline(parts, 16000)
    joined = np.concatenate([np.concatenate([np.zeros(gap, np.float32), piece]) for gap, piece in parts])
    for size in (1, 777, 16000, 10**7):
        got = list(timeline.blocks(size))
        assert all(len(b) == size for b in got[:-1])
        assert np.array_equal(np.concatenate(got), joined)
    assert timeline.samples == len(joined)


@pytest.fixture(scope="module")
def espeak_speech() -> np.ndarray:
    """Half a minute of real speech (espeak-ng, 22.05 kHz)."""
    from tts_news.engine import EspeakEngine
    from tts_news.voices import Voice

    voice = Voice("espeak-urdu", "ای اسپیک", "espeak", "ur", "GPL", 22050, source=Path("x.toml"),
                  settings={"voice": "ur"})
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()][:4]
    return np.concatenate([EspeakEngine(voice).speak(line) for line in lines])


@pytest.mark.parametrize("rate", [16000, 22050])
def test_rumble_dc_and_nyquist_energy_still_land_at_podcast_loudness(rate, espeak_speech, tmp_path):
    """What random and poorly trained neural voices leave: the gain must be set on what is heard."""
    x = soxr.resample(espeak_speech, 22050, rate).astype(np.float32)
    t = np.arange(len(x)) / rate
    x = x + 0.05 + 0.3 * np.sin(2 * np.pi * 30 * t) + 0.1 * np.sin(2 * np.pi * 0.49 * rate * t)
    timeline = joins.Timeline([(0, x.astype(np.float32))], rate)
    out = tmp_path / "loud.mp3"
    report = encode.encode_mp3(timeline, out, lufs=-16, true_peak=-1.5, bitrate="96k",
                              tags=encode.Tags(title="t", artist="a", album="b"))
    measured = encode.measure_loudness(out)
    assert measured["integrated_lufs"] == pytest.approx(-16, abs=1)
    assert measured["true_peak_dbtp"] <= -1
    assert report["integrated_lufs"] == pytest.approx(measured["integrated_lufs"], abs=0.5)


def test_a_heavily_limited_voice_still_reaches_the_target(espeak_speech):
    """Clicks far above the speech: the limiter takes dBs; the prediction makes them up, no re-encode."""
    x = espeak_speech.copy()
    x[::2205] = 0.9  # a click every 100 ms
    master = Master(joins.Timeline([(0, x)], 22050).blocks, 22050, lufs=-16, true_peak=-1.5)
    for _ in master.blocks():
        pass
    assert master.loudness == pytest.approx(-16, abs=encode.LOUDNESS_TOLERANCE)
    assert master.true_peak <= -1.5 + 1e-3


def test_a_voice_too_peaky_for_the_target_is_limited_not_squashed():
    """Noise bursts whose every syllable the limiter holds at the ceiling: more gain would only
    distort, so the gain stops rising (a few dB of limiting), short of the target."""
    x = speechlike(60, 16000, seed=4)
    master = Master(joins.Timeline([(0, x)], 16000).blocks, 16000, lufs=-10, true_peak=-1.5)
    master.measure()
    for _ in master.blocks():
        pass
    assert master.gain_db - (-10 - master.source_lufs) < 12
    assert master.true_peak <= -1.5 + 1e-3
