"""Boilerplate removal on the four seeds, on synthetic pages and on SemEval texts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storylines.article import Article
from storylines.clean import boilerplate
from storylines.clean.boilerplate import BoilerplateRemover, remove_boilerplate, settings_for
from tests.conftest import DEV_PAIRS

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def seed(number: str) -> str:
    return next(SAMPLES.glob(f"{number}_*.txt")).read_text()


def cleaned(raw: str, **fields: str) -> Article:
    return BoilerplateRemover()(Article(source="test", raw_text=raw, **fields))


def lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def characters(text: str) -> Counter[str]:
    """Non-space characters with their counts: what cleaning must neither lose nor invent."""
    return Counter("".join(text.split()))


BOILERPLATE = {
    "001": [
        "Коментари",
        "НАЙ-НОВО",
        "|",
        "НАЙ-ЧЕТЕНИ",
        "НАЙ-КОМЕНТИРАНИ",
        "158-годишна британска компания фалира заради слаба парола и тежък удар от хакери",
        "На днешната дата, 31 юли. Богородични Заговезни",
        "Microsoft се присъедини към Nvidia в клуба на компаниите с пазарна капитализация от над 4 трлн."
        " долара",
    ],
    "002": [
        "- General Staff: It is Russian patience, not US’, that is waning over Syria",
        "- Kremlin voices cautious optimism about Nagorno-Karabakh settlement",
        "- Kremlin sees no new actions by KIev to facilitate implementation of Minsk accords",
    ],
    "003": [
        "No comments :",
        "Post a Comment",
        "Blog Widget by LinkWithin",
        "Featured Post",
        "Only News",
        '“The U.S. must stop supporting terrorists who are destroying Syria and her people" : '
        "US Congresswoman, Tulsi Gabbard",
    ],
}
# Lines between these markers (inclusive) are the article body.
BODY = {
    "001": ("Путин и Оланд", "Руският президент също така предложи"),
    "002": ("MOSCOW, July 6 /TASS/.", "The kremlin added Obama praises"),
    "003": ("The Kremlin confirms that Moscow", "The proposals are expected"),
}
SUBHEADS = {"The Ukrainian crisis"}  # may go either way


@pytest.mark.parametrize("number", sorted(BOILERPLATE))
def test_seed_boilerplate_is_removed_and_kept_in_removed(number: str) -> None:
    article = cleaned(seed(number))
    for line in BOILERPLATE[number]:
        assert line not in article.text
        assert line in article.removed


def test_teaser_lines_of_seed_003_are_removed() -> None:
    article = cleaned(seed("003"))
    assert "Tulsi Gabbard" not in article.text
    teaser = "US Congresswoman, Tulsi Gabbard, recently visited"
    assert any(line.startswith(teaser) for line in article.removed)


@pytest.mark.parametrize("number", sorted(BODY))
def test_seed_body_paragraphs_all_stay(number: str) -> None:
    raw_lines = lines(seed(number))
    first, last = BODY[number]
    start = next(i for i, line in enumerate(raw_lines) if line.startswith(first))
    end = next(i for i, line in enumerate(raw_lines) if line.startswith(last))
    kept = cleaned(seed(number)).text.split("\n")
    body = [line for line in raw_lines[start : end + 1] if line not in SUBHEADS and not line.startswith("- ")]
    assert [line for line in kept if line in body] == body


@pytest.mark.parametrize("number", ["000", "001", "002", "003"])
def test_every_line_is_either_kept_or_removed_in_order(number: str) -> None:
    raw = seed(number)
    article = cleaned(raw)
    assert characters(article.text) + characters("".join(article.removed)) == characters(raw)
    position = 0
    for line in article.removed:  # each found after the one before: document order
        position = raw.index(line, position) + len(line)


def test_seed_000_keeps_both_languages_and_drops_the_related_articles_tail() -> None:
    article = cleaned(seed("000"))
    assert "Putin: Russia and the United States Department of defense" in article.text
    assert "普京:俄美国防部有必要建立紧密工作联系" in article.text
    assert article.text.endswith("期间谈论的话题主要是中东、乌克兰以及朝鲜半岛局势。")
    assert "相关的主题文章" not in article.text
    assert any("相关的主题文章" in line for line in article.removed)


def test_title_and_dateline_at_the_top_stay() -> None:
    text = cleaned(seed("003")).text
    assert text.startswith("Thursday, July 14, 2016\nMoscow ready for coordinated anti-terrorist efforts")


BODY_SENTENCE = "The minister said on Monday that the talks would continue in Geneva next week."


def test_navigation_menu_at_the_top_is_removed() -> None:
    raw = "\n".join(["Home", "|", "World", "|", "Sport", "Ministers meet in Geneva", BODY_SENTENCE])
    kept, removed = remove_boilerplate(raw, "en")
    assert kept == ["Ministers meet in Geneva", BODY_SENTENCE]
    assert removed == ["Home", "|", "World", "|", "Sport"]


def test_a_subhead_inside_the_body_stays_but_a_headline_list_goes() -> None:
    headlines = ["Floods hit the north of Italy", "Markets fall for a third day", "New coach named at Roma"]
    raw = "\n".join([BODY_SENTENCE, "Talks in Geneva", BODY_SENTENCE, *headlines, BODY_SENTENCE])
    kept, removed = remove_boilerplate(raw, "en")
    assert kept == [BODY_SENTENCE, "Talks in Geneva", BODY_SENTENCE, BODY_SENTENCE]
    assert removed == headlines


def test_long_unpunctuated_prose_is_body_but_a_long_tag_list_is_not() -> None:
    prose = "The minister said that the talks with the delegation from the north would go on " * 3
    tags = ", ".join(["Putin", "Obama", "Syria", "Kremlin", "Washington", "Moscow", "Geneva"] * 5)
    kept, removed = remove_boilerplate(f"{BODY_SENTENCE}\n{prose}\n{tags}", "en")
    assert kept == [BODY_SENTENCE, prose.strip()]
    assert removed == [tags]


def test_text_without_any_body_line_is_kept() -> None:
    assert remove_boilerplate("Breaking news\nPutin calls Obama", "en") == (
        ["Breaking news", "Putin calls Obama"],
        [],
    )


def test_empty_text() -> None:
    article = cleaned("")
    assert (article.text, article.removed) == ("", [])


def test_lang_hint_spares_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str) -> str:
        raise AssertionError("detect_language called despite lang_hint")

    monkeypatch.setattr(boilerplate, "detect_language", fail)
    assert cleaned(seed("001"), lang_hint="bg").removed[0] == "Коментари"


@pytest.mark.parametrize(
    ("lang", "has_stoplist"), [("bg", True), ("en-US", True), ("zh-Hans", False), ("xx", False)]
)
def test_settings_for_language_tags(lang: str, has_stoplist: bool) -> None:
    assert bool(settings_for(lang).stopwords) is has_stoplist


def test_unspaced_chinese_prose_is_body_with_chinese_settings() -> None:
    prose = "俄总统新闻局当天发布消息称应美方提议当天普京与美国总统奥巴马进行电话交谈讨论叙利亚局势" * 2
    raw = f"{prose}\n相关新闻\n热门文章\n评论"
    assert remove_boilerplate(raw, "zh") == ([prose], ["相关新闻", "热门文章", "评论"])
    assert remove_boilerplate(raw, "en")[0] == [prose, "相关新闻", "热门文章", "评论"]


def test_chinese_title_lines_at_the_top_stay_but_a_menu_goes() -> None:
    body = "俄总统新闻局当天发布消息称,应美方提议,当天普京与美国总统奥巴马进行电话交谈。"
    title = ["普京:俄美国防部有必要建立紧密工作联系", "中新社莫斯科2月14日电"]
    kept, removed = remove_boilerplate("\n".join(["首页", "新闻", "国际", *title, body]), "zh")
    assert kept == [*title, body]
    assert removed == ["首页", "新闻", "国际"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_any_text_gives_pieces_of_itself(text: str) -> None:
    kept, removed = remove_boilerplate(text)
    for piece in kept + removed:
        assert piece and piece in text


@pytest.mark.skipif(not DEV_PAIRS.exists(), reason="SemEval dev data not available")
def test_already_clean_semeval_texts_lose_little() -> None:
    import pandas as pd

    pairs = pd.read_csv(DEV_PAIRS, nrows=150)
    columns = [(pairs[f"lang{side}"], pairs[f"text{side}"]) for side in "12"]
    texts = {text: lang for langs, texts in columns for lang, text in zip(langs, texts, strict=True)}
    removed_chars = sum(sum(map(len, remove_boilerplate(text, lang)[1])) for text, lang in texts.items())
    assert removed_chars / sum(map(len, texts)) < 0.02
