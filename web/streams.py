"""Sending a growing file while a worker writes it: a job's live MP3, a speech request's audio.

Every listener follows the same file (nothing is rendered twice); a listener who goes away only
closes a file. The response ends when the file is complete, when whatever was writing it stopped
(the job failed, or was sent again after its worker died), or when it has not grown for too long.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tts_news.audio.live import done_marker

CHUNK = 64 * 1024
POLL_S = 0.05  # how often a waiting listener looks for new bytes
CHECK_S = 1.0  # how often it asks whether the writer is still at work


def follow(path: Path, writing: Callable[[], bool], *, appear_s: float, stale_s: float) -> Iterator[bytes]:
    """The bytes of `path` as they are written. `writing()` says whether its writer is still at work
    (checked every CHECK_S); the file may take `appear_s` to appear, and may pause `stale_s`."""
    deadline = time.monotonic() + appear_s
    next_check = 0.0
    while True:
        try:
            f = open(path, "rb")  # noqa: SIM115 - held across yields, closed below
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
            if done_marker(path).exists():
                yield from iter(lambda: f.read(CHUNK), b"")
                return
            now = time.monotonic()
            if now >= next_check:
                if not writing() or _replaced(path, inode):
                    yield from iter(lambda: f.read(CHUNK), b"")
                    return
                next_check = now + CHECK_S
            if now - grew > stale_s:
                return
            time.sleep(POLL_S)


def _replaced(path: Path, inode: int) -> bool:
    """The writer started the file afresh (a job sent again after its worker died)."""
    try:
        return path.stat().st_ino != inode
    except FileNotFoundError:
        return False  # removed once complete: what is left is read from the open file
