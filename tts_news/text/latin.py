"""Latin script inside Urdu news: acronyms letter by letter; other words through the lexicon, then as
roman Urdu (a known Urdu spelling), then the CMU pronouncing dictionary, and letter rules only as the last
resort — so that no English word is ever silently lost.

Reading order for one word: the lexicon (a newsroom's own first); dotted initials (U.S.); short capitals
as initials (IMF); a capitalised word or a word English does not know as roman Urdu (Nawaz → نواز); the
CMU dictionary (feature → فیچر); roman Urdu for the rest; the letter rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_news.text import english
from tts_news.text.cleanup import ascii_fold
from tts_news.text.roman import guess as guess_roman

LETTER_NAMES = {
    "a": "اے", "b": "بی", "c": "سی", "d": "ڈی", "e": "ای", "f": "ایف", "g": "جی", "h": "ایچ", "i": "آئی",
    "j": "جے", "k": "کے", "l": "ایل", "m": "ایم", "n": "این", "o": "او", "p": "پی", "q": "کیو", "r": "آر",
    "s": "ایس", "t": "ٹی", "u": "یو", "v": "وی", "w": "ڈبلیو", "x": "ایکس", "y": "وائی", "z": "زیڈ",
}
# Longest spellings first; each maps an English spelling to the Urdu letters a reader would write.
GRAPHEMES = [
    ("tion", "شن"), ("sion", "ژن"), ("ough", "و"), ("igh", "ائی"), ("sch", "سک"),
    ("sh", "ش"), ("ch", "چ"), ("th", "تھ"), ("ph", "ف"), ("gh", "گ"), ("kh", "خ"), ("ck", "ک"),
    ("qu", "کو"), ("wh", "و"), ("oo", "و"), ("ee", "ی"), ("ea", "ی"), ("ai", "ے"), ("ay", "ے"),
    ("ey", "ی"), ("ou", "او"), ("ow", "او"), ("oa", "و"), ("ie", "ی"), ("au", "ا"), ("aw", "ا"),
    ("ll", "ل"), ("ss", "س"), ("tt", "ٹ"), ("pp", "پ"), ("mm", "م"), ("nn", "ن"), ("rr", "ر"),
    ("ff", "ف"), ("dd", "ڈ"), ("bb", "ب"), ("gg", "گ"), ("zz", "ز"),
]
CONSONANTS = {
    "b": "ب", "c": "ک", "d": "ڈ", "f": "ف", "g": "گ", "h": "ہ", "j": "ج", "k": "ک", "l": "ل", "m": "م",
    "n": "ن", "p": "پ", "q": "ک", "r": "ر", "s": "س", "t": "ٹ", "v": "و", "w": "و", "x": "کس", "y": "ی",
    "z": "ز",
}
# Vowels at the start of a word carry an alif; inside a word short vowels are mostly unwritten in Urdu.
INITIAL_VOWELS = {"a": "ا", "e": "ا", "i": "ا", "o": "او", "u": "ا"}
MEDIAL_VOWELS = {"a": "ا", "e": "ی", "i": "ی", "o": "و", "u": "و"}
FINAL_VOWELS = {"a": "ا", "e": "", "i": "ی", "o": "و", "u": "و", "y": "ی"}
# Abbreviations with a full stop that is not a sentence end: Dr. Ahmed → ڈاکٹر احمد.
ABBREVIATIONS = {
    "Dr": "ڈاکٹر", "Mr": "مسٹر", "Mrs": "مسز", "Ms": "مس", "Prof": "پروفیسر", "Gen": "جنرل", "Lt": "لیفٹیننٹ",
    "Col": "کرنل", "Capt": "کیپٹن", "Maj": "میجر", "Brig": "بریگیڈیئر", "Sen": "سینیٹر", "Jr": "جونیئر",
    "Sr": "سینیئر", "St": "سینٹ", "No": "نمبر", "Engr": "انجینئر", "Adv": "ایڈووکیٹ", "Mt": "ماؤنٹ",
    "vs": "بمقابلہ", "Vs": "بمقابلہ", "etc": "وغیرہ", "Govt": "گورنمنٹ", "Dept": "ڈیپارٹمنٹ",
}
MAX_SPELLED_LENGTH = 4  # NAB, WHO, BCCI: short capitals are initials; longer ones (BROMLEY) are words
VOWEL_RE = re.compile(r"[aeiouy]", re.I)
# How far (roman.Match.cost) a known spelling may stray from a word's likeliest letters and still beat an
# English reading: Karachi کراچی 0.2, Afridi آفریدی 0.4, Imran عمران 0.6 pass; Harris حارث 1.3 does not.
CLOSE_NAME_COST = 0.6
# A looser fit still wins when Urdu news writes that spelling often: Mohammad محمد (0.8, 41 times in the
# word list) — but not Harris حارث (1.3, never).
FREQUENT_NAME_COST = 1.0
FREQUENT_NAME_COUNT = 10
# Below this a roman-Urdu match of a word English does not know is sure; above, a guess to check.
SURE_ROMAN_COST = 0.8
# Past this a known word is a worse guess than the word's own letters: Zohaib is زوہیب, not the name زیب
# reached by leaving out its o and h.
WEAK_ROMAN_COST = 1.2
# Spellings that English has and roman Urdu does not: a word with one is read by English letter rules.
ENGLISH_SPELLING_RE = re.compile(r"c(?!h)|x|qu|ck|tion|sion|ough|igh|ph|wr|kn|[^aeiou]e$|[^aeiou]es$|oo?u|ea|y[^aeiou]")
CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")


def spell(word: str) -> str:
    """IMF → آئی ایم ایف."""
    return " ".join(LETTER_NAMES[ch] for ch in word.lower() if ch in LETTER_NAMES)


def transliterate(word: str) -> str:
    """A rough English → Urdu respelling: better a recognisable name than silence."""
    w = ascii_fold(word).lower()
    out: list[str] = []
    i = 0
    while i < len(w):
        for spelling, urdu in GRAPHEMES:
            if w.startswith(spelling, i):
                out.append(urdu)
                i += len(spelling)
                break
        else:
            ch = w[i]
            if ch == "c" and w[i + 1 : i + 2] in ("e", "i", "y"):
                out.append("س")
            elif ch in "aeiou" or (ch == "y" and i == len(w) - 1 and i > 0):
                if i == 0:
                    out.append(INITIAL_VOWELS[ch])
                elif i == len(w) - 1:
                    out.append(FINAL_VOWELS[ch])
                else:
                    out.append(MEDIAL_VOWELS[ch])
            elif ch in CONSONANTS:
                out.append(CONSONANTS[ch])
            i += 1
    return "".join(out) or spell(w)


def split_words(token: str) -> list[str]:
    """FifaWorldCup → Fifa World Cup; AWRajput → AW Rajput."""
    return CAMEL_RE.findall(token) or [token]


@dataclass(frozen=True)
class Reading:
    """How a Latin token is said, and whether that is only a guess (letter rules, or a roman-Urdu spelling
    on weak evidence): the pronunciation studio's preview marks guesses for a person to check."""

    text: str
    uncertain: bool = False


