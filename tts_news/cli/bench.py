"""`tts-news bench`: stage timings and real-time factors, printed as figures (never asserted in tests).

The last line is JSON: `rtf` (whole pipeline), `synth_rtf` (the render's own synthesis), for a
neural voice `synth_rtf_torch` and `synth_rtf_onnx` (the same sentences through plain Coqui and
through ONNX Runtime, same run), `overhead_ratio` (time not spent synthesizing ÷ time synthesizing,
each timed), `rerender_speedup` (after editing one paragraph), `peak_rss_mb` (of the process that
renders: a fresh one, so nothing the benchmark itself loaded counts), `loudness_lufs` and
`true_peak_dbtp` (ffmpeg's ebur128 on the MP3), and the normalizer's figures. `--voice mms-size`
builds a random-weight voice of the real MMS size in a temporary folder when none is installed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tts_news.audio import mp3
from tts_news.core.config import PROJECT_ROOT, Settings
from tts_news.render.newsroom import prepare
from tts_news.render.renderer import Renderer
from tts_news.testing.random_voices import build_fairseq_mms, mms_size_voice_file
from tts_news.text.normalize import Normalizer, is_sayable
from tts_news.voice import onnx_export
from tts_news.voice.catalog import all_voices, get_voice
from tts_news.voice.coqui import CoquiEngine, model_files
from tts_news.voice.onnx_runtime import OnnxEngine
from tts_news.voice.segments import voice_text

SEED = PROJECT_ROOT / "seeds" / "geneva-summit.ur.txt"
DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus" / "bend-the-truth-real"


def bench_normalizer(corpus: Path | None, repeats: int = 20) -> dict:
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
    for name, line in PATHOLOGICAL_LINES.items():  # hostile input: each must stay linear (≤ 1 s)
        t = time.perf_counter()
        normalizer.normalize(line)
        result[f"hostile_{name}_s"] = round(time.perf_counter() - t, 2)
    return result


HOSTILE_CHARS = 100_000
# 100,000-character lines built to find quadratic corners of a tokenizer.
PATHOLOGICAL_LINES = {
    "dashes": "-" * HOSTILE_CHARS, "digit_dash": "1-" * (HOSTILE_CHARS // 2), "digit_dot": "1." * (HOSTILE_CHARS // 2),
    "at": "a@" * (HOSTILE_CHARS // 2), "nines": "9" * HOSTILE_CHARS, "percent": "%" * HOSTILE_CHARS,
    "mixed": ("ab-1.c@d 9/ ۔،" * HOSTILE_CHARS)[:HOSTILE_CHARS], "urls": ("www.a" * HOSTILE_CHARS)[:HOSTILE_CHARS],
}


EDIT = ("حالیہ برسوں", "گزشتہ کئی برسوں")  # one paragraph of the seed, edited for the re-render
MMS_SIZE = "mms-size"


def _render_twice(settings: Settings, voice_name: str, folder: str) -> dict:
    """In a fresh process: load the voice, render the seed on a cold cache, then again after
    editing one paragraph. Returns the timings and this process's peak memory."""
    voice = get_voice(settings, voice_name)
    text = SEED.read_text(encoding="utf-8")
    t = time.perf_counter()
    renderer = Renderer(voice, settings)
    engine = renderer.engine
    load_s = time.perf_counter() - t
    shutil.rmtree(settings.cache_dir, ignore_errors=True)
    t = time.perf_counter()
    script = renderer.prepare(text)
    prepare_s = time.perf_counter() - t
    first = renderer.episode(script, Path(folder) / "first.mp3")
    second = renderer.episode(renderer.prepare(text.replace(*EDIT, 1)), Path(folder) / "second.mp3")
    return {
        "runtime": engine.runtime or voice.engine,
        "model_load_s": round(load_s, 2),
        "prepare_s": round(prepare_s, 3),
        "first_render_s": round(first.seconds, 2),
        "synthesis_s": round(first.synthesis_seconds, 2),
        "rerender_s": round(second.seconds, 2),
        "rerender_new_sentences": second.sentences - second.cached,
        "audio_s": round(first.duration, 1),
        "rtf": round(first.seconds / first.duration, 4),
        "synth_rtf": round(first.synthesis_seconds / first.duration, 4),
        "overhead_ratio": round((first.seconds - first.synthesis_seconds) / max(first.synthesis_seconds, 1e-9), 4),
        "rerender_speedup": round(first.seconds / second.seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started its program. (getrusage's maxrss would
    also count the parent's memory at the fork that started it: it survives exec.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def synthesis_rtfs(settings: Settings, voice) -> dict:
    """The seed's sentences through plain Coqui (torch) and through ONNX Runtime: seconds of work per
    second of audio, same sentences, same run."""
    model_dir = voice.model_dir(settings)
    files, _ = model_files(model_dir)
    t = time.perf_counter()
    folder = onnx_export.ensure_export(model_dir, files, settings.exports_dir)
    export_s = time.perf_counter() - t
    engines = {"onnx": OnnxEngine(folder), "torch": CoquiEngine(model_dir)}
    script = prepare(SEED.read_text(encoding="utf-8"), settings, max_chars=voice.max_chars)
    texts = [voice_text(s.spoken, engines["onnx"]) for _, s in script.to_say]
    figures = {"onnx_export_s": round(export_s, 2)}
    work = dict.fromkeys(engines, 0.0)
    audio = dict.fromkeys(engines, 0.0)
    for text in texts:  # interleaved, sentence by sentence: a slow minute of the machine hits both alike
        for name, engine in engines.items():
            t = time.perf_counter()
            samples = engine.speak(text)
            work[name] += time.perf_counter() - t
            audio[name] += len(samples) / engine.sample_rate
    for name in engines:
        figures[f"synth_rtf_{name}"] = round(work[name] / audio[name], 4)
    figures["onnx_vs_torch"] = round(figures["synth_rtf_onnx"] / figures["synth_rtf_torch"], 3)
    return figures


def bench_render(settings: Settings, voice_name: str) -> dict:
    installed = all_voices(settings)
    with tempfile.TemporaryDirectory() as tmp:
        # A data dir of its own: a cold sentence cache and a fresh export, the voice's weights where they are.
        model_dir = installed[voice_name].model_dir(settings) if voice_name in installed else None
        settings = settings.replace(data_dir=Path(tmp) / "data")
        if voice_name == MMS_SIZE and voice_name not in installed:
            model_dir = build_fairseq_mms(Path(tmp) / "tts_models--urd-script_arabic--fairseq--vits")
        if model_dir is not None:
            mms_size_voice_file(settings.user_voices_dir, model_dir, name=voice_name,
                                based_on=installed.get(voice_name))
        voice = get_voice(settings, voice_name)
        figures = {"voice": voice.name}
        if voice.engine == "coqui":
            figures |= synthesis_rtfs(settings, voice)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
            figures |= pool.submit(_render_twice, settings, voice_name, tmp).result()
        loud = mp3.measure_loudness(Path(tmp) / "first.mp3")
        figures |= {"loudness_lufs": loud["integrated_lufs"], "true_peak_dbtp": loud["true_peak_dbtp"]}
        figures |= bench_first_audio(settings, voice_name, Path(tmp))
    return figures


SERVE_START_S = 120


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def bench_first_audio(settings: Settings, voice_name: str, tmp: Path) -> dict:
    """`tts-news serve` as a user starts it (this voice the default, a cold sentence cache): the seconds
    from posting the seed article to the first byte of its live audio, and from a speech request to
    its first byte."""
    shutil.rmtree(settings.cache_dir, ignore_errors=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = tmp / "serve.log"
    env = {**os.environ, "TTS_NEWS_DATA_DIR": str(settings.data_dir), "TTS_NEWS_VOICE": voice_name,
           "TTS_NEWS_OFFLINE": "1"}
    with open(log, "w") as err:
        server = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + SERVE_START_S
        while "ready in" not in log.read_text(errors="replace"):  # the worker has loaded the voice
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"tts-news serve did not start: {log.read_text(errors='replace')[-500:]}")
            time.sleep(0.1)
        started = time.perf_counter()
        request = urllib.request.Request(f"{base}/api/jobs", data=json.dumps(
            {"text": SEED.read_text(encoding="utf-8")}).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            job = json.loads(response.read())
        with urllib.request.urlopen(base + job["live_audio_url"], timeout=120) as response:
            response.read1(1)
            first_audio = time.perf_counter() - started
            response.read()
        while _get_json(base + job["status_url"])["status"] not in ("done", "failed"):  # the worker is free again
            time.sleep(0.05)
        # a paragraph of the seed with a new opening, so its first sentence is not in the cache
        paragraph = "اس کے علاوہ " + [p for p in SEED.read_text(encoding="utf-8").splitlines() if p.strip()][1]
        started = time.perf_counter()
        request = urllib.request.Request(f"{base}/v1/audio/speech", data=json.dumps(
            {"model": "tts-1", "voice": voice_name, "input": paragraph}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read1(1)
            speech_first = time.perf_counter() - started
            response.read()
    finally:
        server.terminate()
        server.wait(30)
    return {"first_audio_s": round(first_audio, 2), "speech_first_byte_s": round(speech_first, 2)}


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
