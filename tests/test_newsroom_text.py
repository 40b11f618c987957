"""What newsrooms really write: markup, page furniture, English words, roman Urdu, newsreader conventions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tts_news.render.newsroom import normalizer_for
from tts_news.text import english
from tts_news.text.markup import markdown_to_text
from tts_news.text.normalize import Normalizer, is_sayable
from tts_news.text.script import build_script

N = Normalizer()


def say(text: str) -> str:
    return N.normalize(text).spoken


# -- HTML ---------------------------------------------------------------------------------------------


def test_html_tags_are_never_read_and_spans_point_at_the_original_text():
    text = "<p>وزیراعظم نے <b>اجلاس</b> طلب کر لیا</p>"
    result = N.normalize(text)
    assert result.spoken == "وزیراعظم نے اجلاس طلب کر لیا"
    start = result.spoken.index("اجلاس")
    a, b = result.source_range(start, start + len("اجلاس"))
    assert text[a:b] == "اجلاس"  # read-along highlights the word, not the tag around it


def test_html_entities_become_their_characters():
    assert say("شہر میں&nbsp;بارش &amp; ژالہ باری") == "شہر میں بارش اور ژالہ باری"
    assert say("قیمت &lt; 5 &#1585;&#1608;&#1662;&#1746;") == "قیمت سے کم پانچ روپے"


def test_html_paragraphs_and_line_breaks_end_paragraphs_and_scripts_and_styles_are_dropped():
    html = ("<html><head><title>سرخی نہیں</title><style>p{color:red}</style></head><body>"
            "<h1>بڑی خبر</h1><p>پہلا پیراگراف۔</p><script>var x = 1;</script>"
            "<p>دوسرا<br>تیسرا</p><!-- تبصرہ --></body></html>")
    script = build_script(html, N)
    assert [p.text for p in script.paragraphs] == ["بڑی خبر", "پہلا پیراگراف۔", "دوسرا", "تیسرا"]
    spoken = " ".join(s.spoken for s in script.sentences)
    assert "var" not in spoken and "ورز" not in spoken and "سرخی نہیں" not in spoken and "تبصرہ" not in spoken


def test_text_with_angle_brackets_is_not_taken_for_html():
    assert say("درجہ حرارت < 5 اور > 3") == "درجہ حرارت سے کم پانچ اور سے زیادہ تین"


# -- Markdown -----------------------------------------------------------------------------------------


def test_markdown_is_parsed_not_pattern_matched():
    text = ("# سرخی\n\n1. پہلا نکتہ\n2. دوسرا *اہم* نکتہ\n\n| شہر | درجہ |\n|---|---|\n| لاہور | 40 |\n\n"
            "`کوڈ` اور [ربط](https://x.pk \"عنوان\") اور ***زور***\n\n    بلاک\n")
    lines = markdown_to_text(text).splitlines()
    assert lines[0] == "سرخی"
    assert "پہلا نکتہ" in lines and "دوسرا اہم نکتہ" in lines
    joined = " ".join(lines)
    assert "لاہور" in joined and "40" in joined and "ربط" in joined and "زور" in joined and "بلاک" in joined
    assert not any(ch in joined for ch in "#*|`[]") and "https" not in joined


def test_a_markdown_article_in_a_batch_folder_is_read_without_its_markup(tmp_path, settings):
    from tts_news.text.article import read_articles

    (tmp_path / "a.md").write_text("## خبر\n\n**کراچی** میں _بارش_\n", encoding="utf-8")
    articles, _ = read_articles(tmp_path)
    assert articles[0].text.split() == ["خبر", "کراچی", "میں", "بارش"]


# -- page furniture -----------------------------------------------------------------------------------


def test_page_furniture_is_left_out_and_reported():
    text = "بات چیت جاری ہے۔تصویر کے کاپی رائٹ Getty Images Image caption چیف جسٹس کا کہنا تھا"
    result = N.normalize(text)
    assert result.spoken == "بات چیت جاری ہے۔ چیف جسٹس کا کہنا تھا"
    [warning] = result.warnings
    assert warning.position == text.index("تصویر") and "Getty Images" in warning.message


def test_an_article_reports_what_it_left_out(settings):
    script = build_script("سرخی\nGetty Images\nخبر کا متن۔", normalizer_for(settings))
    assert [p.text for p in script.paragraphs][0] == "سرخی"
    assert any("Getty Images" in w.message for w in script.warnings)
    assert "گیٹی" not in " ".join(s.spoken for s in script.sentences)


def test_a_newsroom_adds_its_own_furniture(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "furniture.txt").write_text("# ours\nیہ بھی پڑھیں\nبشکریہ +credit\n", encoding="utf-8")
    n = normalizer_for(settings)
    assert n.normalize("یہ بھی پڑھیں: بجٹ پیش").spoken == "بجٹ پیش"
    assert n.normalize("بشکریہ Dawn News").spoken == ""
    assert say("یہ بھی پڑھیں") == "یہ بھی پڑھیں"  # the shipped list alone does not have it


# -- English words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "spoken"), [
    ("feature", "فیچر"), ("bank", "بینک"), ("think", "تھنک"), ("war", "وار"), ("court", "کورٹ"),
    ("century", "سینچری"), ("idea", "آئیڈیا"), ("action", "ایکشن"),
])
def test_english_words_come_from_the_pronouncing_dictionary(written, spoken):
    assert english.is_english(written)
    assert english.pronounce(written) == spoken


def test_the_newsroom_lexicon_spells_as_the_corpus_does_over_the_dictionary():
    assert english.pronounce("century") == "سینچری"
    assert say("century") == "سنچری"  # the spelling the corpus prints (7 times; سینچری never)


def test_the_lexicon_wins_over_the_dictionary_and_letters_are_the_last_resort(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "lexicon.tsv").write_text("feature\tفیچرز\n", encoding="utf-8")
    assert normalizer_for(settings).normalize("feature").spoken == "فیچرز"
    assert not english.is_english("zqxvart")
    assert say("zqxvart") and all(is_sayable(ch) for ch in say("zqxvart"))


def test_numbers_read_in_english():
    assert [english.english_number(n) for n in (7, 16, 24, 303, 1000)] == [
        "سیون", "سکسٹین", "ٹوئنٹی فور", "تھری او تھری", "ون تھاؤزنڈ"]


# -- roman Urdu ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "spoken"), [
    ("Nawaz Sharif", "نواز شریف"), ("Karachi", "کراچی"), ("Pakistan Zindabad", "پاکستان زندہ باد"),
    ("Islamabad", "اسلام آباد"), ("Ghulam Muhammad", "غلام محمد"), ("Bhakkar", "بھکر"),
    ("#PakistanZindabad", "پاکستان زندہ باد"), ("Mohsin Naqvi", "محسن نقوی"),
])
def test_roman_urdu_becomes_its_real_urdu_spelling(written, spoken):
    assert say(written) == spoken


def test_a_newsroom_adds_names_and_a_known_english_word_is_not_taken_for_urdu(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    before = normalizer_for(settings).normalize("Zarghuna").spoken
    (settings.data_dir / "names.txt").write_text("زرغونہ\n", encoding="utf-8")
    assert before != "زرغونہ"
    assert normalizer_for(settings).normalize("Zarghuna").spoken == "زرغونہ"
    assert say("Camera") == "کیمرا"  # not the look-alike Urdu word


# -- conventions beyond the shared cases --------------------------------------------------------------


@pytest.mark.parametrize(("written", "spoken"), [
    ("¾ حصہ", "تین چوتھائی حصہ"),
    ("2¼ کلو", "سوا دو کلو"),
    ("2¾ کلو", "پونے تین کلو"),
    ("10 PM کی خبریں", "رات دس بجے کی خبریں"),
    ("12:30 PM", "دوپہر ساڑھے بارہ بجے"),
    ("5 a.m.", "صبح پانچ بجے"),
    ("80s کی موسیقی", "اسی کی دہائی کی موسیقی"),
    ("250/7", "دو سو پچاس رنز سات وکٹوں پر"),
    ("24/7 سروس", "چوبیس سات سروس"),
    ("3/8 انچ", "تین بٹا آٹھ انچ"),
    ("World War II", "ورلڈ وار ٹو"),
    ("Louis XIV", "لوئس چہاردہم"),
    ("20 × 30", "بیس ضرب تیس"),
    ("S24", "ایس ٹوئنٹی فور"),
    ("5GB", "پانچ گیگابائٹ"),
    ("www.bbc.com/urdu", "بی بی سی ڈاٹ کام سلیش اردو"),
    ("F-16 طیارے", "ایف سولہ طیارے"),
    ("1st", "پہلا"),
    ("2nd اننگز", "دوسری اننگز"),
])
def test_newsreader_conventions(written, spoken):
    assert say(written) == spoken


def test_abbreviations_and_scores_do_not_end_a_sentence():
    script = build_script("سرخی\nDr. Ahmed Khan نے کہا کہ میچ 2۔2 سے برابر رہا۔ دوسرا جملہ۔", N)
    assert [s.spoken for s in script.paragraphs[1].sentences] == [
        "ڈاکٹر احمد خان نے کہا کہ میچ دو دو سے برابر رہا۔", "دوسرا جملہ۔"]


def test_a_multiplication_sign_is_never_dropped():
    assert say("×") == "ضرب" and say("÷") == "تقسیم"


def test_the_normalize_command_reads_markup_line_by_line():
    done = subprocess.run([sys.executable, "-m", "tts_news.cli", "normalize"],
                          input="<b>خبر</b>\nGetty Images\n", capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:-1] == ["خبر", ""]
    assert "Getty Images" in done.stderr
