"""The one way the pipeline starts ffmpeg: quiet, never reading the terminal, its errors kept for the
message a failure reports, and a missing ffmpeg said plainly."""

from __future__ import annotations

import subprocess
from typing import IO

from tts_news.core.errors import ToolFailed

COMMAND = ["ffmpeg", "-hide_banner", "-nostdin"]
QUIET = ["-loglevel", "error"]
NOT_INSTALLED = "ffmpeg is not installed (Debian: apt-get install ffmpeg)"
MESSAGE_CHARS = 300  # the end of ffmpeg's own message goes into ours


def start(args: list[str], *, stdout: int | IO[bytes] = subprocess.DEVNULL) -> subprocess.Popen:
    """A running ffmpeg reading samples from its stdin (a pipe) and writing `stdout`."""
    try:
        return subprocess.Popen([*COMMAND, *QUIET, *args], stdin=subprocess.PIPE, stdout=stdout,
                                stderr=subprocess.PIPE)
    except FileNotFoundError as err:
        raise ToolFailed(NOT_INSTALLED) from err


def run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    """ffmpeg run to the end at its normal log level (filters such as ebur128 report there)."""
    try:
        return subprocess.run([*COMMAND, *args], capture_output=True, timeout=timeout)
    except FileNotFoundError as err:
        raise ToolFailed(NOT_INSTALLED) from err


def message(stderr: bytes) -> str:
    """The end of what ffmpeg said, for an error message."""
    return stderr.decode(errors="replace").strip()[-MESSAGE_CHARS:]
