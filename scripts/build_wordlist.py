#!/usr/bin/env python3
"""Build tts_news/data/urdu-words.tsv: the Urdu words of real news and how often each occurs.

The roman-Urdu reader prefers candidate spellings found in this list (and in names.txt). Source: the
"Bend the Truth" Urdu news corpus in ../shared/corpus (cite: M. Amjad et al., "Bend the Truth: A Benchmark
Dataset for Fake News Detection in Urdu and Its Evaluation", JIFS 39(2):2457-2469, 2020). Only the words
and their counts are kept, not the articles.

usage: scripts/build_wordlist.py [CORPUS_DIR ...]
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tts_news.text.cleanup import clean  # noqa: E402

WORD_RE = re.compile(r"[\u0620-\u064A\u066E-\u06D3\u06D5\u06FA-\u06FF]{2,}")
DEFAULT = ROOT.parent / "shared" / "corpus" / "bend-the-truth-real"
OUT = ROOT / "tts_news" / "data" / "urdu-words.tsv"


def main(argv: list[str]) -> int:
    folders = [Path(a) for a in argv] or [DEFAULT]
    counts: collections.Counter[str] = collections.Counter()
    for folder in folders:
        for path in sorted(folder.rglob("*.txt")):
            counts.update(WORD_RE.findall(clean(path.read_text(encoding="utf-8")).text))
    lines = [f"{word}\t{n}" for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    header = ("# Urdu words of real news with their counts; built by scripts/build_wordlist.py from the\n"
              "# Bend the Truth corpus (Amjad et al., JIFS 39(2):2457-2469, 2020; doi:10.3233/JIFS-179905).\n")
    OUT.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(lines)} words from {sum(counts.values())} running words")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
