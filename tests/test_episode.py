"""Article → episode end to end, through the CLI as an editor runs it, checked with real tools."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import SEED
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from tts_news.audio import mp3 as encode
from tts_news.audio import timeline as joins
from tts_news.core.config import Settings
from tts_news.render.renderer import Renderer
from tts_news.text.script import CHAPTER_TITLE_CHARS, short_title
from tts_news.voice.cache import SegmentCache
from tts_news.voice.catalog import get_voice


def tts_news(*args, input=None):
    return subprocess.run([sys.executable, "-m", "tts_news.cli", *args], input=input, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def seed_episode(tmp_path_factory):
    """The user's sample article, spoken by espeak-urdu through the CLI."""
    folder = tmp_path_factory.mktemp("episode")
    env_data = folder / "data"
    out = folder / "out.mp3"
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "synth", str(SEED), "-o", str(out),
                           "--voice", "espeak-urdu"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "TTS_NEWS_DATA_DIR": str(env_data),
                               "TTS_NEWS_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    return out, done


def ffprobe(path, *args):
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                                     capture_output=True, text=True, check=True).stdout)


def test_seed_article_becomes_a_mono_44k_mp3_of_over_100_seconds(seed_episode):
    out, done = seed_episode
    info = MP3(out).info
    assert info.channels == 1 and info.sample_rate == 44100 and info.length >= 100
    assert info.bitrate == 96000  # constant bitrate
    # The summary line tells the truth about the file it wrote.
    summary = re.search(r"([\d.]+) s, (-?[\d.]+) LUFS, peak (-?[\d.]+) dBTP, (\d+) chapters", done.stdout)
    assert summary, done.stdout
    seconds, lufs, _, chapters = summary.groups()
    assert abs(float(seconds) - info.length) < 0.2 and abs(float(lufs) + 16) <= 1
    paragraphs = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert int(chapters) == len(paragraphs)


def test_episode_meets_podcast_loudness(seed_episode):
    loud = encode.measure_loudness(seed_episode[0])
    assert abs(loud["integrated_lufs"] - (-16)) <= 1
    assert loud["true_peak_dbtp"] <= -1


def test_tags_and_one_chapter_per_paragraph(seed_episode):
    out, _ = seed_episode
    paragraphs = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    tags = ID3(out)
    assert str(tags["TLAN"]) == "urd"
    assert str(tags["TIT2"]) == paragraphs[0]
    assert tags.getall("APIC") and tags.getall("TALB")
    toc = tags.getall("CTOC")[0]
    assert len(toc.child_element_ids) == len(paragraphs)
    chapters = ffprobe(out, "-show_chapters")["chapters"]
    assert len(chapters) == len(paragraphs)
    # in time order, as players list them; long paragraphs cut at a word, with an ellipsis
    assert [c["tags"]["title"] for c in chapters] == [short_title(p) for p in paragraphs]
    assert all(len(c["tags"]["title"]) <= CHAPTER_TITLE_CHARS + 1 for c in chapters)


def test_transcript_and_json_chapters_sit_beside_the_mp3_and_agree(seed_episode):
    out, _ = seed_episode
    vtt = out.with_suffix(".vtt").read_text(encoding="utf-8")
    chapters = json.loads(out.with_name("out.chapters.json").read_text(encoding="utf-8"))
    assert vtt.startswith("WEBVTT")
    cues = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})\n(.+)", vtt)
    starts = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms, *_ in cues]
    assert starts == sorted(starts)
    assert chapters["version"] and [c["startTime"] for c in chapters["chapters"]][0] == 0
    # chapters tile the episode: each ends where the next starts, the last at the end of the audio
    spans = [(c["startTime"], c["endTime"]) for c in chapters["chapters"]]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert abs(spans[-1][1] - MP3(out).info.length) < 0.1
    # every chapter starts exactly where a cue starts: both come from the same sample counts
    assert all(any(abs(c["startTime"] - s) < 0.002 for s in starts) for c in chapters["chapters"])
    assert "جنیوا میں 5 گھنٹے تک" in vtt  # the transcript shows the text as written


def test_bad_input_gives_one_line_and_a_non_zero_exit(tmp_path, settings):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9".encode("latin-1"))
    for path, message in ((tmp_path / "missing.txt", "no such file"), (empty, "empty"), (latin1, "not UTF-8")):
        done = tts_news("synth", str(path), "-o", str(tmp_path / "x.mp3"), "--voice", "espeak-urdu")
        assert done.returncode != 0
        assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr


def test_voices_lists_both_voices_with_engine_installed_and_license(settings):
    done = tts_news("voices")
    assert done.returncode == 0
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert "coqui" in lines["mms-urdu"] and " no " in lines["mms-urdu"] and "CC BY-NC 4.0" in lines["mms-urdu"]
    assert "espeak" in lines["espeak-urdu"] and " yes " in lines["espeak-urdu"]


