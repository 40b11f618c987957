"""Written Urdu news text → what a newsreader says (shared/urdu-normalization.md).

Every digit, Latin letter and symbol becomes Urdu words; sentence punctuation stays (it drives pauses);
anything that still cannot be said is removed from the spoken text *and* reported with its position.
The spoken text keeps a map back to the original characters, for read-along highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from tts_news.text import numbers
from tts_news.text.cleanup import clean
from tts_news.text.latin import read_latin
from tts_news.text.lexicon import Lexicon

URDU_LETTER_RANGE = (0x0620, 0x06FF)
# Urdu and Arabic letters, without the Arabic-block digits and punctuation (۔ is U+06D4).
LETTERS = "\u0620-\u064A\u066E-\u06D3\u06D5\u06EE\u06EF\u06FA-\u06FF"
SENTENCE_END = "۔؟!"
PHRASE_BREAK = "،؛"
# Punctuation in the spoken text: sentence ends and phrase breaks, in their Urdu forms.
SPOKEN_PUNCTUATION = SENTENCE_END + PHRASE_BREAK

MONTHS = (
    "جنوری فروری مارچ اپریل مئی جون جولائی اگست ستمبر اکتوبر نومبر دسمبر".split()
)
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
# Marks read as a pause: they become the Urdu phrase break or full stop.
PAUSES = {
    ",": "،", ";": "؛", ":": "،", "(": "،", ")": "،", "[": "،", "]": "،", "{": "،", "}": "،",
    "-": "،", "–": "،", "—": "،", "…": "،", "|": "،", "•": "،", "·": "،", "/": "،", "\\": "،",
    "*": "،", "_": "،", "?": "؟", ".": "۔", "!": "!", "¿": "؟", "۔": "۔", "؟": "؟", "،": "،", "؛": "؛",
    "٭": "،", "؍": "،",
}
QUOTES = set("\"'`‘’“”«»‹›„‚″′")

NUMBER = r"\d+(?:,\d+)*(?:\.\d+)?"
TOKEN_RE = re.compile(
    rf"""
    (?P<url>(?:https?://|www\.)[^\s\u0600-\u06FF]+|[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+
        |(?<![\w.])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:com|org|net|pk|gov|edu|io|tv|uk|info|me)\b
        (?:/[^\s\u0600-\u06FF]*)?)
   |(?P<cur>(?<![A-Za-z])(?:Rs\.?|PKR|USD|US\$|INR|GBP|EUR|AED|SAR|[₨₹$£€¥]))\s?(?P<cnum>{NUMBER})
   |(?P<time>(?<![\d.,:])(?P<hh>[01]?\d|2[0-4]):(?P<mm>[0-5]\d)(?![\d:]))
   |(?P<date>(?<![\d.,/])(?P<dd>[0-3]?\d)(?P<sep>[/.\-؍])(?P<mo>[01]?\d)(?P=sep)(?P<yy>\d{{4}}|\d{{2}})(?![\d/]))
   |(?P<phone>(?<![\d.,])(?:\+\d[\d-]{{7,}}\d|0\d+(?:-\d+)*)(?![\d.,]))
   |(?P<range>(?<![\d.,])(?P<ra>\d+)\s?[-–]\s?(?P<rb>\d+)(?![\d.,]\d|[-–]))
   |(?P<num>(?:(?<![\w)\]])[-−](?=\d))?{NUMBER})
   |(?P<latin>(?:[A-Za-z]\.){{2,}}|[A-Za-z\u00C0-\u024F]+(?:['’][A-Za-z]+)?)
   |(?P<hashtag>[#@](?=[\w{LETTERS}]))
   |(?P<word>[{LETTERS}]+)
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
NEXT_WORD_RE = re.compile(rf"\s*(?:؍\s*)?([{LETTERS}]+)")
LATIN_SCALE_RE = re.compile(r"\s?(million|billion|trillion|bn|m)\b", re.I)
SUFFIX_CURRENCY_RE = re.compile(r"\s?([$£€₨])")
PERCENT_RE = re.compile(r"\s?%")
YEAR_MARK_RE = re.compile(r"\s?ء")  # 2024ء, and "2002 ءکے" where the sign is glued to the next word
HIJRI_MARK_RE = re.compile(rf"\s?ھ(?![{LETTERS}])")


@dataclass(frozen=True)
class Span:
    """spoken[spoken_start:spoken_end] was read from source[source_start:source_end]."""

    spoken_start: int
    spoken_end: int
    source_start: int
    source_end: int


@dataclass(frozen=True)
class TextWarning:
    """Something in the input that will not be heard; position is an index into the input text."""

    position: int
    text: str
    message: str

    def __str__(self) -> str:
        return f"character {self.position}: {self.message}"


@dataclass(frozen=True)
class Normalized:
    spoken: str
    spans: tuple[Span, ...]
    warnings: tuple[TextWarning, ...] = ()

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


def is_urdu_letter(ch: str) -> bool:
    return URDU_LETTER_RANGE[0] <= ord(ch) <= URDU_LETTER_RANGE[1] and unicodedata.category(ch) == "Lo"


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

    def _append(self, text: str, start: int, end: int) -> None:
        self.parts.append(text)
        self.spans.append(Span(self.length, self.length + len(text), start, end))
        self.length += len(text)

    def words(self, text: str, start: int, end: int) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if self.length:
            self.parts.append(" ")
            self.length += 1
        self._append(text, start, end)

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
    def __init__(self, lexicon: Lexicon | None = None, options: Options | None = None) -> None:
        self.lexicon = lexicon or Lexicon.load()
        self.options = options or Options()

    # -- entry point ---------------------------------------------------------------------------------
    def normalize(self, text: str) -> Normalized:
        cleaned = clean(text)
        src = cleaned.text
        out = _Builder()
        warnings: list[TextWarning] = []
        origin = cleaned.origin

        def source(a: int, b: int) -> tuple[int, int]:
            return (origin[a], origin[b - 1] + 1) if b > a else (origin[a], origin[a])

        pos = 0
        while pos < len(src):
            m = TOKEN_RE.search(src, pos)
            if m is None:
                break
            spoken, end, is_pause = self._read(_kind(m), m, src, warnings, source)
            a, b = source(m.start(), max(end, m.start() + 1))
            if is_pause:
                out.pause(spoken, a, b)
            else:
                out.words(spoken, a, b)
            pos = max(end, m.end())
        spoken = out.text()
        return Normalized(spoken, tuple(out.spans), tuple(warnings))

    # -- dispatch ------------------------------------------------------------------------------------
    def _read(self, kind, m, src, warnings, source) -> tuple[str, int, bool]:
        """Return (spoken text, index where reading stopped, whether it is a pause mark)."""
        end = m.end()
        if kind == "word":
            word = m.group()
            return self.lexicon.lookup(word) or word, end, False
        if kind == "num":
            return self._number(m.group("num"), src, m.start(), end)
        if kind == "latin":
            return self._latin(m.group("latin"), src, end)
        if kind == "cur":
            return self._currency(CURRENCIES[m.group("cur").replace(" ", "")], m.group("cnum"), src, end)
        if kind == "time":
            return self._time(int(m.group("hh")), int(m.group("mm")), src, end)
        if kind == "date":
            return self._date(m, src, end)
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

    def _plain_number(self, raw: str) -> str:
        """'12.5' → بارہ اعشاریہ پانچ; '2,5' (not a grouping) → دو، پانچ."""
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
        whole, _, fraction = body.partition(".")
        rest = src[end:]

        if not negative and not fraction and "," not in whole:
            n = int(whole)
            if m := ORDINAL_SUFFIX_RE.match(rest):
                form = ORDINAL_FORMS.get(m.group(1), 0)
                return numbers.ordinal(n, form), end + m.end(), False
            if m := HIJRI_MARK_RE.match(rest):
                return f"{numbers.year(n)} ہجری", end + m.end(), False
            if m := YEAR_MARK_RE.match(rest):
                said = numbers.year(n)
                return (said + " عیسوی" if self.options.year_sign == "say" else said), end + m.end(), False
            nxt = NEXT_WORD_RE.match(rest)
            if nxt and n <= 31 and (nxt.group(1) in MONTHS or nxt.group(1) in HIJRI_MONTHS):
                return ("یکم" if n == 1 else numbers.cardinal(n)), end, False

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
        day, month, year = int(m.group("dd")), int(m.group("mo")), m.group("yy")
        if not (1 <= day <= 31 and 1 <= month <= 12):
            # Not a date (a version or a score): read the numbers one after another.
            parts = re.split(r"[/.\-؍]", m.group("date"))
            return "، ".join(numbers.cardinal(int(p)) for p in parts), end, False
        day_said = "یکم" if day == 1 else numbers.cardinal(day)
        return f"{day_said} {MONTHS[month - 1]} {numbers.year(int(year))}", end, False

    def _range(self, a: str, b: str, src: str, end: int) -> tuple[str, int, bool]:
        """10-15 → دس سے پندرہ; 3-3 → تین تین; fiscal 24-2023 or 2023-24 → دو ہزار تئیس چوبیس."""
        if len(a) == 2 and len(b) == 4 and (int(b) + 1) % 100 == int(a):
            return f"{numbers.year(int(b))} {numbers.cardinal(int(a))}", end, False
        if len(a) == 4 and len(b) == 2 and (int(a) + 1) % 100 == int(b):
            return f"{numbers.year(int(a))} {numbers.cardinal(int(b))}", end, False
        first = self._plain_number(a)
        if a == b:
            return f"{first} {first}", end, False
        tail, new_end, _ = self._number(b, src, end - len(b), end)
        return f"{first} سے {tail}", new_end, False

    # -- Latin, URLs ---------------------------------------------------------------------------------
    def _latin(self, token: str, src: str, end: int) -> tuple[str, int, bool]:
        return read_latin(token, self.lexicon.lookup), end, False

    def _url(self, url: str) -> str:
        """Read the address's site name: www.dawn.com/news/1 → ڈان ڈاٹ کام."""
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", url)
        if "@" in host:
            user, _, host = host.partition("@")
            return f"{self._domain(user)} ایٹ {self._domain(host.split('/')[0])}"
        return self._domain(host.split("/")[0])

    def _domain(self, host: str) -> str:
        labels = [label for label in re.split(r"[.\-_+]", host) if label]
        said = []
        for label in labels:
            if label.isdigit():
                said.append(numbers.digits(label))
            else:
                said.append(" ".join(read_latin(p, self.lexicon.lookup) for p in re.findall(r"[A-Za-z]+|\d+", label)
                                     if not p.isdigit()) or numbers.digits(label))
        return " ڈاٹ ".join(said)


TOKEN_KINDS = ("url", "cur", "time", "date", "phone", "range", "num", "latin", "hashtag", "word", "other")


def _kind(m: re.Match) -> str:
    """The outer alternative that matched (lastgroup can name an inner group such as 'cnum')."""
    return next(name for name in TOKEN_KINDS if m.group(name) is not None)
