"""Roman Urdu and South Asian names in Latin script → their real Urdu spelling.

"Nawaz Sharif", "Karachi", "Zindabad" are Urdu words written in Latin letters, so the right answer is a
spelling Urdu already has. Each Latin letter group has the Urdu letters it may stand for, each with a
cost (s → س, ص, ث; a → nothing, ا, ع, or ہ at the end …). A search walks those choices through a trie of
known Urdu words — real news vocabulary (`data/urdu-words.tsv`, built by scripts/build_wordlist.py) and
a names/places list (`data/names.txt`, extended by `DATA_DIR/names.txt`) — and returns the cheapest
spelling that is a known word, or two known words ("Islamabad" → اسلام آباد). No known spelling → None,
and the caller goes on to the English dictionary and the letter rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from tts_news.text.cleanup import ascii_fold

# Letter groups, longest first. Each option: (Urdu letters, cost). Vowels differ by place in the word.
CONSONANTS: dict[str, list[tuple[str, float]]] = {
    "chh": [("چھ", 0)], "sh": [("ش", 0)], "ch": [("چ", 0)], "kh": [("خ", 0), ("کھ", 0.4)],
    "gh": [("غ", 0), ("گھ", 0.4)], "ph": [("پھ", 0), ("ف", 0.4)], "th": [("تھ", 0), ("ٹھ", 0.4), ("ث", 0.8)],
    "dh": [("دھ", 0), ("ڈھ", 0.3), ("ذ", 0.8)], "bh": [("بھ", 0)], "jh": [("جھ", 0)], "rh": [("ڑھ", 0.4)],
    "zh": [("ژ", 0)], "ck": [("ک", 0)], "q": [("ق", 0), ("ک", 0.6)], "k": [("ک", 0), ("ق", 0.6)],
    "g": [("گ", 0)], "c": [("ک", 0.3), ("س", 0.5)], "b": [("ب", 0)], "p": [("پ", 0)],
    "t": [("ت", 0), ("ٹ", 0.3), ("ط", 0.5)], "d": [("د", 0), ("ڈ", 0.3), ("ض", 0.7)], "j": [("ج", 0)],
    "f": [("ف", 0)], "v": [("و", 0)], "w": [("و", 0)], "l": [("ل", 0)], "m": [("م", 0)],
    "n": [("ن", 0), ("ں", 0.5)], "r": [("ر", 0), ("ڑ", 0.5)], "s": [("س", 0), ("ص", 0.4), ("ث", 0.7)],
    "z": [("ز", 0), ("ذ", 0.4), ("ض", 0.5), ("ظ", 0.5)], "x": [("کس", 0)], "y": [("ی", 0)],
    "h": [("ہ", 0), ("ح", 0.3), ("ھ", 0.7), ("", 0.8)],
}
INITIAL_VOWELS: dict[str, list[tuple[str, float]]] = {
    "aa": [("آ", 0), ("ا", 0.3)], "a": [("ا", 0), ("آ", 0.3), ("ع", 0.4), ("اع", 0.4), ("عا", 0.4)], "ee": [("ای", 0)],
    "e": [("ا", 0), ("ای", 0.2), ("ع", 0.5)], "i": [("ا", 0), ("ای", 0.3), ("ع", 0.4)],
    "o": [("او", 0), ("ا", 0.4), ("ع", 0.6)], "u": [("ا", 0), ("او", 0.3), ("ع", 0.4)],
    "ai": [("ای", 0.2), ("عی", 0.5)],
}
MEDIAL_VOWELS: dict[str, list[tuple[str, float]]] = {
    "aa": [("ا", 0)], "ee": [("ی", 0)], "ii": [("ی", 0)], "oo": [("و", 0)], "ou": [("و", 0)],
    "ai": [("ی", 0), ("ے", 0.3), ("ائی", 0.5), ("ئی", 0.6)], "ay": [("ی", 0.1), ("ے", 0.3)],
    "au": [("و", 0), ("ؤ", 0.3), ("اؤ", 0.4)], "aw": [("و", 0.2)], "ei": [("ی", 0)], "ey": [("ی", 0)],
    "a": [("", 0), ("ا", 0.2), ("ع", 0.5), ("آ", 0.5), ("ہ", 0.8)], "e": [("ی", 0), ("", 0.2), ("ے", 0.8), ("ع", 0.7)],
    "i": [("ی", 0), ("", 0.1), ("ئ", 0.6)], "o": [("و", 0), ("", 0.5)], "u": [("", 0), ("و", 0.2)],
}
FINAL_VOWELS: dict[str, list[tuple[str, float]]] = {
    "aa": [("ا", 0)], "ee": [("ی", 0)], "oo": [("و", 0)], "ai": [("ے", 0), ("ی", 0.3)], "ay": [("ے", 0)],
    "a": [("ا", 0), ("ہ", 0), ("", 1.2)], "e": [("ے", 0), ("ی", 0.3), ("ہ", 0.5), ("", 0.6)],
    "i": [("ی", 0)], "o": [("و", 0), ("ہ", 1.0)], "u": [("و", 0)], "y": [("ی", 0)],
}
GROUPS = sorted({*CONSONANTS, *INITIAL_VOWELS, *MEDIAL_VOWELS, *FINAL_VOWELS}, key=len, reverse=True)
SPLIT_COST = 1.0  # "Islamabad" → اسلام آباد: two known words cost more than one
MIN_PIECE = 3  # Latin letters in each of two words
NAME_COST_PER_LETTER = 0.25  # how far a listed name's spelling may stray from the likeliest letters
WORD_COST_PER_LETTER = 0.1  # and a word of news vocabulary
MIN_WORD = 4  # a shorter Latin word matches only listed names: "War" is not ور
NAME_BONUS = 0.8
MAX_LETTERS = 24
UNWRITTEN_AFTER_VOWEL = 1.0  # the longest Latin word searched as roman Urdu


class _Trie:
    __slots__ = ("children", "count", "name")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.count = 0
        self.name = False

    def add(self, word: str, count: int, name: bool) -> None:
        node = self
        for ch in word:
            node = node.children.setdefault(ch, _Trie())
        node.count += count
        node.name = node.name or name

    def walk(self, letters: str) -> _Trie | None:
        node: _Trie | None = self
        for ch in letters:
            node = node.children.get(ch) if node else None
            if node is None:
                return None
        return node


def _options(word: str, i: int, first: bool) -> list[tuple[int, str, float, bool]]:
    """(next index, Urdu letters, cost, word-final) for each letter group starting at word[i]."""
    out = []
    for group in GROUPS:
        if not word.startswith(group, i):
            continue
        j = i + len(group)
        if group in CONSONANTS:
            for urdu, cost in CONSONANTS[group]:
                out.append((j, urdu, cost, False))
            # A doubled consonant (Bhakkar, Muhammad) is written once.
            if j < len(word) and word[j] == group[-1] and len(group) == 1:
                for urdu, cost in CONSONANTS[group]:
                    out.append((j + 1, urdu, cost, False))
            continue
        table = INITIAL_VOWELS if first else MEDIAL_VOWELS
        after_vowel = i > 0 and word[i - 1] in "aeiouy"
        if j < len(word) or first:
            for urdu, cost in table.get(group, []):
                # A vowel may go unwritten between consonants, not after another vowel ("aaaa" is no word).
                out.append((j, urdu, cost + (UNWRITTEN_AFTER_VOWEL if after_vowel and not urdu else 0), False))
        for urdu, cost in FINAL_VOWELS.get(group, []):
            if not first:
                out.append((j, urdu, cost, True))
    return out


class RomanReader:
    def __init__(self, words: dict[str, int], names: set[str]) -> None:
        self.trie = _Trie()
        # A name of two words (اسلام آباد) is found by its letters and said with its space.
        self.spaced = {w.replace(" ", ""): w for w in names if " " in w}
        for word, count in words.items():
            self.trie.add(word, count, False)
        for name in names:
            self.trie.add(name.replace(" ", ""), 0, True)
        self._read = lru_cache(maxsize=4096)(self._search)

    @classmethod
    def load(cls, user_names: Path | None = None) -> RomanReader:
        return cls(*_known_words(user_names))

    def read(self, latin: str, names_only: bool = False) -> str | None:
        """The Urdu spelling of a roman-Urdu word or name; `names_only` for a word that is also English
        ("Camera" is not the Urdu word کامرہ, but "Karachi" is the listed name کراچی)."""
        found = self.match(latin, names_only)
        return found.spelling if found else None

    def match(self, latin: str, names_only: bool = False) -> Match | None:
        """The cheapest known spelling with its evidence (how far it strays from the likeliest letters,
        whether it is a listed name), for a caller that weighs it against an English reading."""
        word = ascii_fold(latin).lower()
        if not 2 <= len(word) <= MAX_LETTERS or not word.isalpha():
            return None  # past MAX_LETTERS it is no name (and the search would grow with the length)
        return self._read(word, names_only)

    def _search(self, word: str, names_only: bool) -> Match | None:
        budget = NAME_COST_PER_LETTER * len(word) + 0.5
        word_budget = WORD_COST_PER_LETTER * len(word) + 0.3
        best: list[tuple[float, str]] = []

        def finish(cost: float, pieces: list[str], node: _Trie) -> None:
            if not node.name and (names_only or cost > word_budget or len(word) < MIN_WORD or len(pieces) > 1):
                return  # news vocabulary must match closely; only names are split or matched loosely
            score = cost - (NAME_BONUS if node.name else 0) - 0.1 * math.log10(node.count + 1)
            letters_cost = cost - SPLIT_COST * (len(pieces) - 1)  # the fit of the letters, not the split
            best.append((score, " ".join(self.spaced.get(p, p) for p in pieces), letters_cost, node.name, node.count))

        def walk(i: int, node: _Trie, spelled: str, done: list[str], cost: float, start: int) -> None:
            if cost > budget:
                return
            if i == len(word):
                if (node.count or node.name) and spelled:
                    finish(cost, [*done, spelled], node)
                return
            for j, urdu, c, final in _options(word, i, first=(i == start)):
                nxt = node.walk(urdu) if urdu else node
                if nxt is None:
                    continue
                if final and j < len(word):
                    # A word-final vowel inside the Latin word: a known name ends here and another begins.
                    if nxt.name and not done and j - start >= MIN_PIECE and len(word) - j >= MIN_PIECE:
                        walk(j, self.trie, "", [spelled + urdu], cost + c + SPLIT_COST, j)
                    continue
                walk(j, nxt, spelled + urdu, done, cost + c, start)
            # After a consonant a known name may end and the next begin (Islam|abad).
            if node.name and spelled and not done and word[i - 1] not in "aeiouy" and i - start >= MIN_PIECE and len(word) - i >= MIN_PIECE:
                walk(i, self.trie, "", [spelled], cost + SPLIT_COST, i)

        walk(0, self.trie, "", [], 0.0, 0)
        if not best:
            return None
        _, spelling, cost, name, count = min(best)
        return Match(spelling, round(cost, 3), name, count)


@dataclass(frozen=True)
class Match:
    """A known Urdu spelling for a Latin word: `cost` is how far its letters stray from the likeliest ones
    (0 for Karachi → کراچی; 1.3 for Harris → حارث, which needs ح and ث), `name` whether a listed name,
    `count` how often the spelling occurs in the news word list (محمد 41, حارث 0)."""

    spelling: str
    cost: float
    name: bool
    count: int = 0


# The letters a roman-Urdu word most likely stands for, where no known word matches (a guess, and said so):
# endings first, where roman Urdu is most regular: -an ان (Imran, Rizwan), -az از (Nawaz), -al ال (Bilal),
# -eem/-een ی (Nadeem, Shaheen), -ad د with its short a unwritten (Arshad); d and t are dental (د ت),
# never the English ڈ ٹ.
GUESS_ENDINGS = (("aan", "ان"), ("an", "ان"), ("aaz", "از"), ("az", "از"), ("al", "ال"), ("ah", "ہ"))


def guess(word: str) -> str:
    """Arshad → ارشد, Nadeem → ندیم, Kamala → کملا, Zalmi → زلمی: each letter group's likeliest Urdu letters."""
    word = ascii_fold(word).lower()
    if not word.isalpha():
        return ""
    ending = ""
    for latin, urdu in GUESS_ENDINGS:
        # Only after a consonant, on a word long enough to have another syllable (Khan is no "-an" ending).
        if word.endswith(latin) and len(word) - len(latin) >= 3 and word[-len(latin) - 1] not in "aeiouy":
            word, ending = word[: -len(latin)], urdu
            break
    out = []
    i = 0
    while i < len(word):
        if i > 0 and word[i] == word[i - 1] and word[i] not in "aeiouy":
            i += 1  # Hassan, Bhatti: a doubled consonant is written once
            continue
        # A word-final vowel table only at the real end (not before the ending that was cut off).
        pool = [o for o in _options(word, i, first=(i == 0)) if not (o[3] and (o[0] < len(word) or ending))]
        if i > 0 and word[i] in "iu" and not word.startswith(("ii", "uu"), i) and i + 1 < len(word):
            pool = [(i + 1, "", 0.0, False), *pool]  # short i and u go unwritten in Urdu (Bilal, Yasir)
        j, urdu, _, _ = min(pool, key=lambda o: (o[2], -o[0]))
        out.append(urdu)
        i = j
    return "".join(out) + ending


def _known_words(user_names: Path | None) -> tuple[dict[str, int], set[str]]:
    data = resources.files("tts_news").joinpath("data")
    words: dict[str, int] = {}
    for line in data.joinpath("urdu-words.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, _, count = line.partition("\t")
            words[word] = int(count or 1)
    names = data.joinpath("names.txt").read_text(encoding="utf-8").splitlines()
    if user_names is not None and user_names.is_file():
        names += user_names.read_text(encoding="utf-8").splitlines()
    return words, {n.strip() for n in names if n.strip() and not n.startswith("#")}
