"""What a user of the web app and the speech API waits for, with espeak-urdu on this machine.

Starts `tts-news serve` (SQLite queue, embedded worker) in a temporary data dir and prints:
- job latency: POST /api/jobs of a two-paragraph article → status done (median of 5), and of the
  sample article;
- speech latency: the official openai client's audio.speech.create of one sentence (median of 10),
  for mp3 and wav;
- feed: GET /feed.xml with the episodes above.
Usage: .venv/bin/python benchmarks/service_latency.py   (last line JSON)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = "جنیوا میں 25 ممالک کا اجلاس\nاجلاس میں 3 قراردادیں منظور ہوئیں۔ اگلا اجلاس 2027 میں ہوگا۔"
SENTENCE = "آج 25 ممالک کا اجلاس ہوا۔"


def call(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def job_seconds(base: str, text: str) -> float:
    started = time.perf_counter()
    job = call(f"{base}/api/jobs", {"text": text, "voice": "espeak-urdu"})
    while call(f"{base}/api/jobs/{job['id']}")["status"] not in ("done", "failed"):
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> int:
    import openai

    with tempfile.TemporaryDirectory() as tmp:
        port = 8765
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "TTS_NEWS_DATA_DIR": str(Path(tmp) / "data"), "TTS_NEWS_OFFLINE": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "tts_news.cli", "serve", "--port", str(port)], env=env,
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    call(f"{base}/healthz")
                    break
                except OSError:
                    time.sleep(0.1)
            job_seconds(base, ARTICLE)  # warm up
            short = statistics.median(job_seconds(base, ARTICLE) for _ in range(5))
            seed = job_seconds(base, (ROOT / "seeds" / "geneva-summit.ur.txt").read_text(encoding="utf-8"))
            client = openai.OpenAI(base_url=f"{base}/v1", api_key="bench", max_retries=0)
            speech = {}
            for fmt in ("mp3", "wav"):
                times = []
                for _ in range(10):
                    t = time.perf_counter()
                    client.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE, response_format=fmt)
                    times.append(time.perf_counter() - t)
                speech[fmt] = statistics.median(times)
            t = time.perf_counter()
            urllib.request.urlopen(f"{base}/feed.xml").read()
            feed = time.perf_counter() - t
        finally:
            proc.terminate()
            proc.wait(10)
    figures = {"job_short_s": round(short, 3), "job_seed_s": round(seed, 2), "speech_mp3_s": round(speech["mp3"], 3),
               "speech_wav_s": round(speech["wav"], 3), "feed_s": round(feed, 4)}
    print(f"job, short article (POST → done, median of 5): {short:.2f} s")
    print(f"job, sample article (POST → done):              {seed:.2f} s")
    print(f"speech, one sentence, mp3 (median of 10):       {speech['mp3']:.3f} s")
    print(f"speech, one sentence, wav (median of 10):       {speech['wav']:.3f} s")
    print(f"feed with 7 episodes:                           {feed * 1000:.1f} ms")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
