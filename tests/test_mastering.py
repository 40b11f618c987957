"""Mastering block by block: the same loudness, limiting and samples as working on the whole signal,
and podcast loudness for voices that leave rumble, DC and energy at their Nyquist frequency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soxr
from conftest import SEED

from tts_news.audio import mp3 as encode
from tts_news.audio import timeline as joins
from tts_news.audio.mastering import OUTPUT_RATE, LoudnessMeter, Master, SourceMeter, limit_true_peak, limited


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
    from tts_news.voice.catalog import Voice
    from tts_news.voice.espeak import EspeakEngine

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


def test_measuring_while_joining_gives_the_figures_of_the_joined_episode():
    """The first pass made sentence by sentence (on its own thread, while the voice speaks) is the
    pass over the finished timeline: the same gain, whatever the pieces and pauses."""
    rate = 16000
    parts = [(gap, speechlike(seconds, rate, seed)) for seed, (gap, seconds) in
             enumerate([(0, 3.1), (4800, 0.7), (12800, 5.2), (4800, 0.05), (0, 2.3)])]
    timeline = joins.Timeline(parts, rate)
    meter = SourceMeter(rate)
    for gap, piece in parts:
        meter.listen(gap, piece)
    joined = Master(timeline.blocks, rate, lufs=-16, true_peak=-1.5, measured=meter)
    after = Master(timeline.blocks, rate, lufs=-16, true_peak=-1.5)
    joined.measure()
    after.measure()
    assert joined.source_lufs == pytest.approx(after.source_lufs, abs=0.01)
    assert joined.gain_db == pytest.approx(after.gain_db, abs=0.05)
    assert np.isfinite(joined.source_lufs) and joined.gain_db != 0


def test_with_a_first_pass_made_while_joining_the_finished_episode_is_not_read_again_to_measure_it():
    """The point of measuring while joining: after the last sentence, mastering goes straight to the
    delivery pass. (A gentle tone needs no limiter prediction, which would read the source.)"""
    rate = 16000
    t = np.arange(int(6 * rate)) / rate
    tone = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    timeline = joins.Timeline([(0, tone[: 3 * rate]), (4800, tone[3 * rate:])], rate)
    reads: list[int] = []

    def source():
        reads.append(1)
        return timeline.blocks()

    meter = SourceMeter(rate)
    for gap, piece in timeline.parts:
        meter.listen(gap, piece)
    Master(source, rate, lufs=-16, true_peak=-1.5, measured=meter).measure()
    assert reads == []
    Master(source, rate, lufs=-16, true_peak=-1.5).measure()  # without it, the source is read
    assert reads == [1]


def test_a_started_encoder_that_never_runs_leaves_nothing(tmp_path):
    encoder = encode.Mp3Encoder(tmp_path / "never.mp3", bitrate="96k", cover=None)
    assert encoder.fifo.exists() and encoder.path.exists()
    encoder.close()  # the render failed before the end: ffmpeg stopped, its files gone
    assert list(tmp_path.iterdir()) == []


def test_a_started_encoder_writes_the_episode(tmp_path):
    rate = 16000
    timeline = joins.Timeline([(0, speechlike(4, rate))], rate, chapters=[joins.Chapter(0.0, 4.0, "پہلا")])
    out = tmp_path / "e.mp3"
    encoder = encode.Mp3Encoder(out, bitrate="96k", cover=None)
    try:
        encode.encode_mp3(timeline, encoder.path, lufs=-16, true_peak=-1.5, bitrate="96k",
                          tags=encode.Tags(title="خبر", artist="a", album="b"), encoder=encoder)
        encoder.put_in_place(out)
    finally:
        encoder.close()
    from mutagen.id3 import ID3

    tags = ID3(out)
    assert str(tags["TIT2"]) == "خبر" and [str(c.sub_frames["TIT2"]) for c in tags.getall("CHAP")] == ["پہلا"]
    assert encode.measure_loudness(out)["integrated_lufs"] == pytest.approx(-16, abs=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.mp3"]  # no FIFO or temporary file left


def test_a_started_encoder_that_fails_says_why_and_leaves_nothing(tmp_path):
    from tts_news.core.errors import ToolFailed

    encoder = encode.Mp3Encoder(tmp_path / "bad.mp3", bitrate="not-a-bitrate", cover=None)
    try:
        with pytest.raises(ToolFailed, match="ffmpeg failed: .*not-a-bitrate"):
            encoder.encode(";FFMETADATA1\n", [np.zeros(4410, np.float32)])
    finally:
        encoder.close()
    assert list(tmp_path.iterdir()) == []
