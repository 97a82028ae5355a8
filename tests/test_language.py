"""Language identification: primary language, per-language spans, short texts, SemEval accuracy."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storylines.article import Article
from storylines.clean.boilerplate import BoilerplateRemover
from storylines.enrich.language import SCRIPT_LANGUAGES, LanguageDetector, detect_language, language_spans
from tests.conftest import DEV_PAIRS

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def enriched(raw: str, **fields: str) -> Article:
    article = Article(source="test", raw_text=raw, **fields)
    return LanguageDetector()(BoilerplateRemover()(article))


def seed(number: str) -> str:
    return next(SAMPLES.glob(f"{number}_*.txt")).read_text()


def test_seed_000_is_english_then_chinese_split_where_the_original_starts() -> None:
    article = enriched(seed("000"))
    assert [span.lang for span in article.languages] == ["en", "zh"]
    english, chinese = article.languages
    assert article.text[chinese.start :].startswith("普京:俄美国防部")
    assert (english.start, english.end, chinese.end) == (0, chinese.start, len(article.text))
    assert article.lang == "en"  # the translation holds more characters


def test_seed_001_is_bulgarian_not_russian() -> None:
    article = enriched(seed("001"))
    assert article.lang == "bg"
    assert [span.lang for span in article.languages] == ["bg"]


@pytest.mark.parametrize("number", ["002", "003"])
def test_english_seeds_have_one_segment(number: str) -> None:
    article = enriched(seed(number))
    assert article.lang == "en"
    assert [(s.lang, s.start, s.end) for s in article.languages] == [("en", 0, len(article.text))]


def test_foreign_names_inside_a_text_do_not_make_a_segment() -> None:
    text = (
        "Microsoft се присъедини към Nvidia в клуба на компаниите с пазарна капитализация от над 4 трлн."
        " долара, след като акциите на компанията поскъпнаха с осем процента."
    )
    assert [span.lang for span in language_spans(text)] == ["bg"]


def test_russian_paragraph_then_english_paragraph() -> None:
    russian = (
        "Президент России Владимир Путин провёл телефонный разговор с президентом США Бараком Обамой,"
        " сообщила пресс-служба Кремля."
    )
    english = (
        "Russian President Vladimir Putin held a telephone conversation with US President Barack Obama,"
        " the Kremlin press service said."
    )
    spans = language_spans(f"{russian}\n{english}")
    assert [(s.lang, s.start) for s in spans] == [("ru", 0), ("en", len(russian) + 1)]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("普京与奥巴马通电话,讨论叙利亚局势。", "zh"),
        ("プーチン大統領はオバマ大統領と電話で会談した。", "ja"),
        ("푸틴 대통령은 오바마 대통령과 전화 통화를 했다.", "ko"),
        ("Ο Πούτιν μίλησε τηλεφωνικά με τον Ομπάμα για τη Συρία.", "el"),
    ],
)
def test_scripts_of_one_language_need_no_model(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["", "   \n", "123 456", "!!! ???", "— | —"])
def test_text_without_letters_is_undetectable(text: str) -> None:
    assert detect_language(text) is None
    assert language_spans(text) == []


@pytest.mark.parametrize("text", ["ok", "CNN", "Путин", "x" * 5000, "a\u0301" * 50])
def test_very_short_or_odd_text_gives_a_known_code_or_none(text: str) -> None:
    known = {lang for langs in SCRIPT_LANGUAGES.values() for lang in langs} | {"ja"}
    assert detect_language(text) in known | {None}


def test_lang_hint_is_the_fallback_when_nothing_is_detected() -> None:
    article = LanguageDetector()(Article(source="test", raw_text="2016-07-14", lang_hint="en"))
    assert (article.lang, article.languages) == ("en", [])


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300))
def test_spans_cover_the_text_contiguously(text: str) -> None:
    spans = language_spans(text)
    if spans:
        assert spans[0].start == 0 and spans[-1].end == len(text)
        assert all(a.end == b.start and a.lang != b.lang for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.skipif(not DEV_PAIRS.exists(), reason="SemEval dev data not available")
def test_semeval_accuracy_per_language() -> None:
    import pandas as pd

    pairs = pd.read_csv(DEV_PAIRS)
    columns = [(pairs[f"lang{side}"], pairs[f"text{side}"]) for side in "12"]
    texts = {text: lang for langs, texts in columns for lang, text in zip(langs, texts, strict=True)}
    by_lang: dict[str, list[str]] = {}
    for text, lang in texts.items():
        if len(by_lang.setdefault(lang, [])) < 10:
            by_lang[lang].append(text)
    for lang, sample in by_lang.items():
        correct = sum(detect_language(text) == lang for text in sample)
        assert correct >= 9, lang
