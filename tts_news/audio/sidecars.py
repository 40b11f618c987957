"""What sits beside the MP3: a WebVTT transcript (one cue per sentence, its paragraph in the cue id),
a Podcasting 2.0 JSON transcript (the same cues with their paragraph: what the episode page reads),
and Podcasting 2.0 JSON chapters."""

from __future__ import annotations

import html
import re

from tts_news.audio.timeline import Chapter, Cue
from tts_news.text.cleanup import xml_safe


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt_text(cues: list[Cue]) -> str:
    """WebVTT, one cue per sentence with the original Urdu text."""
    lines = ["WEBVTT", "Language: ur", ""]
    for i, cue in enumerate(cues, 1):
        # WebVTT cue text is markup: & < > escaped, so "<script>" is read as text, not dropped as a tag.
        text = html.escape(xml_safe(cue.text).replace("-->", "→").replace("\n", " "), quote=False)
        lines += [f"p{cue.paragraph}-s{i}", f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}", text, ""]
    return "\n".join(lines)


VTT_CUE_RE = re.compile(r"^p(\d+)-s\d+\n(\d+):(\d\d):(\d\d)\.(\d{3}) --> (\d+):(\d\d):(\d\d)\.(\d{3})\n(.*)$", re.M)


def read_vtt(text: str) -> list[Cue]:
    """The cues `vtt_text` wrote, paragraph numbers included (they ride in the cue identifiers)."""
    def seconds(h: str, m: str, s: str, ms: str) -> float:
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    return [Cue(seconds(*m.group(2, 3, 4, 5)), seconds(*m.group(6, 7, 8, 9)), html.unescape(m.group(10)),
                int(m.group(1)))
            for m in VTT_CUE_RE.finditer(text.replace("\r\n", "\n"))]


def chapters_json(chapters: list[Chapter]) -> dict:
    """Podcasting 2.0 JSON chapters."""
    return {
        "version": "1.2.0",
        "chapters": [{"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title}
                     for c in chapters],
    }


def transcript_json(cues: list[Cue]) -> dict:
    """Podcasting 2.0 JSON transcript; each segment also names its paragraph, so a page can lay the
    transcript out as the article was written."""
    return {"version": "1.0.0", "segments": [
        {"startTime": round(c.start, 3), "endTime": round(c.end, 3), "body": c.text, "paragraph": c.paragraph}
        for c in cues]}


def read_transcript_json(data: dict) -> list[Cue]:
    return [Cue(s["startTime"], s["endTime"], s["body"], int(s.get("paragraph", 0))) for s in data["segments"]]