def test_tiny_coqui_voice_synthesizes_through_the_cli(settings, tiny_voice, tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("پاکستان میں 76 فیصد بارش ہوئی۔\n\nIMF نے 1 مئی 2024 کو کہا۔\n", encoding="utf-8")
    done = tts_news("synth", str(article), "-o", str(tmp_path / "a.mp3"), "--voice", tiny_voice)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr
    assert MP3(tmp_path / "a.mp3").info.length > 1


def test_characters_a_voice_cannot_say_are_warned_about_by_position(settings, tiny_voice, tmp_path):
    voice = get_voice(settings, tiny_voice)
    # ڱ (a Sindhi letter) survives normalization as a letter, but the tiny model has no such symbol.
    renderer = Renderer(voice, settings)
    episode = renderer.episode(renderer.prepare("خبر ڱ ہے۔"), tmp_path / "b.mp3")
    assert [(w.position, w.text) for w in episode.warnings] == [(4, "ڱ")]


def _render(settings: Settings, text: str, out, voice="espeak-urdu"):
    renderer = Renderer(get_voice(settings, voice), settings)
    return renderer.episode(renderer.prepare(text), out)


def test_pauses_between_sentences_and_paragraphs_have_the_set_lengths(settings, tmp_path):
    settings.sentence_pause_ms, settings.paragraph_pause_ms, settings.title_pause_ms = 400, 1000, 1500
    text = "سرخی\nپہلا جملہ ہے۔ دوسرا جملہ ہے۔\nتیسرا جملہ ہے۔\n"
    voice = get_voice(settings, "espeak-urdu")
    from tts_news.voice.segments import voice_segments

    renderer = Renderer(voice, settings)
    segments = list(voice_segments(renderer.prepare(text), voice, renderer.engine))
    timeline = joins.assemble(segments, sentence_pause=0.4, paragraph_pause=1.0, title_pause=1.5,
                              chapter_titles={})
    gaps = [round(b.start - a.end, 3) for a, b in zip(timeline.cues, timeline.cues[1:])]
    assert gaps == pytest.approx([1.5, 0.4, 1.0], abs=0.05)
    # and in the encoded file: silence runs measured on the decoded MP3
    out = _render(settings, text, tmp_path / "p.mp3")
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out.mp3), "-f", "f32le", "-ac", "1", "-ar", "44100",
                          "-"], capture_output=True, check=True).stdout
    x = np.frombuffer(pcm, np.float32)
    frame = 441
    quiet = np.sqrt(np.mean(x[: len(x) // frame * frame].reshape(-1, frame) ** 2, axis=1)) < 10 ** (-50 / 20)
    runs, run = [], 0
    for q in quiet:
        if q:
            run += 1
        elif run:
            runs.append(run * frame / 44100)
            run = 0
    long_runs = sorted(r for r in runs if r > 0.3)
    assert long_runs == pytest.approx(sorted([0.4, 1.0, 1.5]), abs=0.06)


def test_joins_never_click_and_engine_silence_is_trimmed(settings):
    """Sentences that start and stop mid-wave at full level, padded with a voice's half-second of
    silence (as Coqui pads): at the joins the signal must move no faster than inside the speech, and
    the padding must not reach the listener."""
    from tts_news.voice.segments import Segment

    voice = get_voice(settings, "espeak-urdu")
    script = Renderer(voice, settings).prepare("پہلا جملہ ہے۔ دوسرا جملہ ہے۔ تیسرا جملہ ہے۔", title="")
    rate = 16000
    t = np.arange(int(0.4 * rate)) / rate
    tone = (0.5 * np.cos(2 * np.pi * 220 * t)).astype(np.float32)  # starts and ends near its peak
    pad = np.zeros(int(0.5 * rate), dtype=np.float32)
    sentences = script.sentences

    def joined(pieces):
        return joins.assemble([Segment(0, i, len(sentences), s, piece, rate, False)
                               for i, (s, piece) in enumerate(zip(sentences, pieces))],
                              sentence_pause=0.3, paragraph_pause=0.8, title_pause=1.0, chapter_titles={})

    cut = joined([tone] * len(sentences))  # cut mid-sound: only the fade keeps the joins smooth
    jumps = np.abs(np.diff(cut.audio))
    edges = [int(round(c.start * rate)) for c in cut.cues] + [int(round(c.end * rate)) for c in cut.cues]
    at_joins = max(jumps[max(0, e - 3): e + 3].max() for e in edges)
    inside = max(jumps[int(c.start * rate) + 400: int(c.end * rate) - 400].max() for c in cut.cues)
    assert at_joins <= inside
    padded = joined([np.concatenate([pad, tone, pad])] * len(sentences))
    for cue in padded.cues:  # each cue is the tone (plus the small kept edge), not the padding
        assert cue.end - cue.start < 0.4 + 2 * joins.TRIM_KEEP_S + 0.02


def test_re_rendering_after_editing_one_paragraph_synthesizes_only_that_paragraph(settings, tmp_path):
    text = SEED.read_text(encoding="utf-8")
    first = _render(settings, text, tmp_path / "one.mp3")
    assert first.cached == 0
    paragraphs = text.split("\n\n")
    paragraphs[3] = paragraphs[3].replace("حالیہ برسوں", "گزشتہ کئی برسوں")
    edited = "\n\n".join(paragraphs)
    v = get_voice(settings, "espeak-urdu")
    before = {s.text for s in Renderer(v, settings).prepare(text).sentences}
    changed = [s for s in Renderer(v, settings).prepare(edited).sentences if s.text not in before]
    second = _render(settings, edited, tmp_path / "two.mp3")
    assert second.sentences - second.cached == len(changed) >= 1
    assert second.cached == second.sentences - len(changed)


def test_the_cache_stays_within_its_size_by_dropping_least_recently_used(tmp_path):
    cache = SegmentCache(tmp_path, max_bytes=3 * 4128)
    for i in range(3):
        cache.put(f"{i:064x}", np.zeros(1000, np.float32))
        os.utime(cache._path(f"{i:064x}"), (time.time() - 100 + i, time.time() - 100 + i))
    assert cache.get(f"{0:064x}") is not None  # touching 0 makes it the most recent
    for i in range(3, 5):  # the limit holds on every write: the least recently used go first
        cache.put(f"{i:064x}", np.zeros(1000, np.float32))
        assert sum(p.stat().st_size for p in tmp_path.glob("*/*.npy")) <= 3 * 4128
    kept = {p.stem for p in tmp_path.glob("*/*.npy")}
    assert f"{0:064x}" in kept and f"{1:064x}" not in kept and len(kept) <= 3
