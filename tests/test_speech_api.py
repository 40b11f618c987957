"""The OpenAI-compatible speech endpoint, driven by the official `openai` client."""

from __future__ import annotations

import subprocess
import threading
import time

import openai
import pytest
from conftest import serve_in_thread

from tts_news.jobs.streams import Stream

SENTENCE = "آج 25 ممالک کا اجلاس ہوا۔"


@pytest.fixture
def client_for(live):
    return openai.OpenAI(base_url=f"{live}/v1", api_key="unused", max_retries=0)


def duration_of(data: bytes) -> float:
    """Decode with ffmpeg (as a player would) and count the seconds."""
    return len(pcm_of(data)) / 2 / 16000


def pcm_of(data: bytes) -> bytes:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", "-", "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
                          input=data, capture_output=True, check=True).stdout


def test_the_openai_client_gets_playable_mp3(client_for):
    response = client_for.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE)
    assert response.response.headers["content-type"] == "audio/mpeg"
    assert response.response.headers["x-tts-news-voice"] == "espeak-urdu"  # mms-urdu is not installed here
    assert 1.0 < duration_of(response.content) < 10.0
    samples = memoryview(pcm_of(response.content)).cast("h")
    assert max(abs(x) for x in samples) > 3000  # there is speech in it, not silence


def test_the_text_goes_through_the_same_normalizer(client_for):
    digits = client_for.audio.speech.create(model="tts-1", voice="espeak-urdu", input="آج 25 ممالک۔",
                                            response_format="wav")
    words = client_for.audio.speech.create(model="tts-1", voice="espeak-urdu", input="آج پچیس ممالک۔",
                                           response_format="wav")
    assert digits.content == words.content


@pytest.mark.parametrize("fmt, magic, kind", [
    ("wav", b"RIFF", "audio/wav"), ("flac", b"fLaC", "audio/flac"), ("opus", b"OggS", "audio/ogg"),
    ("aac", b"\xff\xf1", "audio/aac"), ("mp3", b"ID3", "audio/mpeg"),
])
def test_each_response_format_is_what_it_says(client_for, fmt, magic, kind):
    response = client_for.audio.speech.create(model="tts-1", voice="nova", input=SENTENCE, response_format=fmt)
    assert response.content.startswith(magic) and response.response.headers["content-type"] == kind
    assert duration_of(response.content) > 1.0


def test_pcm_is_raw_24khz_16bit_and_speed_changes_the_length(client_for):
    normal = client_for.audio.speech.create(model="tts-1", voice="echo", input=SENTENCE, response_format="pcm")
    fast = client_for.audio.speech.create(model="tts-1", voice="echo", input=SENTENCE, response_format="pcm",
                                          speed=2.0)
    seconds = len(normal.content) / 2 / 24000
    assert 1.0 < seconds < 10.0 and len(normal.content) % 2 == 0
    assert 0.4 < len(fast.content) / len(normal.content) < 0.6


@pytest.mark.parametrize("kwargs, param", [
    ({"input": ""}, "input"),
    ({"input": "   "}, "input"),
    ({"input": "خ" * 4097}, "input"),
    ({"voice": "no-such-voice"}, "voice"),
    ({"model": "no-such-model"}, "model"),
    ({"response_format": "ogg-vorbis"}, "response_format"),
    ({"speed": 4.5}, "speed"),
    ({"speed": 0.1}, "speed"),
])
def test_bad_requests_get_400_in_openais_error_shape(client_for, kwargs, param):
    args = {"model": "tts-1", "voice": "alloy", "input": SENTENCE, **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client_for.audio.speech.create(**args)
    assert caught.value.status_code == 400
    error = caught.value.body
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert error["type"] == "invalid_request_error" and error["param"] == param


def test_models_are_listed(client_for):
    ids = [m.id for m in client_for.models.list().data]
    assert "tts-1" in ids and "tts-1-hd" in ids


def test_a_set_api_key_is_required(settings):
    from tts_news.core.config import Settings
    from tts_news.jobs.service import Service
    from tts_news.jobs.worker import start_embedded_worker
    from tts_news.web import create_app

    keyed = Settings.from_env(api_key="s3cret")
    queue = Service(keyed)
    halt = start_embedded_worker(queue.settings, queue.library, queue.queue)
    url, stop = serve_in_thread(create_app(keyed, queue=queue))
    try:
        with pytest.raises(openai.AuthenticationError) as caught:
            openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).audio.speech.create(
                model="tts-1", voice="alloy", input=SENTENCE)
        assert caught.value.status_code == 401 and caught.value.body["code"] == "invalid_api_key"
        good = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
        assert good.audio.speech.create(model="tts-1", voice="alloy", input=SENTENCE).content.startswith(b"ID3")
    finally:
        stop()
        halt.set()


