"""`tts-news bench`: stage timings and real-time factors, printed as figures (never asserted in tests).

Last line is JSON with `rtf`, `overhead_ratio`, `rerender_speedup` (and the normalizer's figures).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from tts_news.config import PROJECT_ROOT, Settings

SEED = PROJECT_ROOT / "seeds" / "geneva-summit.ur.txt"
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "bend-the-truth-real"


def bench_normalizer(corpus: Path | None, repeats: int = 20) -> dict:
    from tts_news.text.normalize import Normalizer, is_sayable

    normalizer = Normalizer()
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    normalizer.normalize(lines[0])  # warm regex caches
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for line in lines:
            normalizer.normalize(line)
        times.append(time.perf_counter() - t)
    result = {"seed_normalize_ms": round(1000 * statistics.median(times), 2)}
    if corpus and corpus.is_dir():
        paragraphs = [p for f in sorted(corpus.glob("*.txt")) for p in f.read_text(encoding="utf-8").splitlines()
                      if p.strip()]
        size = sum(len(p.encode("utf-8")) for p in paragraphs)
        t = time.perf_counter()
        outs = [normalizer.normalize(p).spoken for p in paragraphs]
        elapsed = time.perf_counter() - t
        result |= {
            "corpus_paragraphs": len(paragraphs),
            "corpus_kb_per_s": round(size / 1000 / elapsed, 1),
            "corpus_unsayable_left": sum(1 for o in outs for ch in o if not is_sayable(ch)),
        }
    return result


def bench_render(settings: Settings, voice_name: str) -> dict:
    """First render of the seed article, then a re-render after editing one paragraph."""
    from tts_news.engine import load_engine
    from tts_news.episode import prepare, render
    from tts_news.voices import get_voice

    voice = get_voice(settings, voice_name)
    text = SEED.read_text(encoding="utf-8")
    t = time.perf_counter()
    engine = load_engine(voice, settings)
    load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        settings.data_dir = Path(tmp) / "data"  # a cold cache
        t = time.perf_counter()
        script = prepare(text, voice, settings)
        prepare_s = time.perf_counter() - t
        first = render(script, voice, Path(tmp) / "first.mp3", settings, engine=engine)
        edited = text.replace("حالیہ برسوں", "گزشتہ کئی برسوں", 1)
        second = render(prepare(edited, voice, settings), voice, Path(tmp) / "second.mp3", settings, engine=engine)
    return {
        "voice": voice.name,
        "model_load_s": round(load_s, 2),
        "prepare_s": round(prepare_s, 3),
        "first_render_s": round(first.seconds, 2),
        "rerender_s": round(second.seconds, 2),
        "rerender_new_sentences": second.sentences - second.cached,
        "audio_s": round(first.duration, 1),
        # whole-pipeline real-time factor: seconds of work per second of audio
        "rtf": round(first.seconds / first.duration, 4),
        # share of a render that is not synthesis: a fully cached render is all overhead
        "overhead_ratio": round(second.seconds / first.seconds, 3),
        "rerender_speedup": round(first.seconds / second.seconds, 2),
    }


def run(args, settings: Settings) -> int:
    corpus = Path(args.corpus) if args.corpus else DEFAULT_CORPUS
    figures = bench_normalizer(corpus)
    if not args.json:
        for key, value in figures.items():
            print(f"{key:28s} {value}")
    if not args.normalizer_only:
        render_figures = bench_render(settings, args.voice or "espeak-urdu")
        if not args.json:
            for key, value in render_figures.items():
                print(f"{key:28s} {value}")
        figures |= render_figures
    print(json.dumps(figures, ensure_ascii=False))
    return 0


def add_command(sub) -> None:
    p = sub.add_parser("bench", help="stage timings and real-time factors")
    p.add_argument("--voice", help="voice to time (default: espeak-urdu)")
    p.add_argument("--json", action="store_true", help="print only the JSON line")
    p.add_argument("--corpus", help="folder of articles for the normalizer's throughput")
    p.add_argument("--normalizer-only", action="store_true", help="time only the normalizer")
    p.set_defaults(func=run)
