"""Written Urdu news text → what a newsreader says (shared/urdu-normalization.md).

Every digit, Latin letter and symbol becomes Urdu words; sentence punctuation stays (it drives pauses);
anything that still cannot be said is removed from the spoken text *and* reported with its position.
The spoken text keeps a map back to the original characters, for read-along highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from tts_news.text import english, helplines, numbers
from tts_news.text.cleanup import URDU_LETTERS, clean, is_urdu_letter
from tts_news.text.latin import (
    ABBREVIATIONS,
    MAX_SPELLED_LENGTH,
    read_latin,
    read_roman_numeral,
    reading,
    roman_value,
    spell,
)
from tts_news.text.lexicon import Lexicon
from tts_news.text.markup import Furniture, Mapped, compose, strip_markup
from tts_news.text.roman import RomanReader
from tts_news.text.roman import guess as guess_roman

SENTENCE_END = "۔؟!"
PHRASE_BREAK = "،؛"
# Punctuation in the spoken text: sentence ends and phrase breaks, in their Urdu forms.
SPOKEN_PUNCTUATION = SENTENCE_END + PHRASE_BREAK

MONTHS = (
    "جنوری فروری مارچ اپریل مئی جون جولائی اگست ستمبر اکتوبر نومبر دسمبر".split()
)
# English month names in Latin script, as Urdu papers write them. A full name is a month when capitalised;
# "May" and the short forms (Jan, Mar, Dec …) are names or words too, so they are months only next to a number.
LATIN_MONTHS = {name: i for i, name in enumerate(
    "january february march april may june july august september october november december".split(), 1)}
LATIN_MONTH_SHORT = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
                     "oct": 10, "nov": 11, "dec": 12}
MONTH_NEEDS_NUMBER = {"may"} | set(LATIN_MONTH_SHORT)
HIJRI_MONTHS = "محرم صفر ربیع جمادی رجب شعبان رمضان شوال ذوالقعدہ ذوالحجہ ذیقعد ذوالقعد".split()
SCALE_AFTER_NUMBER = {"سو", "ہزار", "لاکھ", "کروڑ", "ارب", "کھرب", "ملین", "بلین", "ٹریلین"}
LATIN_SCALES = {"million": "ملین", "billion": "بلین", "trillion": "ٹریلین", "m": "ملین", "bn": "بلین"}

CURRENCIES = {
    "Rs.": "روپے", "Rs": "روپے", "PKR": "روپے", "₨": "روپے", "₹": "روپے", "INR": "روپے",
    "$": "ڈالر", "USD": "ڈالر", "US$": "ڈالر", "£": "پاؤنڈ", "GBP": "پاؤنڈ", "€": "یورو", "EUR": "یورو",
    "¥": "ین", "AED": "درہم", "SAR": "ریال",
}
# Urdu words that already name the currency: never say "ڈالر ڈالر".
CURRENCY_WORDS = {"روپے", "روپیہ", "روپوں", "ڈالر", "ڈالرز", "پاؤنڈ", "یورو", "ین", "درہم", "ریال"}
UNITS = {
    "km/h": "کلومیٹر فی گھنٹہ", "kmph": "کلومیٹر فی گھنٹہ", "km": "کلومیٹر", "kg": "کلوگرام",
    "cm": "سینٹی میٹر", "mm": "ملی میٹر", "m": "میٹر", "g": "گرام", "mg": "ملی گرام", "ml": "ملی لیٹر",
    "l": "لیٹر", "°C": "ڈگری سینٹی گریڈ", "°F": "ڈگری فارن ہائیٹ", "°": "ڈگری", "MW": "میگاواٹ",
    "kW": "کلوواٹ", "KW": "کلوواٹ", "GW": "گیگاواٹ", "kWh": "کلوواٹ آور", "mph": "میل فی گھنٹہ",
    "ft": "فٹ", "MB": "میگابائٹ", "GB": "گیگابائٹ", "TB": "ٹیرابائٹ", "KB": "کلوبائٹ", "MHz": "میگاہرٹز",
    "GHz": "گیگاہرٹز", "mAh": "ملی ایمپیئر آور", "px": "پکسل", "MP": "میگاپکسل", "bps": "بٹس فی سیکنڈ",
}
SYMBOLS = {
    "%": "فیصد", "&": "اور", "+": "پلس", "=": "برابر", "@": "ایٹ", "×": "ضرب", "÷": "تقسیم",
    "°": "ڈگری", "$": "ڈالر", "£": "پاؤنڈ", "€": "یورو", "₨": "روپے", "§": "سیکشن", "±": "جمع منفی",
    "<": "سے کم", ">": "سے زیادہ", "~": "تقریباً",
}
# Vulgar fractions: alone, after a whole number, and the newsreader's words for the common mixed ones.
VULGAR = {"½": (1, 2), "¼": (1, 4), "¾": (3, 4), "⅓": (1, 3), "⅔": (2, 3), "⅛": (1, 8), "⅜": (3, 8),
          "⅝": (5, 8), "⅞": (7, 8)}
FRACTIONS = {(1, 2): "آدھا", (1, 4): "ایک چوتھائی", (3, 4): "تین چوتھائی", (1, 3): "ایک تہائی", (2, 3): "دو تہائی"}
# Words that count or measure: 1.5 گھنٹے → ڈیڑھ گھنٹے, 2.5 لاکھ → ڈھائی لاکھ.
COUNT_NOUNS = {
    "گھنٹے", "گھنٹہ", "گھنٹوں", "منٹ", "سیکنڈ", "دن", "دنوں", "ہفتے", "ماہ", "مہینے", "سال", "برس", "کلو",
    "کلوگرام", "گرام", "ٹن", "من", "لیٹر", "میٹر", "کلومیٹر", "میل", "فٹ", "انچ", "ایکڑ", "کنال", "مرلے",
    "فیصد", "گنا", "لاکھ", "کروڑ", "ارب", "کھرب", "ہزار", "سو", "ملین", "بلین", "ڈالر", "روپے", "درجے",
    "ڈگری", "کپ", "چمچ", "بوتل", "سوا", "اوور", "وکٹ",
}
FEMININE_NOUNS = {
    "ماہی", "سہ", "بار", "مرتبہ", "دفعہ", "سالگرہ", "برسی", "قسط", "ترمیم", "کانفرنس", "جماعت", "پوزیشن",
    "اننگز", "وکٹ", "سنچری", "نسل", "صدی", "منزل", "کلاس", "ٹیم", "رپورٹ", "میٹنگ", "ملاقات", "پارٹی",
    "لہر", "جنگ", "کتاب", "فلم", "گاڑی", "قطار", "رات", "صبح", "شام", "تاریخ", "سطح", "کوشش", "فہرست",
    "قرارداد", "سیریز", "لیگ", "کمیٹی", "عدالت", "اسمبلی", "حکومت", "سڑک", "سیٹ", "نشست", "باری",
}
POSTPOSITIONS = {"میں", "کے", "کی", "کو", "سے", "پر", "تک", "نے", "والے", "والی"}
# A.M./P.M. → the part of the day before the hour: صبح چھ بجے, رات نو بجے.
AMPM_RE = re.compile(r"\s?([AaPp])\.?\s?[Mm]\.?(?![A-Za-z])")
# Product and model names read their number in English: Pixel 9 → پکسل نائن.
MODEL_WORDS = {
    "pixel", "iphone", "galaxy", "note", "windows", "android", "ios", "playstation", "xbox", "macbook",
    "ipad", "redmi", "oppo", "vivo", "tecno", "infinix", "huawei", "honda", "corolla", "civic", "boeing",
    "airbus", "chapter", "season", "gen", "series", "version", "model", "pro", "max", "ultra", "plus",
}
# Capitals and at least this many digits are a flight (PK-303, PK303) or a number plate (ABC-786, LEA 1234 is
# two tokens): their digits are read one by one, never as a quantity (سیون ایٹی سکس).
PLATE_DIGITS = 3
WEB_LABELS = {"com": "کام", "org": "آرگ", "net": "نیٹ", "info": "انفو", "www": ""}
# Marks read as a pause: they become the Urdu phrase break or full stop.
PAUSES = {
    ",": "،", ";": "؛", ":": "،", "(": "،", ")": "،", "[": "،", "]": "،", "{": "،", "}": "،",
    "-": "،", "–": "،", "—": "،", "…": "،", "|": "،", "•": "،", "·": "،", "/": "،", "\\": "،",
    "*": "،", "_": "،", "?": "؟", ".": "۔", "!": "!", "¿": "؟", "۔": "۔", "؟": "؟", "،": "،", "؛": "؛",
    "٭": "،", "؍": "،",
}
QUOTES = set("\"'`‘’“”«»‹›„‚″′")

NUMBER = r"\d+(?:,\d+)*(?:\.\d+)?"
# Every pattern is bounded so the tokenizer stays linear on hostile text (one address is at most this long;
# e-mail parts and domain labels have their RFC limits).
MAX_URL = 2000
# A number longer than this is read digit by digit: no one says it as a quantity, and int() of an
# unbounded string is refused by Python past 4,300 digits anyway.
MAX_NUMBER_DIGITS = 15
MONTH_AHEAD = r"(?!\s*(?i:" + "|".join([*MONTHS, *LATIN_MONTHS, *LATIN_MONTH_SHORT]) + r")(?![a-z]))"
ABBREVIATION_RE = "|".join(sorted(ABBREVIATIONS, key=len, reverse=True))
TOKEN_RE = re.compile(
    rf"""
    (?P<url>(?:https?://|www\.)[^\s\u0600-\u06FF]{{1,{MAX_URL}}}
        |(?<![\w.+-])[\w.+-]{{1,64}}@[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}}){{1,8}}
        |(?<![\w.-])[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}}){{0,8}}\.(?:com|org|net|pk|gov|edu|io|tv|uk|info|me)\b
        (?:/[^\s\u0600-\u06FF]{{0,{MAX_URL}}})?)
   |(?P<cur>(?<![A-Za-z])(?:Rs\.?|PKR|USD|US\$|INR|GBP|EUR|AED|SAR|[₨₹$£€¥]))\s?(?P<cnum>{NUMBER})
   |(?P<time>(?<![\d.,:])(?P<hh>[01]?\d|2[0-4]):(?P<mm>[0-5]\d)(?![\d:]))
   |(?P<iso>(?<![\d.,/-])(?P<iy>\d{{4}})-(?P<im>[01]?\d)-(?P<id>[0-3]?\d)(?![\d-]))
   |(?P<date>(?<![\d.,/])(?P<dd>[0-3]?\d)(?P<sep>[/.\-؍])(?P<mo>[01]?\d)(?P=sep)(?P<yy>\d{{4}}|\d{{2}})(?![\d/]))
   |(?P<version>(?<![\d.,])\d+(?:\.\d+){{2,}}(?![\d.]))
   |(?P<slash>(?<![\d.,/])(?P<sa>\d{{1,3}})/(?P<sb>\d{{1,2}})(?![\d/]))
   |(?P<vulgar>(?<![\d.,])(?P<vwhole>\d+)?\s?(?P<vf>[½¼¾⅓⅔⅛⅜⅝⅞]))
   |(?P<alnum>(?<![A-Za-z0-9])(?P<aletters>[A-Za-z]{{1,8}})(?P<ahyphen>-?)(?P<adigits>\d{{1,4}})(?![A-Za-z0-9]|[.,]\d)
        |(?<![A-Za-z0-9.,])(?P<adigits2>\d{{1,2}})(?P<aletters2>[A-Z]{{1,2}})(?![A-Za-z0-9]))
   |(?P<phone>(?<![\d.,])(?:\+\d[\d-]{{7,}}\d|0\d+(?:-\d+)*)(?![\d.,]){MONTH_AHEAD})
   |(?P<range>(?<![\d.,])(?P<ra>\d+)(?:\s?[-–]\s?|۔)(?P<rb>\d+)(?![\d.,]\d|[-–]))
   |(?P<num>(?:(?<![\w)\]])[-−](?=\d))?{NUMBER})
   |(?P<abbr>(?<![A-Za-z])(?:{ABBREVIATION_RE})\.)
   |(?P<latin>(?:[A-Za-z]\.){{2,}}|[A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F]+(?:['’][A-Za-z]+)?)
   |(?P<hashtag>[#@](?=[\w{URDU_LETTERS}]))
   |(?P<word>[{URDU_LETTERS}]+)
   |(?P<other>\S)
    """,
    re.X,
)
ORDINAL_SUFFIX_RE = re.compile(r"(واں|ویں|وین|وے)|(st|nd|rd|th)\b")
# Agreement: واں masculine (ساتواں, پہلا), ویں feminine (پچیسویں, پہلی), وے oblique (پہلے).
ORDINAL_FORMS = {"واں": 0, "ویں": 1, "وین": 1, "وے": 2}
UNIT_RE = re.compile(
    r"\s?(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")(?![A-Za-z])"
)
NEXT_WORD_RE = re.compile(rf"\s*(?:؍\s*)?([{URDU_LETTERS}]+)")
LATIN_SCALE_RE = re.compile(r"\s?(million|billion|trillion|bn|m)\b", re.I)
SUFFIX_CURRENCY_RE = re.compile(r"\s?([$£€₨])")
PERCENT_RE = re.compile(r"\s?%")
DECADE_RE = re.compile(r"['’]?s(?![A-Za-z])")
YEAR_MARK_RE = re.compile(r"\s?ء")  # 2024ء, and "2002 ءکے" where the sign is glued to the next word
HIJRI_MARK_RE = re.compile(rf"\s?ھ(?![{URDU_LETTERS}])")
# After a Latin month: its day (October 7, Oct. 7th) and maybe the year (October 7, 2023); a day is 1-31
# and not the start of a time, a decimal or a longer number.
MONTH_DAY_RE = re.compile(r"\.?\s+([0-3]?\d)(?:st|nd|rd|th)?(?![\d:%]|[.,]\d)(?:,?\s+(\d{4})(?![\d.,:]))?")
MONTH_YEAR_RE = re.compile(r"\.?,?\s+\d{4}(?![\d.,:])")
NEXT_LATIN_RE = re.compile(r"\s*(?:of\s+)?([A-Za-z]+)")
PREVIOUS_NUMBER_RE = re.compile(r"\d(?:st|nd|rd|th)?\s+(?:of\s+)?$")
# Half past a whole number with a duration or an amount: 7.5 سال → ساڑھے سات سال, 4.5 ارب → ساڑھے چار ارب
# (1.5 ڈیڑھ and 2.5 ڈھائی have their own words). Percentages (12.5% بارہ اعشاریہ پانچ فیصد, the spec's
# example), temperatures and cricket overs (7.5 overs is seven overs and five balls) keep the decimal point.
HALF_NOUNS = {
    "سال", "برس", "ماہ", "مہینے", "مہینوں", "ہفتے", "ہفتوں", "دن", "دنوں", "گھنٹے", "گھنٹہ", "گھنٹوں", "منٹ",
    "سیکنڈ", "ہزار", "لاکھ", "کروڑ", "ارب", "کھرب", "ملین", "بلین", "ٹریلین", "روپے", "ڈالر", "کلو", "کلوگرام",
    "گرام", "ٹن", "من", "لیٹر", "میٹر", "کلومیٹر", "میل", "فٹ", "انچ", "ایکڑ", "کنال", "مرلے", "گنا",
}
NOT_HALF_UNITS = {"°C", "°F", "°"}
# 93* → ترانوے ناٹ آؤٹ: a batter's score with the not-out star; no innings is longer than this.
NOT_OUT = "ناٹ آؤٹ"
MAX_INNINGS = 500
NOT_OUT_RE = re.compile(r"\*(?![\d*])")


@dataclass(frozen=True)
class Span:
    """spoken[spoken_start:spoken_end] was read from source[source_start:source_end]."""

    spoken_start: int
    spoken_end: int
    source_start: int
    source_end: int
    # Only a guess (letter rules, a roman-Urdu spelling on weak evidence): the pronunciation studio's
    # preview shows these for a person to check; the spoken text is the same either way.
    uncertain: bool = False


@dataclass(frozen=True)
class TextWarning:
    """Something in the input that will not be heard; position is an index into the input text, or None
    for a notice about the whole render (another voice spoke). The one shape warnings take everywhere:
    `as_dict()` in job records and JSON, `str()` in logs and summaries."""

    position: int | None
    text: str
    message: str

    def __str__(self) -> str:
        return self.message if self.position is None else f"character {self.position}: {self.message}"

    def as_dict(self) -> dict:
        return {"message": self.message, "position": self.position, "text": self.text}

    @classmethod
    def from_dict(cls, data: dict) -> TextWarning:
        return cls(data.get("position"), data.get("text", ""), data["message"])

    @classmethod
    def notice(cls, message: str) -> TextWarning:
        return cls(None, "", message)


@dataclass(frozen=True)
class Normalized:
    spoken: str
    spans: tuple[Span, ...]
    warnings: tuple[TextWarning, ...] = ()

    @property
    def uncertain(self) -> tuple[Span, ...]:
        """The spans whose reading is a guess (spoken[s.spoken_start:s.spoken_end] from source[…])."""
        return tuple(s for s in self.spans if s.uncertain)

    def source_range(self, spoken_start: int, spoken_end: int) -> tuple[int, int] | None:
        """The input characters behind spoken[spoken_start:spoken_end]."""
        hits = [s for s in self.spans if s.spoken_start < spoken_end and s.spoken_end > spoken_start]
        if not hits:
            return None
        return min(s.source_start for s in hits), max(s.source_end for s in hits)


@dataclass
class Options:
    """Conventions where newsreaders differ. Defaults follow the spec's first choice."""

    # "exact": بارہ لاکھ پچاس ہزار; "fractions": ساڑھے بارہ لاکھ for round quarter/half amounts
    large_numbers: str = "exact"
    # "paise": 750.50 روپے → سات سو پچاس روپے پچاس پیسے; "decimal": اعشاریہ
    rupee_decimals: str = "paise"
    # "drop": 2024ء → دو ہزار چوبیس; "say": دو ہزار چوبیس عیسوی
    year_sign: str = "drop"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("large_numbers", {"exact", "fractions"}),
            ("rupee_decimals", {"paise", "decimal"}),
            ("year_sign", {"drop", "say"}),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {sorted(allowed)}, not {getattr(self, name)!r}")


def is_sayable(ch: str) -> bool:
    """What may appear in spoken text: Urdu letters, spaces and Urdu sentence punctuation."""
    return ch == " " or ch in SPOKEN_PUNCTUATION or is_urdu_letter(ch)


def is_emoji(ch: str) -> bool:
    o = ord(ch)
    return (
        o >= 0x1F000
        or 0x2600 <= o <= 0x27BF
        or 0x2B00 <= o <= 0x2BFF
        or ch in "\ufe0f\ufe0e\u20e3"
        or (0x1F3FB <= o <= 0x1F3FF)
    )


@dataclass
class _Builder:
    """Assembles spoken text with one space between words and none before punctuation."""

    parts: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    length: int = 0

    def _append(self, text: str, start: int, end: int, uncertain: bool = False) -> None:
        self.parts.append(text)
        self.spans.append(Span(self.length, self.length + len(text), start, end, uncertain))
        self.length += len(text)

    def words(self, text: str, start: int, end: int, uncertain: bool = False) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if self.length:
            self.parts.append(" ")
            self.length += 1
        self._append(text, start, end, uncertain)

    def pause(self, mark: str, start: int, end: int) -> None:
        last = self.parts[-1][-1] if self.parts else ""
        if not last:
            return  # a pause before anything is said is silence already
        if last in SPOKEN_PUNCTUATION:
            if mark in PHRASE_BREAK or last in SENTENCE_END:
                return  # "، ،" or "۔ ،": the stronger pause is already there
            self.parts[-1] = self.parts[-1][:-1] + mark  # "، ۔" → "۔"
            return
        self._append(mark, start, end)

    def text(self) -> str:
        return "".join(self.parts)


class Normalizer:
    def __init__(self, lexicon: Lexicon | None = None, options: Options | None = None, *,
                 furniture: Furniture | None = None, roman: RomanReader | None = None) -> None:
        self.lexicon = lexicon or Lexicon.load()
        self.options = options or Options()
        self.furniture = furniture or Furniture.load()
        self.roman = roman or RomanReader.load()

    # -- entry point ---------------------------------------------------------------------------------
    def strip(self, text: str) -> tuple[Mapped, list[TextWarning]]:
        """Markup and page furniture out: the text that is read, mapped back to `text`, and what was left
        out (reported, never silent)."""
        plain, omitted = self.furniture.remove(strip_markup(text))
        return plain, [TextWarning(o.position, o.text, f"left out {o.text!r} ({o.reason})") for o in omitted]

    def normalize(self, text: str, *, markup: bool = True) -> Normalized:
        """`markup=False` when `text` has been through `strip` already (a sentence of a prepared article)."""
        plain, warnings = self.strip(text) if markup else (Mapped.of(text), [])
        cleaned = clean(plain.text)
        src = cleaned.text
        out = _Builder()
        origin = compose(plain, Mapped(cleaned.text, cleaned.origin)).origin if markup else cleaned.origin

        def source(a: int, b: int) -> tuple[int, int]:
            return (origin[a], origin[b - 1] + 1) if b > a else (origin[a], origin[a])

        pos = 0
        guesses: list[str] = []  # the Latin words of the token being read whose reading is a guess
        phrases = self.lexicon.phrases
        while pos < len(src):
            m = TOKEN_RE.search(src, pos)
            if m is None:
                break
            if phrases is not None and (p := phrases.match(src, m.start())):
                # A lexicon entry of several tokens (Rescue 1122, F-16) wins over every rule.
                a, b = source(p.start(), p.end())
                out.words(self.lexicon.lookup(" ".join(p.group().split())) or "", a, b)
                pos = p.end()
                continue
            spoken, end, is_pause = self._read(_kind(m), m, src, warnings, source, guesses)
            a, b = source(m.start(), max(end, m.start() + 1))
            if is_pause:
                out.pause(spoken, a, b)
            else:
                out.words(spoken, a, b, uncertain=bool(guesses))
            guesses.clear()
            pos = max(end, m.end())
        spoken = out.text()
        return Normalized(spoken, tuple(out.spans), tuple(warnings))

    # -- dispatch ------------------------------------------------------------------------------------
    def _read(self, kind, m, src, warnings, source, guesses) -> tuple[str, int, bool]:
        """Return (spoken text, index where reading stopped, whether it is a pause mark)."""
        end = m.end()
        if kind == "word":
            word = m.group()
            return self.lexicon.lookup(word) or word, end, False
        if kind == "num":
            return self._number(m.group("num"), src, m.start(), end)
        if kind == "latin":
            return self._latin(m.group("latin"), src, end, guesses)
        if kind == "cur":
            return self._currency(CURRENCIES[m.group("cur").replace(" ", "")], m.group("cnum"), src, end)
        if kind == "time":
            return self._time(int(m.group("hh")), int(m.group("mm")), src, end)
        if kind == "date":
            return self._date(m, src, end)
        if kind == "iso":
            return self._calendar(int(m.group("id")), int(m.group("im")), m.group("iy"), m.group("iso")), end, False
        if kind == "version":  # 3.2.1 → تین اعشاریہ دو اعشاریہ ایک
            return f" {numbers.DECIMAL_POINT} ".join(self._plain_number(p) for p in m.group().split(".")), end, False
        if kind == "slash":
            return self._slash(int(m.group("sa")), int(m.group("sb")), src, end)
        if kind == "vulgar":
            return self._vulgar(m.group("vwhole"), VULGAR[m.group("vf")]), end, False
        if kind == "alnum":
            return self._alnum(m, src, end, guesses)
        if kind == "abbr":
            return ABBREVIATIONS[m.group()[:-1]], end, False
        if kind == "phone":
            groups = [numbers.digits(g) for g in re.split(r"-", m.group("phone")) if g.strip("+")]
            return "، ".join(groups), end, False
        if kind == "range":
            return self._range(m.group("ra"), m.group("rb"), src, end)
        if kind == "url":
            return self._url(m.group("url")), end, False
        if kind == "hashtag":
            return "", end, False
        ch = m.group()
        if ch in QUOTES or is_emoji(ch):
            return "", end, False
        if ch in PAUSES:
            mark = self._pause(ch, src, m.start())
            return (mark, end, True) if mark else ("", end, False)
        if ch in SYMBOLS:
            return SYMBOLS[ch], end, False
        a, _ = source(m.start(), end)
        name = unicodedata.name(ch, f"U+{ord(ch):04X}")
        warnings.append(TextWarning(a, ch, f"cannot read {ch!r} ({name}); it is left out"))
        return "", end, False

    @staticmethod
    def _pause(ch: str, src: str, i: int) -> str:
        """A hyphen or slash inside a word (high-temperature, COVID-19, 1؍مئی) joins; elsewhere it pauses."""
        if ch in "-/؍" and 0 < i < len(src) - 1 and not src[i - 1].isspace() and not src[i + 1].isspace():
            return ""
        return PAUSES[ch]

    # -- numbers -------------------------------------------------------------------------------------
    def _integer(self, digits: str, *, as_year: bool = True) -> str | None:
        """Read '1,250,000', '12,50,000' or '1958'; None if the commas are not a number's grouping."""
        if "," in digits:
            groups = digits.split(",")
            western = all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
            indian = len(groups[-1]) == 3 and all(len(g) == 2 for g in groups[1:-1]) and 1 <= len(groups[0]) <= 2
            if not (western or indian):
                return None
            return self._amount(int(digits.replace(",", "")))
        n = int(digits)
        if as_year and len(digits) == 4 and 1100 <= n <= 1999:
            return numbers.year(n)  # 1958 → انیس سو اٹھاون, and 1500 افراد → پندرہ سو افراد
        return self._amount(n)

    def _amount(self, n: int) -> str:
        if self.options.large_numbers == "fractions":
            return numbers.cardinal_with_fractions(n)
        return numbers.cardinal(n)

    @staticmethod
    def _long_number(raw: str) -> str:
        """A number too long to be a quantity (an ID, a hostile line): digit by digit, its point said."""
        return f" {numbers.DECIMAL_POINT} ".join(numbers.digits(part) for part in raw.split(".") if part)

    @staticmethod
    def _too_long(raw: str) -> bool:
        return sum(ch.isdigit() for ch in raw) > MAX_NUMBER_DIGITS

    def _plain_number(self, raw: str) -> str:
        """'12.5' → بارہ اعشاریہ پانچ; '2,5' (not a grouping) → دو، پانچ."""
        if self._too_long(raw.partition(".")[0]):
            return self._long_number(raw.replace(",", ""))
        whole, _, fraction = raw.partition(".")
        read = self._integer(whole)
        if read is None:
            read = "، ".join(numbers.cardinal(int(g)) for g in whole.split(",") if g)
        if fraction:
            read = f"{read} {numbers.DECIMAL_POINT} {numbers.digits(fraction)}"
        return read

    def _number(self, raw: str, src: str, start: int, end: int) -> tuple[str, int, bool]:
        negative = raw[0] in "-−"
        body = raw.lstrip("-−")
        if self._too_long(body):
            said = self._long_number(body.replace(",", ""))
            return (f"{numbers.MINUS} {said}" if negative else said), end, False
        whole, _, fraction = body.partition(".")
        rest = src[end:]

        if not negative and not fraction and "," not in whole:
            n = int(whole)
            if len(whole) >= 2 and helplines.is_dialled(whole, src, start, end) and not _counted(rest):
                return english.english_digits(whole), end, False  # ہیلپ لائن 1915 → ون نائن ون فائیو
            if m := ORDINAL_SUFFIX_RE.match(rest):
                if m.group(2) and 1 <= n <= 31 and _month_follows(rest[m.end():]):
                    return _day(n), end + m.end(), False  # 7th October → سات اکتوبر
                form = ORDINAL_FORMS[m.group(1)] if m.group(1) else _agreement(rest[m.end():], self.lexicon.lookup)
                return numbers.ordinal(n, form), end + m.end(), False
            if m := HIJRI_MARK_RE.match(rest):
                return f"{numbers.year(n)} ہجری", end + m.end(), False
            if m := YEAR_MARK_RE.match(rest):
                said = numbers.year(n)
                return (said + " عیسوی" if self.options.year_sign == "say" else said), end + m.end(), False
            if 1 <= n <= 31 and _month_follows(rest):
                return _day(n), end, False
            if n <= MAX_INNINGS and (m := NOT_OUT_RE.match(rest)):
                return f"{numbers.cardinal(n)} {NOT_OUT}", end + m.end(), False
            if m := DECADE_RE.match(rest):  # 1980s → انیس سو اسی کی دہائی; 80s → اسی کی دہائی
                if n % 10 == 0 and (len(whole) == 4 or len(whole) == 2):
                    return f"{numbers.year(n)} کی دہائی", end + m.end(), False
            if n <= 12 and (m := AMPM_RE.match(rest)):
                return self._clock(n, 0, m.group(1), src, end + m.end())

        nxt = NEXT_WORD_RE.match(rest)
        if not negative and fraction and len(fraction) == 2 and nxt and nxt.group(1) in ("روپے", "روپیہ") \
                and self.options.rupee_decimals == "paise":
            # 272.89 روپے → دو سو بہتر روپے نواسی پیسے
            said = f"{self._plain_number(whole)} روپے"
            if int(fraction):
                said += f" {numbers.cardinal(int(fraction))} پیسے"
            return said, end + nxt.end(), False
        counted = _counted(rest)
        if body in ("1.5", "2.5") and counted:
            said = "ڈیڑھ" if body == "1.5" else "ڈھائی"
        elif fraction == "5" and _half_amount_follows(rest):
            said = _and_a_half(int(whole))
        else:
            said = self._plain_number(body)
        if negative:
            said = f"{numbers.MINUS} {said}"
        if m := PERCENT_RE.match(rest):
            return f"{said} فیصد", end + m.end(), False
        if m := SUFFIX_CURRENCY_RE.match(rest):
            return self._currency(CURRENCIES[m.group(1)], body, src, end + m.end(), spoken_number=said)
        if m := UNIT_RE.match(rest):
            return f"{said} {UNITS[m.group(1)]}", end + m.end(), False
        return said, end, False

    def _currency(
        self, currency: str, number: str, src: str, end: int, spoken_number: str | None = None
    ) -> tuple[str, int, bool]:
        """Rs. 750 → سات سو پچاس روپے; $5 ارب → پانچ ارب ڈالر; '$45 ڈالر' names the dollar once."""
        whole, _, fraction = number.partition(".")
        if spoken_number is None:
            if currency == "روپے" and len(fraction) == 2 and self.options.rupee_decimals == "paise":
                paise = int(fraction)
                spoken_number = self._plain_number(whole)
                if paise:
                    currency = f"{currency} {numbers.cardinal(paise)} پیسے"
            elif fraction == "5" and _half_amount_follows(src[end:]):
                spoken_number = _and_a_half(int(whole))  # $4.5 billion → ساڑھے چار بلین ڈالر
            else:
                spoken_number = self._plain_number(number)
        words = [spoken_number]
        rest = src[end:]
        if m := LATIN_SCALE_RE.match(rest):
            words.append(LATIN_SCALES[m.group(1).lower()])
            end += m.end()
            rest = src[end:]
        if (m := NEXT_WORD_RE.match(rest)) and m.group(1) in SCALE_AFTER_NUMBER:
            words.append(m.group(1))
            end += m.end()
            rest = src[end:]
        if (m := NEXT_WORD_RE.match(rest)) and m.group(1) in CURRENCY_WORDS:
            words.append(m.group(1))
            end += m.end()
        else:
            words.append(currency)
        return " ".join(words), end, False

    def _time(self, hour: int, minute: int, src: str, end: int) -> tuple[str, int, bool]:
        """4:15 → سوا چار بجے; 1:30 → ڈیڑھ بجے; 10:45 → پونے گیارہ بجے; 7:10 → سات بج کر دس منٹ."""
        if hour <= 12 and (m := AMPM_RE.match(src[end:])):
            return self._clock(hour, minute, m.group(1), src, end + m.end())
        m = re.match(r"\s*بجے", src[end:])
        if m:
            end += m.end()
        h = hour % 12 or 12
        after = h % 12 + 1
        if minute == 0:
            said = f"{numbers.cardinal(h)} بجے"
        elif minute == 15:
            said = f"سوا {numbers.cardinal(h)} بجے"
        elif minute == 30:
            said = {1: "ڈیڑھ بجے", 2: "ڈھائی بجے"}.get(h, f"ساڑھے {numbers.cardinal(h)} بجے")
        elif minute == 45:
            said = f"پونے {numbers.cardinal(after)} بجے"
        else:
            said = f"{numbers.cardinal(h)} بج کر {numbers.cardinal(minute)} منٹ"
        return said, end, False

    def _date(self, m: re.Match, src: str, end: int) -> tuple[str, int, bool]:
        return self._calendar(int(m.group("dd")), int(m.group("mo")), m.group("yy"), m.group("date")), end, False

    @staticmethod
    def _calendar(day: int, month: int, year: str, written: str) -> str:
        if not (1 <= day <= 31 and 1 <= month <= 12):
            # Not a date (a version or a score): read the numbers one after another.
            return "، ".join(numbers.cardinal(int(p)) for p in re.split(r"[/.\-؍]", written))
        day_said = "یکم" if day == 1 else numbers.cardinal(day)
        return f"{day_said} {MONTHS[month - 1]} {numbers.year(int(year))}"

    def _slash(self, a: int, b: int, src: str, end: int) -> tuple[str, int, bool]:
        """312/4 رنز → تین سو بارہ رنز چار وکٹوں پر; 1/4 → ایک چوتھائی; 3/8 → تین بٹا آٹھ; 24/7 → چوبیس سات."""
        rest = src[end:]
        runs = NEXT_WORD_RE.match(rest)
        if b <= 10 and a > b and (a >= 30 or (runs and runs.group(1) == "رنز")):
            if runs and runs.group(1) == "رنز":
                end += runs.end()
            wickets = "ایک وکٹ" if b == 1 else f"{numbers.cardinal(b)} وکٹوں"
            return f"{numbers.cardinal(a)} رنز {wickets} پر", end, False
        if 0 < a < b <= 10:
            return FRACTIONS.get((a, b), f"{numbers.cardinal(a)} بٹا {numbers.cardinal(b)}"), end, False
        return f"{numbers.cardinal(a)} {numbers.cardinal(b)}", end, False

    @staticmethod
    def _vulgar(whole: str | None, fraction: tuple[int, int]) -> str:
        """½ آدھا; 1½ ڈیڑھ; 2½ ڈھائی; 3½ ساڑھے تین; 2¼ سوا دو; 2¾ پونے تین; 1⅓ ایک اور ایک تہائی."""
        a, b = fraction
        part = FRACTIONS.get((a, b), f"{numbers.cardinal(a)} بٹا {numbers.cardinal(b)}")
        if whole is None or int(whole) == 0:
            return part
        n = int(whole)
        if (a, b) == (1, 2):
            return {1: "ڈیڑھ", 2: "ڈھائی"}.get(n, f"ساڑھے {numbers.cardinal(n)}")
        if (a, b) == (1, 4):
            return f"سوا {numbers.cardinal(n)}"
        if (a, b) == (3, 4):
            return f"پونے {numbers.cardinal(n + 1)}"
        return f"{numbers.cardinal(n)} اور {part}"

    def _alnum(self, m: re.Match, src: str, end: int, guesses: list[str]) -> tuple[str, int, bool]:
        """Letters with digits: T20 ٹی ٹوئنٹی, 4G فور جی, 3D تھری ڈی, U-16 انڈر سکسٹین, PK-303 پی کے تین صفر
        تین (flight numbers digit by digit), COVID-19 کووڈ نائنٹین; 10PM and 5GB are a time and a size."""
        if m.group("adigits2"):
            digits, letters = m.group("adigits2"), m.group("aletters2")
            if letters in ("AM", "PM"):
                return self._clock(int(digits), 0, letters[0], src, end)
            if letters in UNITS:
                return f"{numbers.cardinal(int(digits))} {UNITS[letters]}", end, False
            return f"{english.english_number(int(digits))} {spell(letters)}", end, False
        letters, digits = m.group("aletters"), m.group("adigits")
        if letters.upper() == "U" and m.group("ahyphen") and len(digits) == 2:
            return f"انڈر {english.english_number(int(digits))}", end, False
        if letters.isupper() and len(digits) >= PLATE_DIGITS and len(letters) <= MAX_SPELLED_LENGTH:
            code = self.lexicon.lookup(letters) or spell(letters)
            if len(letters) == 2:  # a flight: PK-303 → پی کے تین صفر تین
                return f"{code} {numbers.digits(digits)}", end, False
            return f"{code} {english.english_digits(digits)}", end, False  # a plate: ABC-786 → … سیون ایٹ سکس
        said = self.lexicon.lookup(letters) or (spell(letters) if letters.isupper() or len(letters) <= 2
                                                else self._reading(letters, guesses))
        if len(digits) > 4 or digits.startswith("0"):
            return f"{said} {english.english_digits(digits)}", end, False
        return f"{said} {english.english_number(int(digits))}", end, False

    def _clock(self, hour: int, minute: int, half: str, src: str, end: int) -> tuple[str, int, bool]:
        """6:15 AM → صبح سوا چھ بجے; 9 PM → رات نو بجے; 12 PM → دوپہر بارہ بجے."""
        h = hour % 12
        if half.upper() == "A":
            part = "رات" if h < 4 else "صبح"
        else:
            part = "دوپہر" if h < 4 else ("شام" if h < 7 else "رات")
        said, end, _ = self._time(hour, minute, src, end)
        return f"{part} {said}", end, False

    def _range(self, a: str, b: str, src: str, end: int) -> tuple[str, int, bool]:
        """10-15 → دس سے پندرہ; 3-3 → تین تین; fiscal 24-2023 or 2023-24 → دو ہزار تئیس چوبیس."""
        if self._too_long(a) or self._too_long(b):
            return f"{self._long_number(a)} سے {self._long_number(b)}", end, False
        if len(a) == 2 and len(b) == 4 and (int(b) + 1) % 100 == int(a):
            return f"{numbers.year(int(b))} {numbers.cardinal(int(a))}", end, False
        if len(a) == 4 and len(b) == 2 and (int(a) + 1) % 100 == int(b):
            return f"{numbers.year(int(a))} {numbers.cardinal(int(b))}", end, False
        first = self._plain_number(a)
        if a == b:
            return f"{first} {first}", end, False
        if int(b) < int(a) and len(a) <= 2:  # a match score: 2-0 سے ہرا دیا → دو صفر
            return f"{first} {self._plain_number(b)}", end, False
        tail, new_end, _ = self._number(b, src, end - len(b), end)
        return f"{first} سے {tail}", new_end, False

    # -- Latin, URLs ---------------------------------------------------------------------------------
    def _reading(self, token: str, guesses: list[str]) -> str:
        read = reading(token, self.lexicon.lookup, self.roman)
        if read.uncertain:
            guesses.append(token)
        return read.text

    def _latin(self, token: str, src: str, end: int, guesses: list[str]) -> tuple[str, int, bool]:
        value = roman_value(token)
        if value is not None:
            # World War II → ورلڈ وار ٹو; Elizabeth II → الزبتھ دوم: a Roman numeral after a capitalised name
            before = PREVIOUS_LATIN_RE.search(src, 0, end - len(token))
            if before and before.group(1)[0].isupper() and (said := read_roman_numeral(value, before.group(1))):
                return said, end, False
        if (month := _latin_month(token, src, end)) is not None:
            return self._month(month, src, end)
        if token.lower() in ARABIC_ARTICLES and (nxt := ARTICLE_NAME_RE.match(src, end)) \
                and PREVIOUS_LATIN_RE.search(src, 0, end - len(token)):
            # Inzamam ul Haq → انضمام الحق, Salah-ud-Din → صلاح الدین: the article is written ال on the name after it.
            # The part after the article is an Arabic name word, never English (Haq is حق, not ہیک).
            name = self.roman.read(nxt.group(1)) or self.lexicon.lookup(nxt.group(1))
            if name is None:
                name = guess_roman(nxt.group(1))
                guesses.append(nxt.group(1))
            if name.startswith("ا"):
                name = name[1:]  # الحسن, not الاحسن: the article's alif stands for the name's own
            return "ال" + name.replace(" ", ""), nxt.end(), False
        said = self._reading(token, guesses)
        if token.lower() in MODEL_WORDS and (m := MODEL_NUMBER_RE.match(src, end)):
            return f"{said} {english.english_number(int(m.group(1)))}", m.end(), False  # Pixel 9 → پکسل نائن
        return said, end, False

    @staticmethod
    def _month(month: int, src: str, end: int) -> tuple[str, int, bool]:
        """October 7 → سات اکتوبر (Urdu says the day first); October 7, 2023 → سات اکتوبر دو ہزار تئیس;
        February 2024 → فروری (the year is read as the next number)."""
        name = MONTHS[month - 1]
        if (m := MONTH_DAY_RE.match(src, end)) and 1 <= int(m.group(1)) <= 31:
            said = f"{_day(int(m.group(1)))} {name}"
            if m.group(2):
                said += f" {numbers.year(int(m.group(2)))}"
            return said, m.end(), False
        return name, end, False

    def _url(self, url: str) -> str:
        """Read the address as people say it: www.bbc.com/urdu → بی بی سی ڈاٹ کام سلیش اردو; a long path
        (www.dawn.com/news/1234567) is not read, only the site."""
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.I)
        if "@" in host:
            user, _, host = host.partition("@")
            return f"{self._domain(user)} ایٹ {self._domain(host.split('/')[0])}"
        host, _, path = host.partition("/")
        said = self._domain(host)
        segments = [p for p in path.split("/") if p]
        if segments and len(segments) <= 2 and all(re.fullmatch(r"[A-Za-z]{2,20}", p) for p in segments):
            said += "".join(f" سلیش {self._label(p)}" for p in segments)
        return said

    def _domain(self, host: str) -> str:
        return " ڈاٹ ".join(self._label(label) for label in re.split(r"[.]", host) if label)

    def _label(self, label: str) -> str:
        """One part of an address: a word (dawn ڈان), run-together words (dawnnews ڈان نیوز), initials
        (bbc بی بی سی, gov جی او وی, tv ٹی وی) or digits."""
        words = []
        for part in re.findall(r"[A-Za-z]+|\d+", label):
            if part.isdigit():
                words.append(numbers.digits(part))
                continue
            low = part.lower()
            if low in WEB_LABELS:
                words.append(WEB_LABELS[low])
            elif found := self.lexicon.lookup(part) or self.lexicon.lookup(part.upper()):  # nadra.gov.pk
                words.append(found)
            elif len(low) <= 3 or not VOWELS_RE.search(low):
                words.append(spell(low))
            elif english.is_english(low):
                words.append(read_latin(low, self.lexicon.lookup, self.roman))
            elif pieces := _english_pieces(low, self.lexicon.lookup):
                words.append(" ".join(read_latin(p, self.lexicon.lookup, self.roman) for p in pieces))
            else:
                words.append(read_latin(low, self.lexicon.lookup, self.roman))
        return " ".join(w for w in words if w)


TOKEN_KINDS = ("url", "cur", "time", "iso", "date", "version", "slash", "vulgar", "alnum", "phone", "range", "num",
               "abbr", "latin", "hashtag", "word", "other")


VOWELS_RE = re.compile(r"[aeiouy]")


def _english_pieces(word: str, lookup) -> list[str] | None:
    """dawnnews → [dawn, news]: two words the lexicon or the English dictionary knows, longest first."""
    for cut in range(len(word) - 3, 2, -1):
        head, tail = word[:cut], word[cut:]
        if all(lookup(p) or english.is_english(p) for p in (head, tail)):
            return [head, tail]
    return None


PREVIOUS_LATIN_RE = re.compile(r"([A-Za-z]+)[\s-]+$")
# The Arabic article inside South Asian names, however it is romanised (ul, ud, ur, al …), and the name part
# it joins (Haq, Din, Rehman): ضیاء الحق, شمس الدین, فضل الرحمان.
ARABIC_ARTICLES = {"ul", "ud", "ur", "uz", "al"}
ARTICLE_NAME_RE = re.compile(r"[\s-]+([A-Z][a-z]+)(?![A-Za-z])")
MODEL_NUMBER_RE = re.compile(r"\s(\d{1,3})(?![\d.,:/%A-Za-z])")


def _latin_month(token: str, src: str, end: int) -> int | None:
    """The month a Latin word names, or None: December → 12; May and Dec only beside a number."""
    low = token.lower()
    month = LATIN_MONTHS.get(low) or LATIN_MONTH_SHORT.get(low)
    if month is None or not token[0].isupper():
        return None
    if low in MONTH_NEEDS_NUMBER:
        start = end - len(token)
        beside = MONTH_DAY_RE.match(src, end) or MONTH_YEAR_RE.match(src, end) or PREVIOUS_NUMBER_RE.search(
            src, max(0, start - 12), start)
        if not beside:
            return None
    return month


def _month_follows(rest: str) -> bool:
    """A month name (Urdu, Hijri or English) starts `rest`: the number before it is a day."""
    if (nxt := NEXT_WORD_RE.match(rest)) and (nxt.group(1) in MONTHS or nxt.group(1) in HIJRI_MONTHS):
        return True
    latin = NEXT_LATIN_RE.match(rest)
    return bool(latin) and latin.group(1).lower() in LATIN_MONTHS.keys() | LATIN_MONTH_SHORT.keys()


def _day(n: int) -> str:
    return "یکم" if n == 1 else numbers.cardinal(n)


def _counted(rest: str) -> bool:
    """A count noun, a unit or % follows: the number before it is a quantity (ہیلپ لائن 24 گھنٹے …)."""
    nxt = NEXT_WORD_RE.match(rest)
    return bool(nxt and nxt.group(1) in COUNT_NOUNS or UNIT_RE.match(rest) or PERCENT_RE.match(rest))


def _half_amount_follows(rest: str) -> bool:
    """A duration or an amount follows: the x.5 before it is read as ساڑھے x."""
    if (nxt := NEXT_WORD_RE.match(rest)) and nxt.group(1) in HALF_NOUNS:
        return True
    if LATIN_SCALE_RE.match(rest):
        return True
    unit = UNIT_RE.match(rest)
    return bool(unit) and unit.group(1) not in NOT_HALF_UNITS


def _and_a_half(whole: int) -> str:
    """1.5 ڈیڑھ, 2.5 ڈھائی, 7.5 ساڑھے سات; 0.5 آدھا."""
    return {0: "آدھا", 1: "ڈیڑھ", 2: "ڈھائی"}.get(whole) or f"ساڑھے {numbers.cardinal(whole)}"


# The words an ordinal agrees with, in either script: 4th Test کے → چوتھے (the Latin noun counts as a word).
AGREEMENT_WORD_RE = re.compile(rf"[{URDU_LETTERS}]+|[A-Za-z][A-Za-z0-9]*")


def _agreement(rest: str, lookup=None) -> int:
    """The ordinal's form for the words after it: 3rd سہ ماہی → تیسری (feminine); 2nd ٹیسٹ میچ میں → دوسرے
    and 4th Test کے → چوتھے (oblique before a postposition); 1st → پہلا. `lookup` gives a Latin word's Urdu
    spelling (2nd innings → اننگز, feminine)."""
    words = AGREEMENT_WORD_RE.findall(rest[:60])[:3]
    if any(w in FEMININE_NOUNS or (lookup and lookup(w) in FEMININE_NOUNS) for w in words[:2]):
        return 1
    if any(w in POSTPOSITIONS for w in words[1:3]):
        return 2
    return 0


def _kind(m: re.Match) -> str:
    """The outer alternative that matched (lastgroup can name an inner group such as 'cnum')."""
    return next(name for name in TOKEN_KINDS if m.group(name) is not None)
