"""How live audio gets from a worker to the web: the one owner of that protocol.

A stream is a growing audio file in the data dir (a job's live MP3, a speech request's reply) and two
small files beside it: `STREAM.json`, written once the audio file exists (whoever sees it may open the
audio), holding what the listener is told first (the voice); and `STREAM.done`, whose JSON says how the
stream ended (`seconds`, `warnings`, or `error` and its `code`). A request refused before any audio
has only the `.done` file. The worker writes (`Stream` is the renderer's live sink); the web process
reads (`started`, `follow`); every listener follows the same file, so nothing is rendered twice.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from tts_news.audio.live import FORMATS
from tts_news.core.errors import NewsError, UserError
from tts_news.core.files import write_text_atomic
from tts_news.jobs.library import check_job_id

CHUNK = 64 * 1024
POLL_S = 0.05  # how often a waiting listener looks for new bytes
CHECK_S = 1.0  # how often it asks whether the writer is still at work
START_POLL_S = 0.02  # how often a speech request looks whether its worker has started
SPEECH_ID_RE = re.compile(r"[0-9a-f]{32}")


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class Stream:
    """One stream's files (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.info_file = path.with_name(path.name + ".json")
        self.done_file = path.with_name(path.name + ".done")

    # -- the writing side (a live sink for the renderer) ----------------------------------------------
    def open(self, info: dict) -> BinaryIO:
        """Start the stream afresh: the audio file, then its info; the caller writes the audio."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.remove()
        out = open(self.path, "wb")  # noqa: SIM115 - handed to the encoder, which closes it
        write_text_atomic(self.info_file, json.dumps(info, ensure_ascii=False))
        return out

    def end(self, outcome: dict) -> None:
        """The stream is complete (or broke: `outcome["error"]`); listeners stop at this."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.done_file, json.dumps(outcome, ensure_ascii=False))

    def refuse(self, err: NewsError) -> None:
        """The request could not be spoken at all: only the reason, with its code, is left."""
        self.end({"error": str(err), "code": err.code})

    def remove(self) -> None:
        """The stream and the files beside it (a listener still reading keeps its open file)."""
        for p in (self.path, self.done_file, self.info_file):
            p.unlink(missing_ok=True)

    # -- the reading side -----------------------------------------------------------------------------
    def info(self) -> dict | None:
        return _read_json(self.info_file)

    def outcome(self) -> dict | None:
        return _read_json(self.done_file)

    def started(self, timeout_s: float) -> dict | None:
        """Wait until the writer has started (its info) or refused (an outcome with an error), whichever
        comes first; None if neither came within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            info = self.info()
            if info is not None:
                return info
            outcome = self.outcome()
            if outcome is not None and "error" in outcome:
                return outcome
            if time.monotonic() > deadline:
                return None
            time.sleep(START_POLL_S)

    def follow(self, writing: Callable[[], bool], *, appear_s: float, stale_s: float) -> Iterator[bytes]:
        """The stream's bytes as they are written. `writing()` says whether its writer is still at work
        (asked every CHECK_S); the file may take `appear_s` to appear, and may pause `stale_s`. It ends
        when the stream is complete, when its writer stopped (the job failed, or was sent again after its
        worker died), or when it has not grown for too long."""
        deadline = time.monotonic() + appear_s
        next_check = 0.0
        while True:
            try:
                f = open(self.path, "rb")  # noqa: SIM115 - held across yields, closed below
                break
            except FileNotFoundError:
                now = time.monotonic()
                if now > deadline:
                    return
                if now >= next_check:
                    if not writing():
                        return
                    next_check = now + CHECK_S
                time.sleep(POLL_S)
        with f:
            inode = os.fstat(f.fileno()).st_ino
            grew = next_check = time.monotonic()
            while True:
                data = f.read(CHUNK)
                if data:
                    grew = time.monotonic()
                    yield data
                    continue
                if self.done_file.exists():
                    yield from iter(lambda: f.read(CHUNK), b"")
                    return
                now = time.monotonic()
                if now >= next_check:
                    if not writing() or self._replaced(inode):
                        yield from iter(lambda: f.read(CHUNK), b"")
                        return
                    next_check = now + CHECK_S
                if now - grew > stale_s:
                    return
                time.sleep(POLL_S)

    def _replaced(self, inode: int) -> bool:
        """The writer started the file afresh (a job sent again after its worker died)."""
        try:
            return self.path.stat().st_ino != inode
        except FileNotFoundError:
            return False  # removed once complete: what is left is read from the open file


def job_stream(data_dir: Path, job_id: str) -> Stream:
    """The MP3 that grows while a job renders."""
    return Stream(data_dir / "live" / f"{check_job_id(job_id)}.mp3")


def speech_folder(data_dir: Path) -> Path:
    return data_dir / "speech"


def speech_stream(data_dir: Path, request_id: str, fmt: str) -> Stream:
    """Where a speech request's audio grows while it is spoken."""
    if not SPEECH_ID_RE.fullmatch(request_id) or fmt not in FORMATS:
        raise UserError("not a speech request id")
    return Stream(speech_folder(data_dir) / f"{request_id}.{fmt}")


def remove_speech_leftovers(data_dir: Path, older_than: float) -> int:
    """Speech files no reply removed (its listener vanished mid-stream, the web process was killed)."""
    folder = speech_folder(data_dir)
    leftovers = [p for p in folder.glob("*") if p.is_file() and p.stat().st_mtime < older_than] \
        if folder.is_dir() else []
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)
