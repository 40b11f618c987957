"""Article text → Script: paragraphs of sentences, each with its original and its spoken text.

Coqui's sentence splitter is English-only, so Urdu is split here: ۔ ؟ ! (and ? .) end sentences, a
line break ends a paragraph. A sentence longer than a voice's comfortable limit is cut at ، ؛ or a
space — never inside a word.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from tts_news.core.errors import UserError
from tts_news.text.latin import ABBREVIATIONS
from tts_news.text.normalize import Normalized, Normalizer, Span, TextWarning

# A sentence ends at ۔ ؟ ! ? (with any closing quotes or brackets), or at a '.' after an Urdu or
# lowercase letter — not inside 8.25, U.S., an ellipsis, a score written 2۔2, or after Dr.
SENTENCE_END_RE = re.compile(r"""(?:(?<!\d)۔+|۔+(?!\d)|[؟!?]+|(?<![\dA-Z.])\.(?![\d.]))["'’”»)\]]*""")
ABBREVIATION_BEFORE_RE = re.compile(r"(?<![A-Za-z])(?:" + "|".join(ABBREVIATIONS) + r")\.$")
PHRASE_CUTS = "،؛"
TITLE_CHARS = 300  # an episode's title at most; a longer first line is cut at a word
CHAPTER_TITLE_CHARS = 90  # a chapter list line, not the whole first paragraph of a wire story
DEFAULT_MAX_CHARS = 300  # longest spoken sentence a voice says comfortably in one call (voice files may say)


@dataclass(frozen=True)
class Sentence:
    """One call to a voice: `text` as written (for transcripts), `spoken` as said."""

    text: str
    spoken: str
    start: int  # offset of `text` in the article
    spans: tuple[Span, ...] = ()  # spoken ranges → ranges of `text`
    warnings: tuple[TextWarning, ...] = ()


@dataclass(frozen=True)
class Paragraph:
    index: int
    text: str
    start: int
    sentences: tuple[Sentence, ...]


@dataclass
class Script:
    title: str
    paragraphs: list[Paragraph] = field(default_factory=list)
    omitted: list[TextWarning] = field(default_factory=list)  # markup furniture left out, by input position

    @property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.paragraphs for s in p.sentences]

    @property
    def to_say(self) -> list[tuple[int, Sentence]]:
        """(paragraph index, sentence) for each sentence with something to say, in order."""
        return [(p.index, s) for p in self.paragraphs for s in p.sentences if s.spoken.strip()]

    @property
    def warnings(self) -> list[TextWarning]:
        return [*self.omitted, *(w for s in self.sentences for w in s.warnings)]


def split_paragraphs(text: str) -> list[tuple[int, str]]:
    """Every non-empty line is a paragraph (news copy uses a line per paragraph); offsets kept."""
    out = []
    for m in re.finditer(r"[^\r\n]+", text):
        line = m.group()
        stripped = line.strip()
        if stripped:
            out.append((m.start() + line.index(stripped[0]), stripped))
    return out


