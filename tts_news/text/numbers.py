"""Urdu number words: cardinals with Indian grouping, years, ordinals, decimals, digit strings.

Written from the table in shared/urdu-normalization.md; every word 0-99 is its own word in Urdu,
so they are listed, never built from tens and units.
"""

from __future__ import annotations

BELOW_100 = (
    "صفر ایک دو تین چار پانچ چھ سات آٹھ نو "
    "دس گیارہ بارہ تیرہ چودہ پندرہ سولہ سترہ اٹھارہ انیس "
    "بیس اکیس بائیس تئیس چوبیس پچیس چھبیس ستائیس اٹھائیس انتیس "
    "تیس اکتیس بتیس تینتیس چونتیس پینتیس چھتیس سینتیس اڑتیس انتالیس "
    "چالیس اکتالیس بیالیس تینتالیس چوالیس پینتالیس چھیالیس سینتالیس اڑتالیس انچاس "
    "پچاس اکاون باون ترپن چون پچپن چھپن ستاون اٹھاون انسٹھ "
    "ساٹھ اکسٹھ باسٹھ تریسٹھ چونسٹھ پینسٹھ چھیاسٹھ سڑسٹھ اڑسٹھ انہتر "
    "ستر اکہتر بہتر تہتر چوہتر پچھتر چھہتر ستتر اٹھتر اناسی "
    "اسی اکیاسی بیاسی تراسی چوراسی پچاسی چھیاسی ستاسی اٹھاسی نواسی "
    "نوے اکانوے بانوے ترانوے چورانوے پچانوے چھیانوے ستانوے اٹھانوے ننانوے"
).split()
assert len(BELOW_100) == 100  # a table typo would shift every number after it

HUNDRED = "سو"
# Indian grouping: each scale word covers two digits, except the top one which takes whatever is left.
SCALES = (
    (10**11, "کھرب"),
    (10**9, "ارب"),
    (10**7, "کروڑ"),
    (10**5, "لاکھ"),
    (10**3, "ہزار"),
)
SCALE_WORDS = {word: value for value, word in SCALES} | {HUNDRED: 100}
MINUS = "منفی"
DECIMAL_POINT = "اعشاریہ"

ORDINAL_IRREGULAR = {
    1: ("پہلا", "پہلی", "پہلے"),
    2: ("دوسرا", "دوسری", "دوسرے"),
    3: ("تیسرا", "تیسری", "تیسرے"),
    4: ("چوتھا", "چوتھی", "چوتھے"),
    6: ("چھٹا", "چھٹی", "چھٹے"),
}


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [BELOW_100[hundreds], HUNDRED]
    if rest:
        words.append(BELOW_100[rest])
    return words


def cardinal_words(n: int) -> list[str]:
    """0 → صفر; 123456789012 → ایک کھرب تئیس ارب پینتالیس کروڑ سڑسٹھ لاکھ نواسی ہزار بارہ."""
    if n < 0:
        return [MINUS, *cardinal_words(-n)]
    if n < 100:
        return [BELOW_100[n]]
    words: list[str] = []
    for value, word in SCALES:
        count, n = divmod(n, value)
        if count:
            # Above کھرب there is no common word, so the count itself is read: "ایک سو کھرب".
            words += [*cardinal_words(count), word]
    words += _below_thousand(n)
    return words


def cardinal(n: int) -> str:
    """100 alone is سو; in compounds (120 ایک سو بیس, 1,100 ایک ہزار ایک سو) it is ایک سو (the spec, § 2)."""
    if n == 100:
        return HUNDRED
    return " ".join(cardinal_words(n))


def cardinal_with_fractions(n: int) -> str:
    """Newsreader style for round amounts: 1,250,000 → ساڑھے بارہ لاکھ, 175,000 → پونے دو لاکھ.

    Used only when the number is a whole count of its top scale plus a quarter, half or three quarters
    of it; anything else is read exactly.
    """
    for value, word in (*SCALES, (100, HUNDRED)):
        count, rest = divmod(n, value)
        if not count or count >= 100:
            continue
        if rest == value // 2 and count >= 3:
            return f"ساڑھے {cardinal(count)} {word}"
        if rest == value // 2 and count == 1:
            return f"ڈیڑھ {word}"
        if rest == value // 2 and count == 2:
            return f"ڈھائی {word}"
        if rest == value // 4:
            return f"سوا {cardinal(count)} {word}"
        if rest == 3 * value // 4:
            return f"پونے {cardinal(count + 1)} {word}"
        break
    return cardinal(n)


def year(n: int) -> str:
    """1958 → انیس سو اٹھاون; 2024 → دو ہزار چوبیس; 1100-1999 are read in hundreds."""
    if 1100 <= n <= 1999:
        high, low = divmod(n, 100)
        return " ".join([BELOW_100[high], HUNDRED, *([BELOW_100[low]] if low else [])])
    return cardinal(n)


def ordinal(n: int, form: int = 0) -> str:
    """form 0: masculine (پہلا, ساتواں), 1: feminine (پہلی, ساتویں), 2: oblique/plural (پہلے, ساتویں)."""
    if n in ORDINAL_IRREGULAR:
        return ORDINAL_IRREGULAR[n][form]
    suffix = "واں" if form == 0 else "ویں"
    return cardinal(n) + suffix


def digits(text: str) -> str:
    """Digit by digit, as phone numbers and IDs are read: 051 → صفر پانچ ایک."""
    return " ".join(BELOW_100[int(d)] for d in text if d.isdigit())
