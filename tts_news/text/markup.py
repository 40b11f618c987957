"""What is never read aloud: HTML and Markdown markup, and the furniture news pages carry.

HTML is parsed with the standard library's HTML parser (tags, entities, comments; `<p>`, `<br>` and the
other block elements end a paragraph; scripts and styles are dropped). Markdown is parsed with
markdown-it-py and read through the same HTML path. Page furniture — caption labels, photo credits,
"read more" lines — is left out through a shipped list a newsroom extends with `DATA_DIR/furniture.txt`,
and every omission is reported.

Each step keeps, for every character it outputs, the index of the input character it came from, so the
normalizer's spans and warnings still point at what the user wrote.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from markdown_it import MarkdownIt

from tts_news.core.errors import UserError
from tts_news.text.cleanup import URDU_LETTERS

# Elements whose start or end breaks a paragraph, and elements whose content is never text.
BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "table", "td", "th", "tr", "ul",
}
HIDDEN_TAGS = {"script", "style", "noscript", "template", "head", "title", "iframe", "svg", "object"}
INLINE_TAGS = {
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "em", "font", "i", "img", "kbd", "mark", "q",
    "s", "small", "span", "strong", "sub", "sup", "time", "u", "body", "html", "tbody", "thead",
}
KNOWN_TAGS = BLOCK_TAGS | HIDDEN_TAGS | INLINE_TAGS
# Markup is recognised by a known element's tag or by a character reference, so "x < 5 > 3" stays text.
TAG_RE = re.compile(r"</?(" + "|".join(sorted(KNOWN_TAGS, key=len, reverse=True)) + r")\b[^<>]*>|<!--", re.I)
BLOCK_TAG_RE = re.compile(r"</?(" + "|".join(sorted(BLOCK_TAGS, key=len, reverse=True)) + r")\b[^<>]*>", re.I)
ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
LATIN_LETTERS = "A-Za-z"
# A photo credit after a credit label: Latin-script names, agencies and separators.
CREDIT = r"(?:[\s,/&]+[A-Za-z][A-Za-z0-9.&'’\-]*)+"


@dataclass(frozen=True)
class Mapped:
    """Text plus, for each of its characters, the index in the original input it came from."""

    text: str
    origin: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Mapped:
        return cls(text, tuple(range(len(text))))

    def position(self, i: int) -> int:
        """The original index behind text[i] (the end of the input past the last character)."""
        if i < len(self.origin):
            return self.origin[i]
        return self.origin[-1] + 1 if self.origin else 0


@dataclass(frozen=True)
class Omission:
    """Text left out of the speech on purpose; position indexes the original input."""

    position: int
    text: str
    reason: str


class _Pieces:
    """Builds a Mapped from pieces, each tied to an original position."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.origin: list[int] = []

    def add(self, text: str, origins) -> None:
        self.chars.append(text)
        self.origin.extend(origins)

    def add_at(self, text: str, at: int) -> None:
        self.add(text, [at] * len(text))

    def mapped(self) -> Mapped:
        return Mapped("".join(self.chars), tuple(self.origin))


def has_html(text: str) -> bool:
    return TAG_RE.search(text) is not None


