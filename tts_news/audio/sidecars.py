"""What sits beside the MP3: a WebVTT transcript (one cue per sentence, its paragraph in the cue id),
a Podcasting 2.0 JSON transcript (the same cues with their paragraph: what the episode page reads),
and Podcasting 2.0 JSON chapters. `EPISODE_FILES` is the one list of an episode's files."""

from __future__ import annotations

import html
import json
from pathlib import Path

from tts_news.audio.timeline import Chapter, Cue, Timeline
from tts_news.core import files
from tts_news.text.cleanup import xml_safe

# An episode's files, by suffix, in the order they are put in place: the MP3 last, since it completes
# the set (whoever sees the MP3 finds everything beside it).
VTT, TRANSCRIPT, CHAPTERS, MP3 = ".vtt", ".transcript.json", ".chapters.json", ".mp3"
SIDECARS = (VTT, TRANSCRIPT, CHAPTERS)
EPISODE_FILES = (*SIDECARS, MP3)


def beside(mp3: Path, suffix: str) -> Path:
    """The file of the episode `mp3` with this suffix (OUT.mp3 → OUT.vtt, OUT.chapters.json, …)."""
    return mp3.with_name(mp3.stem + suffix)


def write_sidecars(timeline: Timeline, mp3: Path) -> None:
    """OUT.vtt, OUT.transcript.json and OUT.chapters.json, each by rename."""
    files.write_text_atomic(beside(mp3, VTT), vtt_text(timeline.cues))
    files.write_text_atomic(beside(mp3, TRANSCRIPT), json.dumps(transcript_json(timeline.cues), ensure_ascii=False,
                                                                 indent=1))
    files.write_text_atomic(beside(mp3, CHAPTERS), json.dumps(chapters_json(timeline.chapters), ensure_ascii=False,
                                                               indent=1))


def timestamp(seconds: float) -> str:
    """HH:MM:SS.mmm, as WebVTT and Podlove Simple Chapters write times."""
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
        lines += [f"p{cue.paragraph}-s{i}", f"{timestamp(cue.start)} --> {timestamp(cue.end)}", text, ""]
    return "\n".join(lines)


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
