"""The gain each voice needed in its last finished episode here, kept in the data dir: a live stream
levels its sentences with it from the first one (a voice never rendered here is levelled by what its
sentences so far need)."""

from __future__ import annotations

import json
from pathlib import Path

from tts_news.core.files import write_text_atomic

GAINS_FILE = "live-gains.json"


def calibrated_gain(data_dir: Path, voice: str) -> float | None:
    """The gain (dB) this voice's last finished episode needed, if one was rendered here."""
    try:
        return float(json.loads((data_dir / GAINS_FILE).read_text(encoding="utf-8"))[voice])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_gain(data_dir: Path, voice: str, gain_db: float) -> None:
    path = data_dir / GAINS_FILE
    try:
        gains = json.loads(path.read_text(encoding="utf-8"))
        gains = gains if isinstance(gains, dict) else {}
    except (OSError, ValueError):
        gains = {}
    gains[voice] = round(float(gain_db), 3)
    write_text_atomic(path, json.dumps(gains, ensure_ascii=False))