class _HtmlText(HTMLParser):
    """HTML → text: data kept with its offsets, block elements as line breaks, hidden elements dropped."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.out = _Pieces()
        self.hidden = 0
        self.space_pending = False
        # Text with a stray inline tag but no block elements is an article whose lines are paragraphs.
        self.lines_are_paragraphs = not BLOCK_TAG_RE.search(source)

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _break(self) -> None:
        self.out.add_at("\n", self._offset())
        self.space_pending = False

    def handle_starttag(self, tag, attrs) -> None:
        if tag in HIDDEN_TAGS:
            self.hidden += 1
        elif tag in BLOCK_TAGS:
            self._break()
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self.hidden:  # an image's alt text is the author's words
                self._text(f" {html.unescape(alt)} ", [self._offset()] * (len(html.unescape(alt)) + 2))

    def handle_startendtag(self, tag, attrs) -> None:
        if tag not in HIDDEN_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag) -> None:
        if tag in HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCK_TAGS:
            self._break()

    def _text(self, text: str, origins: list[int]) -> None:
        # HTML collapses whitespace: runs of spaces and line breaks inside a paragraph are one space.
        for ch, at in zip(text, origins):
            if ch == "\n" and self.lines_are_paragraphs:
                self.out.add_at("\n", at)
                self.space_pending = False
                continue
            if ch.isspace():
                self.space_pending = True
                continue
            if self.space_pending:
                self.out.add_at(" ", at)
                self.space_pending = False
            self.out.add(ch, [at])

    def handle_data(self, data) -> None:
        if not self.hidden:
            start = self._offset()
            self._text(data, list(range(start, start + len(data))))

    def handle_entityref(self, name) -> None:
        self._reference(f"&{name};")

    def handle_charref(self, name) -> None:
        self._reference(f"&#{name};")

    def _reference(self, ref: str) -> None:
        if not self.hidden:
            text = html.unescape(ref)
            self._text(text, [self._offset()] * len(text))


def html_to_text(source: str) -> Mapped:
    parser = _HtmlText(source)
    parser.feed(source)
    parser.close()
    text = parser.out.mapped()
    # One paragraph break between blocks, none at the ends.
    pieces = _Pieces()
    for m in re.finditer(r"[^\n]+", text.text):
        line = m.group().strip(" ")
        if not line:
            continue
        if pieces.chars:
            pieces.add_at("\n", text.origin[m.start()])
        lead = m.group().index(line[0])
        pieces.add(line, text.origin[m.start() + lead : m.start() + lead + len(line)])
    return pieces.mapped()


def unescape_entities(source: str) -> Mapped:
    """Plain text with character references (&amp; &nbsp; &#1575;): each becomes its character."""
    out = _Pieces()
    at = 0
    for m in ENTITY_RE.finditer(source):
        out.add(source[at : m.start()], range(at, m.start()))
        out.add_at(html.unescape(m.group()), m.start())
        at = m.end()
    out.add(source[at:], range(at, len(source)))
    return out.mapped()


def strip_markup(source: str) -> Mapped:
    """HTML (recognised by its tags) becomes its text; entities in plain text become characters."""
    if has_html(source):
        return html_to_text(source)
    if "&" in source:
        return unescape_entities(source)
    return Mapped.of(source)


def markdown_to_text(source: str) -> str:
    """A Markdown article as the text a newsreader reads: parsed by markdown-it-py, markup gone, each
    block its own paragraph, link and image text kept."""
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(source)
    return html_to_text(rendered).text


# -- page furniture ----------------------------------------------------------------------------------


def parse_furniture(text: str, source: str) -> list[str]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        phrase = line.removesuffix("+credit").strip()
        if not phrase:
            raise UserError(f"{source}, line {number}: expected a phrase, optionally followed by +credit")
        entries.append(line)
    return entries


def _entry_pattern(entry: str) -> str:
    credit = entry.endswith("+credit")
    words = entry.removesuffix("+credit").split()
    body = r"\s+".join(re.escape(w) for w in words)
    first, last = words[0][0], words[-1][-1]
    before = rf"(?<![{LATIN_LETTERS}])" if first.isascii() else rf"(?<![{URDU_LETTERS}])"
    after = rf"(?![{LATIN_LETTERS}])" if last.isascii() else rf"(?![{URDU_LETTERS}])"
    return before + body + after + (CREDIT if credit else "")


@dataclass
class Furniture:
    """Phrases news pages carry that are not the news: left out, and reported."""

    entries: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        patterns = sorted((_entry_pattern(e) for e in self.entries), key=len, reverse=True)
        self.pattern = re.compile("|".join(patterns), re.I) if patterns else None

    @classmethod
    def load(cls, user_file: Path | None = None) -> Furniture:
        default = resources.files("tts_news").joinpath("data/furniture.txt").read_text(encoding="utf-8")
        entries = parse_furniture(default, "default furniture list")
        if user_file is not None and user_file.is_file():
            try:
                entries += parse_furniture(user_file.read_text(encoding="utf-8"), str(user_file))
            except UnicodeDecodeError as err:
                raise UserError(f"{user_file}: the furniture list is not UTF-8 text") from err
        return cls(entries)

    def remove(self, text: Mapped) -> tuple[Mapped, list[Omission]]:
        if self.pattern is None:
            return text, []
        out = _Pieces()
        omitted = []
        at = 0
        for m in self.pattern.finditer(text.text):
            out.add(text.text[at : m.start()], text.origin[at : m.start()])
            omitted.append(Omission(text.position(m.start()), m.group(), "page furniture"))
            out.add_at(" ", text.position(m.start()))  # words either side stay apart
            at = m.end()
        if not omitted:
            return text, []
        out.add(text.text[at:], text.origin[at:])
        return out.mapped(), omitted


def compose(outer: Mapped, inner: Mapped) -> Mapped:
    """inner was made from outer.text: map inner's characters all the way back to outer's origin."""
    return Mapped(inner.text, tuple(outer.position(i) for i in inner.origin))
