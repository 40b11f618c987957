"""Where articles come from: a file or standard input, a folder of stories (web pages and news feeds:
`sources`) — and the checks every article passes before it is read (something to say, within the limit)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tts_news.core.config import Settings
from tts_news.core.errors import TooLarge, UserError
from tts_news.text.markup import markdown_to_text

ARTICLE_SUFFIXES = (".txt", ".md")


def read_article(path: str | Path, stdin=None) -> str:
    """A UTF-8 article file, or '-' for standard input; clear errors for the usual mistakes."""
    if str(path) == "-":
        data = (stdin.buffer if hasattr(stdin, "buffer") else stdin).read()
        name = "standard input"
    else:
        p = Path(path)
        if not p.exists():
            raise UserError(f"{p}: no such file")
        if p.is_dir():
            raise UserError(f"{p}: is a folder, not an article file")
        data = p.read_bytes()
        name = str(p)
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise UserError(f"{name}: not UTF-8 text (byte {err.start} is not valid UTF-8)") from err
    if not text.strip():
        raise UserError(f"{name}: the article is empty")
    return text


def check_article(text: str, settings: Settings) -> None:
    """An article a render can take: something to read, within the limit. Checked when a job is
    submitted (so the user hears at once) and again when it is prepared."""
    if not text.strip():
        raise UserError("the article is empty: there is no text to read")
    if len(text) > settings.max_article_chars:
        raise TooLarge(f"the article has {len(text):,} characters; the limit is {settings.max_article_chars:,}")


@dataclass
class Article:
    path: Path
    text: str
    digest: str = ""
    source_url: str | None = None  # the web page a feed item was taken from

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass
class Outcome:
    name: str
    status: str  # rendered | skipped | failed
    detail: str = ""
    warnings: list[str] = field(default_factory=list)


DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([mhd])")
DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> float:
    """'12h', '90m', '2d' → seconds."""
    m = DURATION_RE.fullmatch(text.strip().lower())
    if not m:
        raise UserError(f"--since {text!r}: give a duration like 12h, 90m or 2d")
    return float(m.group(1)) * DURATION_UNITS[m.group(2)]


def read_articles(folder: Path, max_chars: int | None = None) -> tuple[list[Article], list[Outcome]]:
    """The folder's .txt and .md articles; each checked for length before any Markdown is parsed."""
    articles, bad = [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES and p.is_file()):
        try:
            text = read_article(path)
            if max_chars is not None and len(text) > max_chars:
                raise TooLarge(f"{path}: {len(text):,} characters; the limit is {max_chars:,}")
            if path.suffix.lower() == ".md":
                text = markdown_to_text(text)
                if not text.strip():
                    raise UserError(f"{path}: the article is empty")
            articles.append(Article(path, text))
        except UserError as err:
            bad.append(Outcome(path.name, "failed", str(err)))
    return articles, bad
