"""Helpline and emergency numbers: said digit by digit, in English, where the sentence says they are dialled.

A newsreader says "ریسکیو ون ون ٹو ٹو" and "ہیلپ لائن ون نائن ون فائیو", never گیارہ سو بائیس. Whether 1122 is a
number to dial or a count of people is the context's call: a number right after ہیلپ لائن (helpline, UAN, ٹال
فری …) is dialled whatever it is; a number on the shipped list (`data/helplines.tsv`) is dialled when a word of
calling (کال، رابطہ، ڈائل، اطلاع …) is near it, or right after ریسکیو.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

# Right before the number, any number is one to dial: ہیلپ لائن 1915, UAN 111-222, ٹال فری نمبر 0800.
DIAL_BEFORE_RE = re.compile(
    r"(?:ہیلپ\s?لائن|ہیلپ\s?ڈیسک|ٹال\s?فری|کال\s?سینٹر|یو\s?اے\s?این|ایمرجنسی\s+نمبر|شکایتی\s+نمبر|"
    r"help\s?line|helpdesk|toll[\s-]?free|UAN|emergency\s+number)"
    r"(?:\s+(?:نمبر|number|No\.?))?\s*[:\-]?\s*$",
    re.I,
)
# Right before a listed number: the service's own name (ریسکیو 1122, Edhi 115).
SERVICE_BEFORE_RE = re.compile(r"(?:ریسکیو|ایدھی|چھیپا|پولیس|مددگار|rescue|edhi|chhipa|police)\s*$", re.I)
# Near a listed number (a few words either side): words of calling and reporting.
CALL_WORDS = {
    "کال", "رابطہ", "رابطے", "ڈائل", "فون", "اطلاع", "شکایت", "شکایات", "ایمرجنسی", "ہیلپ", "نمبر", "call",
    "dial", "phone", "contact",
}
NEAR_CHARS = 40  # about five words either side
WORD_RE = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def listed() -> frozenset[str]:
    """The shipped helpline numbers."""
    text = resources.files("tts_news").joinpath("data/helplines.tsv").read_text(encoding="utf-8")
    return frozenset(line.split("\t")[0].strip() for line in text.splitlines() if line.strip() and line[0] != "#")


def is_dialled(number: str, src: str, start: int, end: int) -> bool:
    """Is src[start:end] (the digits `number`) a helpline to dial, by the words around it?"""
    before = src[max(0, start - NEAR_CHARS) : start]
    if DIAL_BEFORE_RE.search(before):
        return True
    if number not in listed():
        return False
    if SERVICE_BEFORE_RE.search(before):
        return True
    near = WORD_RE.findall(before) + WORD_RE.findall(src[end : end + NEAR_CHARS])
    return any(w.lower() in CALL_WORDS for w in near)