def test_unknown_v1_routes_answer_in_openais_shape(client):
    response = client.post("/v1/audio/transcriptions", json={})
    assert response.status_code == 404
    assert set(response.get_json()["error"]) == {"message", "type", "param", "code"}


def test_speech_goes_ahead_of_queued_episodes(queue):
    from conftest import SEED

    from tts_news.jobs.worker import start_embedded_worker

    ids = [queue.submit(SEED.read_text(encoding="utf-8"), voice="espeak-urdu").id for _ in range(3)]
    answered: list = []

    def ask() -> None:
        stream, _ = queue.start_speech(SENTENCE, voice=None, fmt="wav", speed=1.0)
        while stream.outcome() is None:
            time.sleep(0.01)
        answered.append((stream.path.read_bytes(), [queue.library.get(i).status for i in ids]))

    asking = threading.Thread(target=ask)
    asking.start()
    deadline = time.monotonic() + 10
    while queue.queue.huey.pending_count() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop = start_embedded_worker(queue.settings, queue.library, queue.queue)  # a worker arrives to a queue of 3 episodes and 1 speech request
    try:
        asking.join(120)
        ((speech, statuses),) = answered
        assert speech.startswith(b"RIFF")
        assert "done" not in statuses  # no episode was rendered first
    finally:
        stop.set()


@pytest.mark.redis
def test_speech_through_redis_workers(settings, redis_url, tmp_path):
    from test_jobs import _env, _start, _wait_for_line

    from tts_news.core.config import Settings
    from tts_news.jobs.service import Service
    from tts_news.web import create_app

    log = tmp_path / "worker.log"
    worker = _start(["worker"], _env(settings, TTS_NEWS_REDIS_URL=redis_url), log)
    url = stop = None
    try:
        _wait_for_line(log, "ready", worker)
        on_redis = Settings.from_env(redis_url=redis_url)
        url, stop = serve_in_thread(create_app(on_redis, queue=Service(on_redis)))
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        speech = client.audio.speech.create(model="tts-1", voice="espeak-urdu", input=SENTENCE)
        assert speech.content.startswith(b"ID3") and duration_of(speech.content) > 1.0
    finally:
        if stop:
            stop()
        worker.terminate()
        worker.wait(10)


MANY = " ".join(f"یہ جملہ نمبر {i} ہے اور اس میں کچھ الفاظ ہیں۔" for i in range(1, 25))


def test_the_first_audio_arrives_before_the_last_sentence_is_spoken(client_for, settings):
    speaking = settings.data_dir / "speech"
    with client_for.audio.speech.with_streaming_response.create(model="tts-1", voice="espeak-urdu", input=MANY) as r:
        chunks = r.iter_bytes()
        first = next(chunks)
        still_speaking = [p for p in speaking.glob("*.mp3") if Stream(p).outcome() is None]
        rest = b"".join(chunks)
    assert first and still_speaking  # the worker had not finished when the first bytes arrived
    assert duration_of(first + rest) > 20  # and the stream went on to the end of the text
    assert not list(speaking.iterdir())  # nothing left behind once it is sent


def test_wav_streams_with_a_header_for_unknown_length(client_for):
    data = client_for.audio.speech.create(model="tts-1", voice="espeak-urdu", input=SENTENCE,
                                          response_format="wav").content
    assert data[:4] == b"RIFF" and data[4:8] == b"\xff\xff\xff\xff" and data[40:44] == b"\xff\xff\xff\xff"
    assert duration_of(data) > 1.0


def test_server_sent_events_carry_the_audio_then_done(live):
    import base64
    import json
    import urllib.request

    body = {"model": "tts-1", "voice": "espeak-urdu", "input": SENTENCE, "stream_format": "sse"}
    request = urllib.request.Request(f"{live}/v1/audio/speech", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.read().decode().splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1) and len(events) > 1
    assert events[-1]["type"] == "speech.audio.done"
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert audio.startswith(b"ID3") and duration_of(audio) > 1.0


def test_speech_audio_never_passes_through_the_queue_database(client_for, settings):
    for _ in range(5):
        client_for.audio.speech.create(model="tts-1", voice="espeak-urdu", input=MANY, response_format="wav")
    queue_files = list(settings.data_dir.glob("queue.sqlite3*"))
    assert queue_files and sum(p.stat().st_size for p in queue_files) < 1_000_000
