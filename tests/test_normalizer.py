"""The Urdu normalizer: spec cases, properties over the whole number range, real articles."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import SEED, SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_news.text.lexicon import Lexicon
from tts_news.text.normalize import Normalizer, Options, is_sayable
from tts_news.text.numbers import BELOW_100, SCALE_WORDS, cardinal

N = Normalizer()


def say(text: str, **options) -> str:
    return (Normalizer(N.lexicon, Options(**options)) if options else N).normalize(text).spoken


# -- a words → number parser written for the tests, independent of the verbalizer ------------------
WORD_VALUE = {w: i for i, w in enumerate(BELOW_100)}


def parse_urdu_number(text: str) -> int:
    """Read Urdu number words back: 'ایک کھرب تئیس ارب …' → 123000000000 + …"""
    words = text.split()
    total, current = 0, 0
    for w in words:
        if w in WORD_VALUE:
            current += WORD_VALUE[w]
        elif w == "سو":
            current = (current or 1) * 100
        elif w in SCALE_WORDS:
            value = SCALE_WORDS[w]
            if value == 10**11:  # کھرب is the top word: everything so far counts in کھرب
                total = (total + (current or 1)) * value
            else:
                total += (current or 1) * value
            current = 0
        else:
            raise ValueError(f"not a number word: {w}")
    return total + current


@settings(max_examples=3000, deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_every_integer_up_to_ten_trillion_reads_back_to_itself(n):
    assert parse_urdu_number(cardinal(n)) == n


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_digits_in_any_script_and_grouping_read_the_same(n):
    western = f"{n:,}"
    urdu_digits = str(n).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    expected = say(str(n)) if not (1100 <= n <= 1999) else say(western)
    assert say(western) == expected
    assert say(urdu_digits) == say(str(n))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789۰۱۲۳٤٥ abcXYZ%$.,:-/کتابمیں۔", max_size=40))
def test_no_digit_or_latin_letter_survives_and_normalizing_twice_changes_nothing(text):
    once = say(text)
    assert not re.search(r"[0-9A-Za-z\u06F0-\u06F9\u0660-\u0669]", once)
    assert all(is_sayable(ch) for ch in once)
    assert say(once) == once


@pytest.mark.parametrize("cases", ["normalization-cases.tsv", "newsreader-cases.tsv"])
def test_every_shared_case_passes_through_the_normalize_command(cases):
    done = subprocess.run(
        [sys.executable, str(SHARED / "tools" / "score_normalizer.py"), str(SHARED / cases),
         "-v", "--", sys.executable, "-m", "tts_news.cli", "normalize"],
        capture_output=True, text=True, check=True,
    )
    score = re.search(r"normalizer: (\d+)/(\d+) passed", done.stdout)
    assert score, done.stdout
    passed, total = map(int, score.groups())
    assert passed == total, done.stdout


@pytest.mark.parametrize(("written", "spoken"), [
    ("1,250,000", "بارہ لاکھ پچاس ہزار"),
    ("12,50,000", "بارہ لاکھ پچاس ہزار"),
    ("123,456,789,012", "ایک کھرب تئیس ارب پینتالیس کروڑ سڑسٹھ لاکھ نواسی ہزار بارہ"),
    ("2 کروڑ 92 ہزار 500", "دو کروڑ بانوے ہزار پانچ سو"),
    ("5.7 ٹریلین", "پانچ اعشاریہ سات ٹریلین"),
    ("14 سو", "چودہ سو"),
    ("3.14", "تین اعشاریہ ایک چار"),
    ("2,5-DCP", "دو، پانچ ڈی سی پی"),
    ("051-1234", "صفر پانچ ایک، ایک دو تین چار"),
    ("1445ھ", "چودہ سو پینتالیس ہجری"),
    ("نے2009ء", "نے دو ہزار نو"),
    ("IMFنے", "آئی ایم ایف نے"),
    ("27.6فیصد", "ستائیس اعشاریہ چھ فیصد"),
    ("Rs. 750.50", "سات سو پچاس روپے پچاس پیسے"),
    ("$5 ارب", "پانچ ارب ڈالر"),
    ("$45 ڈالر", "پینتالیس ڈالر"),
    ("1؍مئی", "یکم مئی"),
    ("12:00 بجے", "بارہ بجے"),
    ("100 km/h", "سو کلومیٹر فی گھنٹہ"),
    ("120 km/h", "ایک سو بیس کلومیٹر فی گھنٹہ"),
    ("2023-24", "دو ہزار تئیس چوبیس"),
    ("ﷺ", "صلی اللہ علیہ وسلم"),
    ("www.dawn.com", "ڈان ڈاٹ کام"),
])
def test_spec_examples_are_read_as_a_newsreader_would(written, spoken):
    assert say(written) == spoken


def test_year_2021_is_read_as_do_hazar_ikkis():
    assert say("2021ء میں") == "دو ہزار اکیس میں"


def test_ordinals_agree_with_their_noun():
    assert say("1واں") == "پہلا"
    assert say("2ویں") == "دوسری"
    assert say("25ویں سالگرہ") == "پچیسویں سالگرہ"


def test_conventions_are_configurable():
    assert say("12,50,000", large_numbers="fractions") == "ساڑھے بارہ لاکھ"
    assert say("1,50,000", large_numbers="fractions") == "ڈیڑھ لاکھ"
    assert say("Rs. 750.50", rupee_decimals="decimal") == "سات سو پچاس اعشاریہ پانچ صفر روپے"
    assert say("2024ء", year_sign="say") == "دو ہزار چوبیس عیسوی"
    with pytest.raises(ValueError):
        Options(large_numbers="roman")


def test_user_lexicon_entries_win_over_the_shipped_ones(tmp_path):
    user = tmp_path / "lexicon.tsv"
    user.write_text("nato\tناٹو\nPTV\tپی ٹی وی\n", encoding="utf-8")
    lexicon = Lexicon.load(user)
    n = Normalizer(lexicon)
    assert n.normalize("NATO اجلاس").spoken == "ناٹو اجلاس"
    assert N.normalize("NATO اجلاس").spoken == "نیٹو اجلاس"


def test_unreadable_characters_are_reported_with_their_position():
    result = N.normalize("خبر क آج")
    assert "क" not in result.spoken
    assert [(w.position, w.text) for w in result.warnings] == [(4, "क")]


def test_spoken_text_maps_back_to_the_written_characters():
    text = "جنیوا میں 5 گھنٹے"
    result = N.normalize(text)
    i = result.spoken.index("پانچ")
    start, end = result.source_range(i, i + len("پانچ"))
    assert text[start:end] == "5"


def test_normalizing_the_seed_article_leaves_nothing_unsaid():
    text = SEED.read_text(encoding="utf-8")
    for line in text.splitlines():
        result = N.normalize(line)
        assert not result.warnings
        assert all(is_sayable(ch) for ch in result.spoken)


def test_real_articles_keep_no_digit_latin_letter_or_symbol():
    corpus = sorted((SHARED / "corpus" / "bend-the-truth-real").glob("*.txt"))
    assert len(corpus) == 347
    left = []
    for path in corpus:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                spoken = N.normalize(line).spoken
                left += [ch for ch in spoken if not is_sayable(ch)]
    assert left == []


def test_normalize_command_writes_one_line_per_input_line():
    lines = ["5 گھنٹے", "", "IMF", "🇵🇰", "آپ"]
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "normalize"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:-1] == ["پانچ گھنٹے", "", "آئی ایم ایف", "", "آپ"]
