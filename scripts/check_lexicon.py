#!/usr/bin/env python3
"""Check the newsroom lexicon against real Urdu news: where the corpus writes a name, that spelling is the
evidence.

usage: check_lexicon.py [CORPUS_DIR] [--lexicon FILE] [--all] [--loose]

For every entry's Urdu spelling: is it printed in the corpus (../shared/corpus/ by default), and if not, does
the corpus print a near variant instead — one homophone letter swapped (س ص ث, ز ذ ض ظ, ت ط, ہ ح, ک ق, ا ع),
ہ/ا/ی/ے at the end, the words joined or split (فیصل آباد / فیصلآباد), and with `--loose` a vowel letter
added or left out (ا و ی)? Those are listed as disagreements, with the counts, to be settled by a person (the corpus is
evidence, not an oracle: a variant that is another word is a false alarm). `--all` also lists the entries
with no evidence either way. The last lines summarise: entries, found as written, disagreements, no evidence.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tts_news.text.cleanup import URDU_LETTERS, clean  # noqa: E402
from tts_news.text.lexicon import parse_entries  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
HOMOPHONES = ["سصث", "زذضظ", "تط", "ہح", "کق", "اع", "ءئ", "ٹت", "ڈد", "ڑر", "ںن", "ھہ"]
VOWEL_LETTERS = "اوی"
FINALS = "ہاےی"
WORD_RE = re.compile(f"[{URDU_LETTERS}]+")


def corpus_words(corpus: Path) -> tuple[Counter, Counter]:
    """Counts of words and of two-word runs (for spellings of two or more words)."""
    words, pairs = Counter(), Counter()
    for path in sorted(corpus.rglob("*.txt")):
        for line in clean(path.read_text(encoding="utf-8")).text.splitlines():
            run = WORD_RE.findall(line)
            words.update(run)
            pairs.update(" ".join(p) for p in zip(run, run[1:]))
    return words, pairs


def count(spelling: str, words: Counter, pairs: Counter, text_index: dict[str, list[str]]) -> int:
    parts = spelling.split()
    if len(parts) == 1:
        return words[spelling]
    if len(parts) == 2:
        return pairs[spelling]
    # Longer names: every adjacent pair must be printed (a cheap, slightly generous test).
    return min(pairs[" ".join(p)] for p in zip(parts, parts[1:]))


def variants(word: str, loose: bool) -> set[str]:
    """Spellings of the same sounds: homophone letters swapped, the final letter's variants; with `loose`
    also a vowel letter added or left out (which finds more, and more other words)."""
    out = set()
    for i, ch in enumerate(word):
        for group in HOMOPHONES:
            if ch in group:
                out |= {word[:i] + other + word[i + 1 :] for other in group if other != ch}
        if loose and ch in VOWEL_LETTERS and 0 < i:
            out.add(word[:i] + word[i + 1 :])
    if loose:
        for i in range(1, len(word)):
            out |= {word[:i] + v + word[i:] for v in VOWEL_LETTERS}
    if word[-1] in FINALS:
        out |= {word[:-1] + f for f in FINALS if f != word[-1]}
    out.discard(word)
    return out


def spelling_variants(spelling: str, loose: bool) -> set[str]:
    parts = spelling.split()
    out = set()
    if len(parts) > 1:
        out.add("".join(parts))
        out |= {" ".join([*parts[:i], parts[i] + parts[i + 1], *parts[i + 2 :]]) for i in range(len(parts) - 1)}
    elif len(spelling) >= 6:
        out |= {spelling[:i] + " " + spelling[i:] for i in range(3, len(spelling) - 2)}
    for i, part in enumerate(parts):
        if len(part) >= 3:  # two-letter words have too many neighbours to say anything
            out |= {" ".join([*parts[:i], v, *parts[i + 1 :]]) for v in variants(part, loose)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--lexicon", type=Path, default=ROOT / "tts_news" / "data" / "lexicon.tsv")
    parser.add_argument("--all", action="store_true", help="also list entries with no evidence")
    parser.add_argument("--loose", action="store_true", help="also try vowel letters added or left out")
    args = parser.parse_args()
    entries = parse_entries(args.lexicon.read_text(encoding="utf-8"), str(args.lexicon))
    words, pairs = corpus_words(args.corpus)
    found = disagree = silent = 0
    seen: dict[str, str] = {}
    for latin, (spelling, kind) in entries.items():
        if spelling in seen:  # one spelling, several Latin keys (Muhammad, Mohammad): judged once
            continue
        seen[spelling] = latin
        n = count(spelling, words, pairs, {})
        if n:
            found += 1
            continue
        rivals = sorted(((count(v, words, pairs, {}), v) for v in spelling_variants(spelling, args.loose)), reverse=True)
        rivals = [(c, v) for c, v in rivals if c][:3]
        if rivals:
            disagree += 1
            said = ", ".join(f"{v} ×{c}" for c, v in rivals)
            print(f"DISAGREE  {latin}\t{spelling}\t({kind or '-'}): the corpus writes {said}; {spelling} ×0")
        else:
            silent += 1
            if args.all:
                print(f"NO EVIDENCE  {latin}\t{spelling}\t({kind or '-'})")
    total = found + disagree + silent
    print(f"lexicon: {len(entries)} entries, {total} distinct Urdu spellings")
    print(f"corpus check: {found} printed as written, {disagree} disagree with the corpus, {silent} not in it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
