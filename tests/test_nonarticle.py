"""Flagging pages that are no news reports: block pages, cookie walls, empty shells."""

from __future__ import annotations

from pathlib import Path

import pytest

from storylines.article import Article
from storylines.clean.nonarticle import NonArticleFlagger, non_article_reason
from storylines.pipeline import default_pipeline

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

BLOCK_EN = (
    "We are sorry, but we recorded a huge amount of connections from the IP address you are connecting "
    "from.\n\nWe suspect that someone has misused the IP address you are using.\n\nIf you want to connect "
    'with us, select "I AM NOT A ROBOT".\n\nYour IP address: 207.241.233.113'
)
BLOCK_PL = (
    "Przykro nam, ale z adresu IP z którego się łączysz odnotowaliśmy ogromną ilość połączeń.\n\n"
    'Jeśli chcesz połączyć się z nami zaznacz "NIE JESTEM ROBOTEM".\n\nTwój adres IP: 207.241.233.113'
)
COOKIE_DE = (
    "Einigung über erste schwarz-grüne Regierung in Österreich\nOK\n\nWir verwenden auf unserer Webseite "
    "Cookies und pseudonyme Analysetechniken. "
    "Sie stimmen der Verwendung von Cookies durch Anklicken von OK zu. "
    "Nähere Informationen finden Sie in unserer Datenschutzerklärung."
)
REPORT = (
    "MOSCOW, July 6. Russian President Vladimir Putin and US President Barack Obama discussed the situation "
    "in Syria by phone on Wednesday, the Kremlin press service said. The presidents agreed to step up "
    "contacts between their defence ministries and to keep working on a political settlement. "
    "The site is protected by reCAPTCHA and the Google Privacy Policy applies."
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [(BLOCK_EN, "block page"), (BLOCK_PL, "block page"), (COOKIE_DE, "cookie wall"), ("Subscribe.", "empty")],
)
def test_non_articles_are_flagged_with_a_reason(text: str, reason: str) -> None:
    found = non_article_reason("", text, text)
    assert found is not None and found.startswith(reason)


def test_a_report_is_not_flagged_even_when_it_mentions_captcha() -> None:
    assert non_article_reason("Putin and Obama discuss Syria", REPORT, REPORT) is None


def test_chinese_counts_characters_not_runs() -> None:
    text = (
        "俄罗斯总统普京与美国总统奥巴马周三通电话，讨论了叙利亚局势。"
        "克里姆林宫新闻处说，两国总统同意加强国防部之间的联系。"
    )
    assert non_article_reason("普京与奥巴马通电话", text, text) is None


def test_stage_sets_the_field_and_the_pipeline_runs_it() -> None:
    article = NonArticleFlagger()(Article(source="x", raw_text=BLOCK_EN, text=BLOCK_EN))
    assert article.not_article and article.not_article.startswith("block page")
    assert Article.from_dict(article.to_dict()).not_article == article.not_article
    pipeline = default_pipeline()
    assert any(stage.name == "non_article" for stage in pipeline.stages)
    seed = next(SAMPLES.glob("000_*.txt"))
    assert pipeline(Article(source=str(seed), raw_text=seed.read_text())).not_article is None
