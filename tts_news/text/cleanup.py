"""Script clean-up: one spelling of every Urdu letter before anything is read.

Arabic-keyboard lookalikes (ي ك ه), presentation forms, decomposed letters, diacritics and invisible
characters all reach us in real news text. Each output character remembers which input character it
came from, so that read-along highlighting can point back at what the user wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# One-to-one letter replacements: Arabic and Sindhi lookalikes → the Urdu letter a newsreader reads.
LOOKALIKES = {
    "\u064a": "ی",  # Arabic yeh
    "\u0649": "ی",  # alef maksura
    "\u0643": "ک",  # Arabic kaf
    "\u06aa": "ک",  # Sindhi swash kaf (ڪ)
    "\u0629": "ۃ",  # teh marbuta
    "\u06c0": "ۂ",  # heh with yeh above, Arabic form
}
# Digits of every script parse like ASCII; the Arabic separators mean what their ASCII twins mean.
DIGITS = {chr(0x06F0 + i): str(i) for i in range(10)} | {chr(0x0660 + i): str(i) for i in range(10)}
SEPARATORS = {"\u066c": ",", "\u066b": ".", "\u066a": "%"}
ARABIC_HEH = "\u0647"
# After these consonants an Arabic ه inside a word is the aspiration mark ھ (بھ، پھ، تھ …).
ASPIRABLE = set("بپتٹجچدڈکگرڑلمن")
# Characters with no sound and no meaning for a reader.
INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\ufeff", "\u0640",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u00ad",
}
# zabar, zer, pesh, tanween, shadda, sukun and the small marks: the voices read the bare letters.
DIACRITICS = {chr(c) for c in range(0x064B, 0x0653)} | {"\u0670", "\u0655", "\u0656", "\u0657", "\u0658"}
EXPANSIONS = {"\ufdfa": "صلی اللہ علیہ وسلم", "\u0601": ""}  # ﷺ; ؁ the year sign is not read
PRESENTATION_RANGES = ((0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
# The letters of the Arabic block that Urdu (and Arabic, Persian, Sindhi names) write words with: exactly its
# "Lo" characters — not the digits, ، ؛ ۔ ؟, tatweel, the combining marks or the signs ۽ ۾. A regex class
# body (for `[...]`), the one definition the normalizer, the markup and the web layer share.
URDU_LETTERS = "\u0620-\u063F\u0641-\u064A\u066E\u066F\u0671-\u06D3\u06D5\u06EE\u06EF\u06FA-\u06FC\u06FF"
URDU_LETTER_RE = re.compile(f"[{URDU_LETTERS}]")


@dataclass(frozen=True)
class Cleaned:
    """Clean text plus, for each of its characters, the index of the input character it came from."""

    text: str
    origin: tuple[int, ...]


def is_urdu_letter(ch: str) -> bool:
    return URDU_LETTER_RE.fullmatch(ch) is not None


def ascii_fold(text: str) -> str:
    """é → e, Ö → O: accented Latin letters as their base letter; what has no ASCII base is dropped."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# Single characters that clean() may change; every other ASCII, Latin-1 or Arabic-block character is kept as
# it is (NFC leaves a lone one of them unchanged), which spares the per-character work on most of a text.
UNCHANGED_EXCEPT = (set(LOOKALIKES) | set(DIGITS) | set(SEPARATORS) | {ARABIC_HEH} | INVISIBLE | DIACRITICS
                    | set(EXPANSIONS))


def _plain(ch: str) -> bool:
    return ch < "\u0300" or "\u0600" <= ch <= "\u06ff"


def _is_presentation_form(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in PRESENTATION_RANGES)


def _clusters(text: str):
    """Yield (start index, base character with its combining marks)."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not unicodedata.combining(text[i]) or text[i] in DIACRITICS:
            if i > start:
                yield start, text[start:i]
            start = i


def _letter(ch: str, prev: str, nxt: str) -> str:
    if ch == ARABIC_HEH:
        inside_word = unicodedata.category(nxt or " ").startswith("L")
        return "ھ" if prev in ASPIRABLE and inside_word else "ہ"
    if ch in DIGITS:
        return DIGITS[ch]
    if ch in SEPARATORS:
        return SEPARATORS[ch]
    return LOOKALIKES.get(ch, ch)


def clean(text: str) -> Cleaned:
    """NFC, one Urdu spelling per letter, ASCII digits, no diacritics or invisible characters."""
    out: list[str] = []
    origin: list[int] = []
    clusters = list(_clusters(text))
    for k, (start, cluster) in enumerate(clusters):
        if len(cluster) == 1 and cluster not in UNCHANGED_EXCEPT and _plain(cluster):
            out.append(cluster)  # most of an article: a letter, digit or space that needs nothing
            origin.append(start)
            continue
        if cluster in EXPANSIONS:
            piece = EXPANSIONS[cluster]
        elif cluster in INVISIBLE or cluster in DIACRITICS:
            continue
        else:
            if _is_presentation_form(cluster[0]):
                cluster = unicodedata.normalize("NFKC", cluster)
            piece = unicodedata.normalize("NFC", cluster)
            prev = next((p[-1] for p in reversed(out) if p), "")
            nxt = clusters[k + 1][1][0] if k + 1 < len(clusters) else ""
            piece = "".join(_letter(ch, prev if i == 0 else piece[i - 1], nxt) for i, ch in enumerate(piece))
            piece = "".join(ch for ch in piece if ch not in DIACRITICS)
        out.append(piece)
        origin.extend([start] * len(piece))
    return Cleaned("".join(out), tuple(origin))


# What XML 1.0 forbids (C0 controls but tab, newline and carriage return; U+FFFE, U+FFFF; lone
# surrogates): no feed, tag, transcript or page may carry them, whatever a user sent.
XML_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 (and so RSS, ID3 text in XML tools, WebVTT) cannot hold."""
    return XML_FORBIDDEN_RE.sub("", text)
