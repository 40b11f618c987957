"""The pronunciation lexicon: how names, acronyms said as words and English words are spoken.

A default ships with tts-news; a newsroom adds or overrides entries in `lexicon.tsv` in its data dir.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from tts_news.core.errors import UserError
from tts_news.text.cleanup import clean


def parse_lexicon(text: str, source: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, sep, spoken = line.partition("\t")
        if not sep or not word.strip() or not spoken.strip():
            raise UserError(f"{source}, line {number}: expected WORD<TAB>PRONUNCIATION, got {line!r}")
        # Spellings pass through the same clean-up as articles: diacritics and lookalikes never reach a voice.
        entries[word.strip()] = clean(spoken.strip()).text
    return entries


class Lexicon:
    """Exact match first, then case-insensitive; later sources override earlier ones."""

    def __init__(self, entries: dict[str, str] | None = None) -> None:
        self.exact: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        self.update(entries or {})

    def update(self, entries: dict[str, str]) -> None:
        self.exact.update(entries)
        self.folded.update({k.lower(): v for k, v in entries.items()})
        self._phrases: re.Pattern | None | bool = False

    @property
    def phrases(self) -> re.Pattern | None:
        """Entries that are more than one plain word (Rescue 1122, F-16, T20): matched on the text
        before the rules see it, longest first; None when there are none."""
        if self._phrases is False:
            keys = sorted((k for k in self.exact if not re.fullmatch(r"[^\W\d_]+", k)), key=len, reverse=True)
            body = "|".join(r"\s+".join(re.escape(w) for w in k.split()) for k in keys)
            self._phrases = re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.I) if keys else None
        return self._phrases

    def lookup(self, word: str) -> str | None:
        return self.exact.get(word) or self.folded.get(word.lower())

    @classmethod
    def load(cls, user_file: Path | None = None) -> Lexicon:
        default = resources.files("tts_news").joinpath("data/lexicon.tsv").read_text(encoding="utf-8")
        lexicon = cls(parse_lexicon(default, "default lexicon"))
        if user_file is not None and user_file.is_file():
            try:
                text = user_file.read_text(encoding="utf-8")
            except UnicodeDecodeError as err:
                raise UserError(f"{user_file}: the lexicon is not UTF-8 text") from err
            user = parse_lexicon(text, str(user_file))
            # User entries win over every default spelling of the same word, whatever its case.
            overridden = {k.lower() for k in user}
            lexicon.exact = {k: v for k, v in lexicon.exact.items() if k.lower() not in overridden}
            lexicon.update(user)
        return lexicon
