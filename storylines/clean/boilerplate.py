"""Boilerplate removal on plain text: sidebars, headline lists, comment and blog widgets.

The input was already reduced from HTML by trafilatura, so the markup signals
jusText relies on (link density, tags) are gone.  Run on such text (lines wrapped
in <p>), jusText kept nearly all the seeds' sidebars and widgets (Bulgarian
headlines are as dense in stopwords as prose), dropped a body paragraph of the
TASS seed and cost more than our whole stage (benchmarks/bench_clean.py).  So
this module classifies lines itself, from their shape and position, and uses
jusText only for its per-language stoplists (stopword density tells prose from
a list of names or tags).

A line is *body* when it ends a sentence and is not tiny, or when it is long
prose.  Everything after the last body line is boilerplate (trailing headline
lists, comment widgets); inside and before the body, punctuation-only lines,
menus (runs of one- to three-word lines) and runs of headline-like lines go.

Text that trafilatura extracted from a page is trusted more: its subheads, bulleted lists and
credit lines are article content that the rules above took for headline lists (on synthetic
pages, benchmarks/bench_extraction.py, they cost a quarter of the body).  There only
punctuation-only lines, menus and a trailing run of headline-like lines go.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import justext
import pycountry
import regex

from storylines.article import Article
from storylines.enrich.language import detect_language


@dataclass(frozen=True)
class LanguageSettings:
    """Per-language thresholds: Chinese, Japanese and Thai pack a word into a character or two."""

    stopwords: frozenset[str] = frozenset()  # empty: stopword density is not checked
    min_sentence_chars: int = 30  # a sentence-final line shorter than this reads as a headline
    min_prose_chars: int = 200  # a line this long is body even without final punctuation
    min_stopword_density: float = 0.15
    max_menu_chars: int = 30  # menu and widget items: "НАЙ-ЧЕТЕНИ", "Post a Comment", "首页"


# Scripts written without spaces: no stoplist, and far fewer characters per sentence.
_UNSPACED = LanguageSettings(min_sentence_chars=12, min_prose_chars=80, max_menu_chars=8)
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th"})

MENU_MAX_WORDS = 3
MIN_MENU_RUN = 3
MIN_HEADLINE_RUN = 3  # one or two headline-like lines inside the body are subheads
MAX_DANGLING_CHARS = 40

_CLOSERS = "\"'“”‘’«»‹›)]】」』 \u00a0"
_SENTENCE_END = ".!?。！？।؟۔"  # Latin, CJK, Devanagari danda, Arabic question mark, Urdu full stop
_BULLET = regex.compile(r"^\s*(?:[-–—•*·▪►]|\d{1,2}[.)])\s")
_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
# The last clause of a paragraph: after the last sentence end or paragraph-sized gap.
_LAST_CLAUSE = regex.compile(rf"(?:[{_SENTENCE_END}]|\s{{2,}})([^{_SENTENCE_END}]*?[:：])\s*$")


@cache
def settings_for(lang: str | None) -> LanguageSettings:
    """jusText's stoplist for the language, found by its English name (pycountry), if it has one.

    ``lang`` is an ISO 639-1 code or a BCP 47 tag such as "zh-Hans" or "en-US".
    """
    code = (lang or "").split("-")[0].split("_")[0].lower()
    if code in UNSPACED_LANGUAGES:
        return _UNSPACED
    language = pycountry.languages.get(alpha_2=code) if len(code) == 2 else None
    if language is None or language.name not in justext.get_stoplists():
        return LanguageSettings()
    return LanguageSettings(stopwords=frozenset(w.lower() for w in justext.get_stoplist(language.name)))


def _ends_sentence(line: str) -> bool:
    """Ends in sentence punctuation; a trailing ellipsis marks a cut teaser, not a sentence."""
    end = line.rstrip(_CLOSERS)
    return bool(end) and end[-1] in _SENTENCE_END and not end.endswith(("...", "…"))


def _stopword_density(line: str, stopwords: frozenset[str]) -> float:
    words = line.lower().split()
    return sum(word in stopwords for word in words) / len(words)


def _is_body(line: str, settings: LanguageSettings) -> bool:
    if _BULLET.match(line) and not _ends_sentence(line):
        return False
    if len(line) >= settings.min_prose_chars:
        return not settings.stopwords or (
            _stopword_density(line, settings.stopwords) >= settings.min_stopword_density
        )
    return len(line) >= settings.min_sentence_chars and _ends_sentence(line)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(start, end) of each run of True values."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _boilerplate_flags(lines: list[str], settings: LanguageSettings, extracted: bool = False) -> list[bool]:
    """True for each line judged boilerplate; ``extracted``: trafilatura's output, trusted more."""
    body = [_is_body(line, settings) for line in lines]
    if not any(body):
        return [not _WORDLIKE.search(line) for line in lines]
    last_body = max(i for i, is_body in enumerate(body) if is_body)
    drop_tail = not extracted or len(lines) - 1 - last_body >= MIN_HEADLINE_RUN
    flags = [(drop_tail and i > last_body) or not _WORDLIKE.search(line) for i, line in enumerate(lines)]
    menu_items = [
        not is_body and len(line) <= settings.max_menu_chars and len(line.split()) <= MENU_MAX_WORDS
        for line, is_body in zip(lines, body, strict=True)
    ]
    # Separators ("|") belong to the menu around them, so a menu run may span them.
    for start, end in _runs([m or f for m, f in zip(menu_items, flags, strict=True)]):
        if sum(menu_items[start:end]) >= MIN_MENU_RUN:
            flags[start:end] = [True] * (end - start)
    if extracted:
        return flags
    first_body = body.index(True)
    for start, end in _runs([not b for b in body]):
        if start > first_body and end - start >= MIN_HEADLINE_RUN:
            flags[start:end] = [True] * (end - start)
    return flags


def _split_dangling_tail(line: str) -> tuple[str, str | None]:
    """Cut a short final clause ending in a colon: the lead-in of a list that is not there."""
    match = _LAST_CLAUSE.search(line)
    if not match or len(match.group(1).strip()) > MAX_DANGLING_CHARS:
        return line, None
    return line[: match.start(1)].rstrip(), match.group(1).strip()


def remove_boilerplate(
    text: str, lang: str | None = None, extracted: bool = False
) -> tuple[list[str], list[str]]:
    """Split plain text into (kept paragraphs, removed lines), both in document order.

    ``extracted``: the text is trafilatura's extraction from a page, already mostly clean."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    flags = _boilerplate_flags(lines, settings_for(lang), extracted)
    kept: list[str] = []
    removed: list[str] = []
    last_kept = max((i for i, flag in enumerate(flags) if not flag), default=-1)
    for i, (line, flag) in enumerate(zip(lines, flags, strict=True)):
        if flag:
            removed.append(line)
            continue
        if i == last_kept:
            line, tail = _split_dangling_tail(line)
            removed.extend([tail] if tail else [])
        kept.append(line)
    return kept, removed


class BoilerplateRemover:
    """Pipeline stage: fills ``text`` with the clean body and ``removed`` with what went.

    Runs before language detection, so it detects the language of the raw text
    itself unless the input gave one (``lang_hint``).
    """

    name = "clean"

    def __call__(self, article: Article) -> Article:
        lang = article.lang_hint or detect_language(article.raw_text)
        extracted = article.meta.get("extractor") == "trafilatura"
        kept, article.removed = remove_boilerplate(article.raw_text, lang, extracted)
        article.text = "\n".join(kept)
        return article
