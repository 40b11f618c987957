"""A bulletin's own words: the spoken opening with the date, the closing line and the programme's title.
Written with digits, as a transcript shows them; the normalizer reads the date in words. The programme
itself (a chime and a chapter per story, the stories' sentences from the cache) is `Renderer.bulletin`."""

from __future__ import annotations

from datetime import date

from tts_news.text.normalize import MONTHS

OPENING = "{show}۔ یہ ہیں {day} {month} {year} کی خبریں۔"
CLOSING = "یہ تھیں آج کی خبریں۔ {show} سننے کا شکریہ۔"


def opening_text(show: str, day: date) -> str:
    return OPENING.format(show=show, day=day.day, month=MONTHS[day.month - 1], year=day.year)


def closing_text(show: str) -> str:
    return CLOSING.format(show=show)


def bulletin_title(show: str, day: date) -> str:
    return f"{show}: خبرنامہ {day.day} {MONTHS[day.month - 1]} {day.year}"