def read_latin(token: str, lookup, roman=None) -> str:
    """Read one Latin token (see the module's reading order). `roman` is a RomanReader or None."""
    return reading(token, lookup, roman).text


def reading(token: str, lookup, roman=None) -> Reading:
    """`read_latin` with its evidence: the lexicon, initials, the CMU dictionary and a close roman-Urdu
    match are sure; letter rules and loose matches are guesses."""
    if "." in token:  # U.S. / U.K.: dotted initials
        return Reading(spell(token.replace(".", "")))
    token = token.replace("’", "'")
    found = lookup(token)
    if found:
        return Reading(found)
    if "'" in token:  # Abdullah's → Abdullah
        return reading(token.split("'")[0], lookup, roman)
    parts = split_words(token)
    if len(parts) > 1:
        read = [reading(p, lookup, roman) for p in parts]
        return Reading(" ".join(r.text for r in read), any(r.uncertain for r in read))
    word = ascii_fold(token)
    if len(word) == 1:
        return Reading(spell(word))
    if word.isupper() and (len(word) <= MAX_SPELLED_LENGTH or not VOWEL_RE.search(word)):
        return Reading(spell(word))
    return _weigh(word, roman)


def _weigh(word: str, roman) -> Reading:
    """English and roman Urdu compete on evidence, not on which is tried first. A roman-Urdu spelling wins
    when it is a known word or name whose letters fit closely (Karachi کراچی, Sharif شریف, Afridi آفریدی); an
    English word of the CMU dictionary wins over a loose fit (Harris is ہیرس, not the name حارث, which needs
    ح and ث for h and s). With neither, the letters are guessed — roman-Urdu letters for a word spelt like
    roman Urdu (Arshad ارشد, not ارشاڈ), English letter rules otherwise — and the guess is marked."""
    english_said = english.pronounce(word)
    if english_said is None:
        found = roman.match(word) if roman is not None else None
        if found is not None and (found.cost <= WEAK_ROMAN_COST or roman is None):
            return Reading(found.spelling, uncertain=found.cost > SURE_ROMAN_COST)
    elif roman is not None and (found := roman.match(word, names_only=True)) is not None:
        # Only a listed name competes with an English word: a word of news vocabulary that happens to fit an
        # English word's letters (camera, horse) is a coincidence.
        close = found.cost <= CLOSE_NAME_COST
        # Two listed names joined (Islam|abad → اسلام آباد) is evidence no English word gives by chance.
        compound = " " in found.spelling
        frequent = found.cost <= FREQUENT_NAME_COST and (found.count >= FREQUENT_NAME_COUNT or compound)
        if close or frequent:
            return Reading(found.spelling)
    if english_said is not None:
        return Reading(english_said)
    if roman is not None and not ENGLISH_SPELLING_RE.search(word.lower()) and (said := guess_roman(word)):
        return Reading(said, uncertain=True)
    return Reading(transliterate(word), uncertain=True)


ROMAN_NUMERAL_RE = re.compile(r"(?=[IVXL])(L?X{0,3})(IX|IV|V?I{0,3})")
ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}
# Regnal numbers as Urdu papers write them: Elizabeth II → الزبتھ دوم, Benedict XVI → بینیڈکٹ شانزدہم.
REGNAL = (
    "اول دوم سوم چہارم پنجم ششم ہفتم ہشتم نہم دہم یازدہم دوازدہم سیزدہم چہاردہم پانزدہم شانزدہم ہفدہم ہیجدہم نوزدہم بستم"
).split()


def roman_value(token: str) -> int | None:
    """II → 2, XVI → 16; None for anything that is not a well-formed Roman numeral up to 89."""
    if not ROMAN_NUMERAL_RE.fullmatch(token):
        return None
    total = 0
    for ch, nxt in zip(token, [*token[1:], ""]):
        value = ROMAN_VALUES[ch]
        total += -value if nxt and ROMAN_VALUES[nxt] > value else value
    return total or None


def read_roman_numeral(value: int, after: str) -> str | None:
    """After "War": the English number (World War II → ورلڈ وار ٹو); after a name: the regnal ordinal."""
    if after.lower() == "war":
        return english.english_number(value)
    if value <= len(REGNAL):
        return REGNAL[value - 1]
    return None
