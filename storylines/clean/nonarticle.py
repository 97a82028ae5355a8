"""Pages that are not news reports: anti-bot blocks, cookie walls, empty shells.

Crawled news sets are full of them (several SemEval "articles" are "We are sorry, but we recorded
a huge amount of connections from the IP address…").  Stored as stories they lead the front page
and the search results, so ingest flags them, with the reason, and the views leave them out.
The test is deliberately narrow: a phrase that only such pages use, on a page too short to be a
report that merely mentions it (a real article may end with "protected by reCAPTCHA").
"""

from __future__ import annotations

import regex

from storylines.article import Article

MAX_SHELL_WORDS = 25  # fewer words than this, after cleaning, is no report at all
MAX_BLOCK_PAGE_WORDS = 200  # a block or consent page is short; longer pages are reports
MIN_COOKIE_SHARE = 0.5  # a cookie wall: at least half of its sentences are about cookies

_WORD = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]{1,2}|[\p{L}\p{N}]+")  # unspaced: 2 chars
_SENTENCE = regex.compile(r"[^.!?。！？\n]+")
_BLOCK = regex.compile(
    r"not a robot|nie jestem robotem|je ne suis pas un robot|kein roboter|no soy un robot"
    r"|non sono un robot|я не робот|unusual traffic|verify (?:that )?you are (?:a )?human"
    r"|checking your browser|access (?:to this page has been )?denied|request (?:was )?blocked"
    r"|your ip address|twój adres ip|ihre ip-adresse|votre adresse ip|enable javascript and cookies"
    r"|amount of connections from the ip|ilość połączeń",
    regex.IGNORECASE,
)
_COOKIE = regex.compile(r"cookie|consent|zustimm|einwillig|datenschutz|ciasteczk|rgpd|gdpr", regex.IGNORECASE)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def non_article_reason(title: str, raw_text: str, clean_text: str) -> str | None:
    """Why this page is not a news report ("block page", "cookie wall", "empty page"), or None."""
    words = _words(raw_text)
    if words <= MAX_BLOCK_PAGE_WORDS and _BLOCK.search(raw_text):
        return "block page: the site refused the crawler"
    sentences = [s for s in _SENTENCE.findall(raw_text) if _WORD.search(s)]
    about_cookies = sum(1 for s in sentences if _COOKIE.search(s))
    if words <= MAX_BLOCK_PAGE_WORDS and sentences and about_cookies / len(sentences) >= MIN_COOKIE_SHARE:
        return "cookie wall: the page asks for consent instead of giving the report"
    if _words(f"{title} {clean_text}") < MAX_SHELL_WORDS:
        return "empty page: too few words to be a report"
    return None


class NonArticleFlagger:
    """Pipeline stage: sets ``article.not_article`` to the reason, or leaves it None."""

    name = "non_article"

    def __call__(self, article: Article) -> Article:
        article.not_article = non_article_reason(article.title, article.raw_text, article.body)
        return article
