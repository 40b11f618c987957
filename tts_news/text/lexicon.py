"""The pronunciation lexicon: how names, acronyms said as words and English words are spoken.

A default ships with tts-news (`data/lexicon.tsv`, the newsroom lexicon: Latin spellings with the Urdu
press's spelling and a kind); a newsroom adds or overrides entries in `lexicon.tsv` in its data dir.
A line is `WORD<TAB>URDU` or `WORD<TAB>URDU<TAB>KIND`.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from tts_news.core.errors import UserError
from tts_news.text.cleanup import clean

# What an entry is: the competition between English and roman-Urdu readings, the corpus check and the
# uncertain marking read it. A user's lexicon may leave it out.
KINDS = frozenset({
    "person", "place", "org", "party", "team", "league", "event", "company", "brand", "app", "media",
    "acronym", "initials", "word", "title", "month", "unit", "web", "phrase",
})
PLAIN_WORD_RE = re.compile(r"[^\W\d_]+")
FIRST_WORD_RE = re.compile(r"[^\W_]+")


def parse_entries(text: str, source: str) -> dict[str, tuple[str, str]]:
    """WORD → (URDU, KIND); KIND is "" where the line gives none."""
    entries: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) not in (2, 3) or not fields[0] or not fields[1]:
            raise UserError(f"{source}, line {number}: expected WORD<TAB>PRONUNCIATION[<TAB>KIND], got {line!r}")
        kind = fields[2] if len(fields) == 3 else ""
        if kind and kind not in KINDS:
            raise UserError(f"{source}, line {number}: unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
        # Spellings pass through the same clean-up as articles: diacritics and lookalikes never reach a voice.
        entries[fields[0]] = (clean(fields[1]).text, kind)
    return entries


def parse_lexicon(text: str, source: str) -> dict[str, str]:
    return {word: spoken for word, (spoken, _) in parse_entries(text, source).items()}


class PhraseIndex:
    """Entries of more than one plain word (Rescue 1122, F-16, Peshawar Zalmi), found at a position by their
    first word: a dictionary look-up and a few anchored patterns, however large the lexicon (one alternation
    of thousands of phrases would be tried at every token)."""

    def __init__(self, keys: list[str]) -> None:
        self.by_first: dict[str, list[re.Pattern]] = {}
        for key in sorted(keys, key=len, reverse=True):
            first = FIRST_WORD_RE.search(key)
            if first is None or first.start() != 0:
                continue
            body = r"\s+".join(re.escape(w) for w in key.split())
            self.by_first.setdefault(first.group().lower(), []).append(re.compile(rf"{body}(?![\w-])", re.I))

    def match(self, src: str, pos: int) -> re.Match | None:
        if pos and (src[pos - 1].isalnum() or src[pos - 1] in "_-"):
            return None
        first = FIRST_WORD_RE.match(src, pos)
        if first is None:
            return None
        for pattern in self.by_first.get(first.group().lower(), ()):
            if m := pattern.match(src, pos):
                return m
        return None


class Lexicon:
    """Exact match first, then case-insensitive; later sources override earlier ones."""

    def __init__(self, entries: dict[str, str] | None = None, kinds: dict[str, str] | None = None) -> None:
        self.exact: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        self.folded_caps: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.update(entries or {}, kinds)

    def update(self, entries: dict[str, str], kinds: dict[str, str] | None = None) -> None:
        self.exact.update(entries)
        for key, spoken in entries.items():
            # An acronym (WHO, IT, RAW) is not the English word in lower case (who, it, raw): its key matches
            # any case but all lower case.
            (self.folded_caps if key.isupper() and len(key) > 1 else self.folded)[key.lower()] = spoken
            (self.folded if key.isupper() and len(key) > 1 else self.folded_caps).pop(key.lower(), None)
        for word in entries:
            self.kinds.pop(word.lower(), None)
        self.kinds.update({k.lower(): v for k, v in (kinds or {}).items() if v})
        self._phrases: PhraseIndex | None | bool = False

    @property
    def phrases(self) -> PhraseIndex | None:
        """Entries that are more than one plain word, matched on the text before the rules see it, longest
        first; None when there are none."""
        if self._phrases is False:
            keys = [k for k in self.exact if not PLAIN_WORD_RE.fullmatch(k)]
            self._phrases = PhraseIndex(keys) if keys else None
        return self._phrases

    def lookup(self, word: str) -> str | None:
        low = word.lower()
        return self.exact.get(word) or self.folded.get(low) or (None if word == low else self.folded_caps.get(low))

    def kind(self, word: str) -> str:
        """The entry's kind (person, team, acronym …), "" when the word has none or no entry."""
        return self.kinds.get(word.lower(), "")

    def __len__(self) -> int:
        return len(self.folded.keys() | self.folded_caps.keys())

    @classmethod
    def load(cls, user_file: Path | None = None) -> Lexicon:
        default = resources.files("tts_news").joinpath("data/lexicon.tsv").read_text(encoding="utf-8")
        shipped = parse_entries(default, "default lexicon")
        lexicon = cls({w: s for w, (s, _) in shipped.items()}, {w: k for w, (_, k) in shipped.items()})
        if user_file is not None and user_file.is_file():
            try:
                text = user_file.read_text(encoding="utf-8")
            except UnicodeDecodeError as err:
                raise UserError(f"{user_file}: the lexicon is not UTF-8 text") from err
            user = parse_entries(text, str(user_file))
            # User entries win over every default spelling of the same word, whatever its case.
            overridden = {k.lower() for k in user}
            lexicon.exact = {k: v for k, v in lexicon.exact.items() if k.lower() not in overridden}
            lexicon.update({w: s for w, (s, _) in user.items()}, {w: k for w, (_, k) in user.items()})
        return lexicon