def short_title(text: str, limit: int = CHAPTER_TITLE_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip("،,؛;:") + "…"


def headline(text: str) -> str:
    """An article's title when none is given: its first line (cut at a word past TITLE_CHARS)."""
    paragraphs = split_paragraphs(text)
    return short_title(paragraphs[0][1], TITLE_CHARS) if paragraphs else ""


def split_sentences(paragraph: str) -> list[tuple[int, str]]:
    out = []
    start = 0
    ends = [m.end() for m in SENTENCE_END_RE.finditer(paragraph)]
    ends = [e for e in ends if not ABBREVIATION_BEFORE_RE.search(paragraph, 0, e)]
    for end in [*ends, len(paragraph)]:
        piece = paragraph[start:end]
        if piece.strip():
            out.append((start + len(piece) - len(piece.lstrip()), piece.strip()))
        start = end
    return out


def _cut_points(spoken: str, max_chars: int) -> list[int]:
    """Where a too-long spoken sentence is cut: pieces of about equal length, at ، ؛ where one is
    near, else at the space nearest the middle; a "word" longer than the limit (hostile or broken text)
    is cut at the limit, so no piece ever reaches a voice longer than `max_chars`."""
    cuts = []
    start = 0
    while len(spoken) - start > max_chars:
        remaining = len(spoken) - start
        target = start + remaining // -(-remaining // max_chars)
        lo, hi = start + max_chars // 3, start + max_chars
        phrase = [i + 1 for i in range(lo, hi) if spoken[i] in PHRASE_CUTS]
        spaces = [i for i in range(lo, hi + 1) if spoken[i] == " "]
        at = min(phrase or spaces, key=lambda i: abs(i - target)) if phrase or spaces else hi
        cuts.append(at)
        start = at
    return cuts


def _sub_sentence(text: str, base: int, norm: Normalized, a: int, b: int) -> Sentence:
    spoken = norm.spoken[a:b]
    lead = len(spoken) - len(spoken.lstrip())
    spoken = spoken.strip()
    a += lead
    rng = norm.source_range(a, a + len(spoken)) or (0, len(text))
    src = text[rng[0] : rng[1]]
    spans = tuple(
        Span(s.spoken_start - a, s.spoken_end - a, s.source_start - rng[0], s.source_end - rng[0], s.uncertain)
        for s in norm.spans
        if s.spoken_start >= a and s.spoken_end <= a + len(spoken)
    )
    warnings = tuple(w for w in norm.warnings if rng[0] <= w.position < rng[1])
    shifted = tuple(TextWarning(w.position + base, w.text, w.message) for w in warnings)
    return Sentence(src, spoken, base + rng[0], spans, shifted)


def sentences_of(text: str, start: int, normalizer: Normalizer, max_chars: int) -> list[Sentence]:
    """Normalize one written sentence (markup already out); cut it into pieces a voice says comfortably."""
    norm = normalizer.normalize(text, markup=False)
    if not norm.spoken.strip():
        # Nothing to say (a line of emoji or quotes): keep its warnings, say nothing.
        return [Sentence(text, "", start, (), tuple(
            TextWarning(w.position + start, w.text, w.message) for w in norm.warnings))]
    bounds = [0, *_cut_points(norm.spoken, max_chars), len(norm.spoken)]
    pieces = [_sub_sentence(text, start, norm, a, b) for a, b in zip(bounds, bounds[1:]) if norm.spoken[a:b].strip()]
    longest = max((len(w) for w in norm.spoken.split()), default=0)
    if longest > max_chars and pieces:  # said, but in pieces: tell the user why it sounds broken
        first = pieces[0]
        pieces[0] = dataclasses.replace(first, warnings=(*first.warnings, TextWarning(
            start, "", f"a word of {longest:,} letters is longer than the voice can say at once "
                       f"({max_chars}); it is read in pieces")))
    return pieces


def build_script(
    text: str,
    normalizer: Normalizer,
    *,
    title: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Script:
    """The article's first line is its title (and its own paragraph) unless a title is given. HTML and
    page furniture are taken out first (`<p>` and `<br>` end paragraphs); the script's offsets index the
    text that is read, and what was left out is in `script.omitted`."""
    plain, omitted = normalizer.strip(text)
    text = plain.text
    paragraphs = split_paragraphs(text)
    if not paragraphs:
        raise UserError("the article is empty: there is no text to read")
    script = Script(title=title or headline(text), omitted=omitted)
    for index, (p_start, p_text) in enumerate(paragraphs):
        sentences: list[Sentence] = []
        for s_start, s_text in split_sentences(p_text):
            sentences += sentences_of(s_text, p_start + s_start, normalizer, max_chars)
        script.paragraphs.append(Paragraph(index, p_text, p_start, tuple(sentences)))
    return script
