"""A bulletin: the day's stories as one programme — a spoken opening with the date, a chime and a
chapter for each story (the first chapter takes in the opening, the last the closing line). Sentences already rendered for the stories' own episodes
come from the segment cache, so a bulletin costs little more than its encoding."""

from __future__ import annotations

import dataclasses
import time
from datetime import date
from pathlib import Path

from tts_news.audio import timeline as joins
from tts_news.core.config import Settings
from tts_news.render.episode import (
    Episode,
    ProgressFn,
    Tally,
    assemble,
    counted_segments,
    finish,
    meanwhile,
    prepare,
    segment_cache,
)
from tts_news.text.normalize import MONTHS
from tts_news.text.script import Script, short_title
from tts_news.voice.catalog import Voice
from tts_news.voice.engine import Engine
from tts_news.voice.loader import load_engine
from tts_news.voice.segments import Segment, unsayable

OPENING = "{show}۔ یہ ہیں {day} {month} {year} کی خبریں۔"
CLOSING = "یہ تھیں آج کی خبریں۔ {show} سننے کا شکریہ۔"


def opening_text(show: str, day: date) -> str:
    """Written with digits, as a transcript shows it; the normalizer reads the date in words."""
    return OPENING.format(show=show, day=day.day, month=MONTHS[day.month - 1], year=day.year)


def bulletin_title(show: str, day: date) -> str:
    return f"{show}: خبرنامہ {day.day} {MONTHS[day.month - 1]} {day.year}"


def render_bulletin(stories: list[Script], voice: Voice, out: Path, settings: Settings, *, day: date,
                    engine: Engine | None = None, progress: ProgressFn | None = None) -> Episode:
    started = time.perf_counter()
    engine = engine or load_engine(voice, settings)
    parts = [(prepare(opening_text(settings.show_title, day), voice, settings), None)]
    parts += [(story, short_title(story.title)) for story in stories]
    parts.append((prepare(CLOSING.format(show=settings.show_title), voice, settings), None))
    total = sum(len(script.to_say) for script, _ in parts)
    ring = joins.chime(engine.sample_rate)
    cache = segment_cache(settings)

    tally = Tally()
    titles: dict[int, str] = {}

    def programme():
        paragraph = 0  # paragraphs numbered through the whole programme
        done = 0
        for n, (script, title) in enumerate(parts):
            if 0 < n < len(parts) - 1:  # a chime before each story
                yield Segment(paragraph, -1, total, None, ring, engine.sample_rate, True)
                paragraph += 1
            if title:
                titles[paragraph] = title
            for seg in counted_segments(script, voice, engine, cache, tally=tally):
                yield dataclasses.replace(seg, paragraph=paragraph + seg.paragraph)
                done += 1
                if progress:
                    progress(done, total)
            paragraph += len(script.paragraphs)

    with meanwhile(engine, out, settings) as (measure, encoder):
        timeline = assemble(programme(), settings, titles, measure=measure)  # titles fill in as it is spoken
        # One chapter per story: the first takes in the opening, the last the closing line.
        timeline.chapters[0] = dataclasses.replace(timeline.chapters[0], start=0.0)
        warnings = [w for script, _ in parts for w in script.warnings + unsayable(script, engine)]
        return finish(timeline, out, settings, title=bulletin_title(settings.show_title, day), voice=voice,
                      cache=cache, tally=tally, warnings=warnings, started=started, day=day, measured=measure,
                      encoder=encoder)
