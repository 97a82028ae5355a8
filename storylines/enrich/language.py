"""Language identification: the primary language and per-language character spans.

Text is first cut into script runs (Latin, Cyrillic, CJK, …) with one regular
expression; lingua then only has to choose among the languages written in that
script, on a sample of each run.  Both steps matter for speed: lingua's cost
grows with the text length and with the number of candidate languages
(measured: ~6 ms for a 2 kB text against 40 languages, ~0.3 ms for a
250-character sample against the 16 Latin-script ones).  A page that holds an English
machine translation followed by the Chinese original thus gets two spans.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import regex
from lingua import IsoCode639_1, LanguageDetectorBuilder
from lingua import LanguageDetector as LinguaDetector

from storylines.article import Article, LanguageSpan

# Languages lingua chooses among, per script: the common news languages.  Scripts
# used by a single language need no model at all.
# fmt: off
SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Latin": (
        "en", "de", "es", "fr", "it", "pt", "nl", "pl", "tr", "ro", "hu", "cs", "sv", "da", "fi", "id",
        "vi", "sw", "ca", "hr", "sk", "sl", "lt", "lv", "et", "sq", "az", "af", "tl", "nb",
    ),
    "Cyrillic": ("ru", "uk", "bg", "sr", "mk", "be", "kk"),
    "Arabic": ("ar", "fa", "ur"),
    "Devanagari": ("hi", "mr"),
    "CJK": ("zh",),  # "ja" when the run holds kana, see _cjk_language
    "Hangul": ("ko",),
    "Greek": ("el",),
    "Hebrew": ("he",),
    "Thai": ("th",),
    "Georgian": ("ka",),
    "Armenian": ("hy",),
    "Bengali": ("bn",),
    "Tamil": ("ta",),
}
# fmt: on
_SCRIPT_CHARS = {script: rf"\p{{{script}}}" for script in SCRIPT_LANGUAGES}
_SCRIPT_CHARS["CJK"] = r"\p{Han}\p{Hiragana}\p{Katakana}"
# A run: letters of one script, possibly interrupted by digits, spaces and punctuation.
_SCRIPT_RUN = regex.compile(
    "|".join(
        rf"(?P<{script}>[{chars}]++(?:[^\p{{L}}]++[{chars}]++)*+)" for script, chars in _SCRIPT_CHARS.items()
    )
)
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
# Runs shorter than this (names, acronyms) belong to the segment around them.
MIN_SEGMENT_CHARS = {"CJK": 6, "Hangul": 6}
DEFAULT_MIN_SEGMENT_CHARS = 30
# lingua reads at most this many characters of a segment: enough to be sure, cheap to score.
SAMPLE_CHARS = 250
# Below this gap between the best two languages a guess is a coin toss (e.g. "ok"): None.
MIN_RELATIVE_DISTANCE = 0.05


@dataclass
class _Run:
    script: str
    start: int
    end: int


@cache
def _lingua_for(script: str) -> LinguaDetector:
    """One lingua detector per script, built on first use (models load lazily).

    Low-accuracy mode scores trigrams only, which is all lingua uses for texts of
    120+ characters anyway.  High-accuracy mode would help texts shorter than
    that (measured on SemEval 80-character prefixes: 98.5% vs 95.8%), but its
    first short text loads the 1- to 5-gram models: 4 s of CPU and +420 MB for
    the Latin-script set alone, against 0.2 s and 47 MB here.
    """
    codes = [getattr(IsoCode639_1, code.upper()) for code in SCRIPT_LANGUAGES[script]]
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode()
    return builder.with_minimum_relative_distance(MIN_RELATIVE_DISTANCE).build()


def _sample(text: str) -> str:
    if len(text) <= SAMPLE_CHARS:
        return text
    cut = text.rfind(" ", 0, SAMPLE_CHARS)
    return text[: cut if cut > SAMPLE_CHARS // 2 else SAMPLE_CHARS]


def _cjk_language(text: str) -> str:
    """Japanese mixes kana into Han text; Chinese has none."""
    return "ja" if len(_KANA.findall(text)) * 10 >= len(text) else "zh"


def _identify(script: str, text: str) -> str | None:
    if script == "CJK":
        return _cjk_language(text)
    candidates = SCRIPT_LANGUAGES[script]
    if len(candidates) == 1:
        return candidates[0]
    found = _lingua_for(script).detect_language_of(_sample(text))
    return found.iso_code_639_1.name.lower() if found else None


def _largest(sizes: Iterable[tuple[str, int]]) -> str:
    """The key with the largest total size."""
    totals: Counter[str] = Counter()
    for key, size in sizes:
        totals[key] += size
    return totals.most_common(1)[0][0]


def _too_short(run: _Run) -> bool:
    return run.end - run.start < MIN_SEGMENT_CHARS.get(run.script, DEFAULT_MIN_SEGMENT_CHARS)


def _script_runs(text: str) -> list[_Run]:
    """Runs long enough to judge, same-script neighbours merged; short ones are left in the gaps."""
    runs = [_Run(match.lastgroup or "", match.start(), match.end()) for match in _SCRIPT_RUN.finditer(text)]
    anchors = [run for run in runs if not _too_short(run)]
    if not anchors and runs:  # a short text: judge it whole, by its main script
        main_script = _largest((run.script, run.end - run.start) for run in runs)
        anchors = [_Run(main_script, runs[0].start, runs[-1].end)]
    merged: list[_Run] = []
    for run in anchors:
        if merged and merged[-1].script == run.script:
            merged[-1].end = run.end
        else:
            merged.append(run)
    return merged


def language_spans(text: str) -> list[LanguageSpan]:
    """Contiguous spans covering ``text``, one per run of a single language.

    Text between runs (spaces, digits, a short foreign name) joins the span before it.
    """
    spans: list[LanguageSpan] = []
    for run in _script_runs(text):
        lang = _identify(run.script, text[run.start : run.end])
        if spans and lang in (None, spans[-1].lang):
            spans[-1].end = run.end
        elif lang is not None:
            spans.append(LanguageSpan(lang, run.start, run.end))
    if spans:
        spans[0].start = 0
        for before, after in zip(spans, spans[1:], strict=False):
            before.end = after.start
        spans[-1].end = len(text)
    return spans


def primary_language(spans: list[LanguageSpan]) -> str | None:
    """The language holding the most characters."""
    return _largest((span.lang, span.end - span.start) for span in spans) if spans else None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the main language of ``text``; None when there is nothing to judge."""
    return primary_language(language_spans(text))


class LanguageDetector:
    """Pipeline stage: fills ``lang`` and ``languages`` from the clean text.

    Spans index ``article.body`` (the clean text once the clean stage ran).  When
    nothing can be detected the input's ``lang_hint`` is kept as the language.
    """

    name = "language"

    def __call__(self, article: Article) -> Article:
        article.languages = language_spans(article.body)
        article.lang = primary_language(article.languages) or article.lang_hint
        return article
