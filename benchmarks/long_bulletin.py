"""Peak memory of a long bulletin with a neural voice of the real MMS size (random weights).

Real articles from the shared corpus are put together until the bulletin is about as long as asked
(30 minutes by default), the voice is exported to ONNX once, and the bulletin is rendered in a fresh
process, whose own peak resident memory is reported with the duration, the render time and the
MP3's loudness as ffmpeg measures it. Figures only.

Usage: .venv/bin/python benchmarks/long_bulletin.py [--minutes 30] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tts_news.cli.bench import DEFAULT_CORPUS, SEED, peak_rss_mb  # noqa: E402
from tts_news.core.config import Settings  # noqa: E402

SEED_SECONDS = 150  # what the MMS-size voice makes of the seed article, to size the bulletin


def render(settings: Settings, texts: list[str], out: str) -> dict:
    from tts_news.render.renderer import Renderer
    from tts_news.voice.catalog import get_voice

    renderer = Renderer(get_voice(settings, "mms-size"), settings)
    stories = [renderer.prepare(text) for text in texts]
    started = time.perf_counter()
    episode = renderer.bulletin(stories, Path(out), day=date(2026, 11, 29))
    return {"runtime": renderer.engine.runtime, "stories": len(stories), "audio_min": round(episode.duration / 60, 1),
            "render_s": round(time.perf_counter() - started, 1),
            "synthesis_s": round(episode.synthesis_seconds, 1), "chapters": episode.chapters,
            "peak_rss_mb": peak_rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()

    from tts_news.audio import mp3 as encode
    from tts_news.testing.random_voices import build_fairseq_mms, mms_size_voice_file
    from tts_news.voice.catalog import get_voice
    from tts_news.voice.loader import load_engine

    budget = len(SEED.read_text(encoding="utf-8")) * args.minutes * 60 / SEED_SECONDS
    texts, chars = [], 0
    for path in sorted(args.corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8").strip()
        if chars >= budget:
            break
        texts.append(text)
        chars += len(text)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(data_dir=Path(tmp) / "data", offline=True)
        model = build_fairseq_mms(Path(tmp) / "tts_models--urd-script_arabic--fairseq--vits")
        mms_size_voice_file(settings.user_voices_dir, model)
        load_engine(get_voice(settings, "mms-size"), settings)  # the ONNX export, once, outside the measure
        out = Path(tmp) / "bulletin.mp3"
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            figures = pool.submit(render, settings, texts, str(out)).result()
        loud = encode.measure_loudness(out)
    figures |= {"characters": chars, "loudness_lufs": loud["integrated_lufs"],
                "true_peak_dbtp": loud["true_peak_dbtp"]}
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
