"""People, organisations and places with ONE id across languages and scripts.

Putin, Путин and 普京 all become ``person:vladimir-putin``; США, U.S. and 美国 become ``place:us``.
Three sources, cheapest first:

1. a bundled gazetteer (countries and regions in ~50 CLDR languages, cities from geonames, and a
   curated multilingual list of newsmakers) matched in one Aho-Corasick pass over any script;
2. natasha's news NER for Russian-like Cyrillic text (ru, bg, uk);
3. a rule tagger (titles, organisation words, capitalised runs) for Latin-script languages.

Names found by 2 or 3 are resolved through the gazetteer first (allowing inflection: "Путина");
unknown ones get an id from their ASCII transliteration (``person:ilham-aliev``), so the same
spelling agrees across articles and scripts that transliterate alike (Алиев → aliev).

Country adjectives ("Russian", "руския", "syrische") are counted as mentions of the country: for
telling whether two reports tell the same story, "Russian President" places the story in Russia as
surely as "President of Russia".  Chinese one-character abbreviations (俄, 美, 叙) count only when
the country is also named in full in the same article.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import babel
import pycountry
import simplemma
from anyascii import anyascii

from storylines.article import Article, Entity
from storylines.enrich.entities_gazetteer import Gazetteer, Match, NerSpan, gazetteer, is_unspaced_script
from storylines.enrich.entities_natasha import NATASHA_LANGS, natasha_spans
from storylines.enrich.entities_rules import LANGS_WITH_CAPITALISED_NOUNS, at_sentence_start, rule_spans

# Bulgarian postfixed definite articles: proper names rarely carry them.
BULGARIAN_ARTICLES = ("ът", "ят", "та", "то", "те", "ния")
# Entities are looked for in the first this many characters of the body: who and where a report is
# about is named early, and natasha's cost (~25 µs and ~1 kB per character) must stay bounded.
MAX_ENTITY_CHARS = 50_000
# Languages whose names take case endings and that simplemma lemmatises well; Turkish suffixes
# lost entities in benchmarks/bench_entities.py (F1 0.71 → 0.67), so Turkish is left out.
LEMMATIZED_NAMES = frozenset({"ru", "uk", "bg", "pl", "cs", "sk", "sl", "lt", "lv"})
SHORT_NAME = 4  # city names this short are often common words ("Un", "Sur", "Auch", "Kara")
# Punctuation glued to the words of justext's frequency lists ("növü.", "ki,").
_LIST_PUNCTUATION = ".,;:!?()\"'«»"


@dataclass
class _Segment:
    start: int
    end: int
    lang: str | None


@dataclass
class _Found:
    entity_id: str
    name: str
    type: str
    mentions: list[str] = field(default_factory=list)


class EntityExtractor:
    """Pipeline stage "entities": fills ``article.entities`` from title and clean text."""

    name = "entities"

    def __call__(self, article: Article) -> Article:
        text, segments = _text_and_segments(article)
        article.entities = extract_entities(text, segments)
        return article


def extract_entities(text: str, segments: list[_Segment]) -> list[Entity]:
    """Entities of ``text`` whose language runs are ``segments``, in order of first mention."""
    gaz = gazetteer()
    spans = _tagger_spans(text, segments)
    lang_at = _language_at(segments)
    matches = _without_doubtful_cities(_confirmed(gaz.matches(text, lang_at)), spans, text, lang_at)
    covered = {i for m in matches for i in m.span}
    found: dict[str, _Found] = {}
    for match in matches:
        _add(found, gaz, match.entity_id, text[match.start : match.end])
    person_starts = {m.start for m in matches if m.entity_id.startswith("person:")}
    for span in spans:
        if covered.isdisjoint(range(span.start, span.end)) and not _precedes(span, person_starts, text):
            resolved = _resolve(gaz, span, text, lang_at(span.start))
            if resolved:
                _add(found, gaz, resolved, span.text, span.type)
    _merge_surnames(found)
    return [Entity(f.entity_id, f.name, f.type, f.mentions) for f in found.values()]  # type: ignore[arg-type]


def _text_and_segments(article: Article) -> tuple[str, list[_Segment]]:
    body = article.body[:MAX_ENTITY_CHARS]
    title = article.title.strip()
    offset = len(title) + 1 if title else 0
    text = f"{title}\n{body}" if title else body
    segments = [_Segment(0, len(title), article.lang)] if title else []
    if article.languages:
        segments += [
            _Segment(s.start + offset, min(s.end, len(body)) + offset, s.lang)
            for s in article.languages
            if s.start < len(body)
        ]
    else:
        segments.append(_Segment(offset, len(text), article.lang))
    return text, segments


def _language_at(segments: list[_Segment]) -> Callable[[int], str | None]:
    def lang_at(position: int) -> str | None:
        for segment in segments:
            if segment.start <= position < segment.end:
                return segment.lang
        return segments[-1].lang if segments else None

    return lang_at


def _confirmed(matches: list[Match]) -> list[Match]:
    """Drop conditional matches (俄) of entities that are not also named in full."""
    named = {m.entity_id for m in matches if not m.conditional}
    return [m for m in matches if m.entity_id in named]


def _is_city(match: Match) -> bool:
    """Cities and states: the gazetteer entries most often shadowing names ("Reed Hastings")."""
    return match.entity_id.startswith("place:") and len(match.entity_id) > len("place:xx")


def _without_doubtful_cities(
    matches: list[Match], spans: list[NerSpan], text: str, lang_at: Callable[[int], str | None]
) -> list[Match]:
    """Drop city hits inside a longer tagged name, and short ones opening a sentence or in capitals."""
    inside_names = {i for s in spans for i in range(s.start, s.end)}
    kept = []
    for match in matches:
        surface = text[match.start : match.end]
        if _is_city(match) and (
            (match.start in inside_names and not _is_whole_span(match, spans))
            or _is_doubtful_short_name(surface, text, match, lang_at)
        ):
            continue
        kept.append(match)
    return kept


def _is_doubtful_short_name(
    surface: str, text: str, match: Match, lang_at: Callable[[int], str | None]
) -> bool:
    """A short name in capitals, or opening a sentence where its capital says nothing ("Un", "Sur",
    "Kara", "Time" are common words), unless it is spelt with its language's own letters and is no
    common word there ("Bakı")."""
    if not _is_short_word(surface):
        return False
    if surface.isupper():
        return True
    if not at_sentence_start(text, match.start):
        return False
    return not _native_name(surface, lang_at(match.start))


def _native_name(surface: str, lang: str | None) -> bool:
    """A Latin-script name with letters beyond ASCII ("Bakı", "Łódź") is a spelling of few languages,
    so the text's language alone can make it a common word; it is a name there when that language's
    frequency list holds it capitalised only.  Bare ASCII names ("Time", "Buy", "Isla") are words in
    too many languages, and frequency lists too short, to be trusted the same way."""
    if lang in LANGS_WITH_CAPITALISED_NOUNS or surface.isascii():
        return False  # German nouns are capitalised anywhere: the case cannot tell a name ("Hof")
    if not all("LATIN" in unicodedata.name(char, "") for char in surface if char.isalpha()):
        return False
    lowercase_words = _lowercase_frequent_words(lang)
    return lowercase_words is not None and surface.lower() not in lowercase_words


@cache
def _lowercase_frequent_words(lang: str | None) -> frozenset[str] | None:
    """Words that justext's Wikipedia frequency list for ``lang`` holds in lower case (None: no list).

    The list files keep the case of each entry ("Bakı", "Azərbaycan", "bu", "kara"), so a word found
    in lower case is a common word, while a frequent name appears capitalised only.  justext's own
    ``get_stoplist`` lowercases everything, hence the files are read directly.
    """
    stoplists = resources.files("justext") / "stoplists"
    for name in _english_language_names(lang):
        listed = stoplists / f"{name}.txt"
        if listed.is_file():
            words = (line.strip(_LIST_PUNCTUATION) for line in listed.read_text(encoding="utf-8").split())
            return frozenset(word for word in words if word and word == word.lower())
    return None


def _english_language_names(lang: str | None) -> list[str]:
    """Candidate names of the justext list of ``lang`` ("az" → "Azerbaijani", "nb" → "Norwegian_Bokmal")."""
    if not lang:
        return []
    names = []
    record = pycountry.languages.get(alpha_2=lang) or pycountry.languages.get(alpha_3=lang)
    if record:
        names.append(record.name)
    with contextlib.suppress(ValueError, babel.UnknownLocaleError):
        names.append(babel.Locale.parse(lang).english_name or "")
    return [anyascii(name).replace(" ", "_") for name in names if name]


def _is_short_word(surface: str) -> bool:
    """Short in a spaced script; a CJK name of 2-4 characters ("北京市", "서울시") is no common word."""
    return len(surface) <= SHORT_NAME and not is_unspaced_script(surface[0])


def _is_whole_span(match: Match, spans: list[NerSpan]) -> bool:
    return any(s.start == match.start and s.end == match.end for s in spans)


def _tagger_spans(text: str, segments: Iterable[_Segment]) -> list[NerSpan]:
    """Spans from natasha or the rule tagger, the more specific first, without overlaps."""
    spans: list[NerSpan] = []
    for segment in segments:
        chunk = text[segment.start : segment.end]
        if segment.lang in NATASHA_LANGS:
            spans += natasha_spans(chunk, segment.start)
        else:
            spans += rule_spans(chunk, segment.lang, segment.start, title=segment.start == 0)
    kept: list[NerSpan] = []
    taken: set[int] = set()
    for span in spans:
        if taken.isdisjoint(range(span.start, span.end)):
            kept.append(span)
            taken.update(range(span.start, span.end))
    return kept


def _precedes(span: NerSpan, person_starts: set[int], text: str) -> bool:
    """A given name split from a known surname: "(Foreign Minister Sergey) Lavrov"."""
    after = span.end
    while after < len(text) and text[after] in " )]":
        after += 1
    return after in person_starts


def _resolve(gaz: Gazetteer, span: NerSpan, text: str, lang: str | None) -> str | None:
    """A tagger span → gazetteer id, else an id from its transliteration (None to drop it)."""
    known = gaz.lookup(span.text)
    if known:
        return known
    one_word = " " not in span.text.strip()
    if one_word and at_sentence_start(text, span.start):
        return None  # one capitalised word opening a sentence is too often a common word
    if one_word and lang == "bg" and span.text.endswith(BULGARIAN_ARTICLES):
        return None  # natasha (trained on Russian) takes Bulgarian "Времето" for a name
    slug = _slug(_lemmatized(span.text, lang))
    return f"{span.type}:{slug}" if slug else None


def _lemmatized(name: str, lang: str | None) -> str:
    """A name in its dictionary form where the language inflects names, so that "Andrzejem Dudą"
    and "Andrzej Duda", or "Скотта Моррисона" and "Скотт Моррисон", get one id (simplemma)."""
    if lang not in LEMMATIZED_NAMES:
        return name
    return " ".join(simplemma.lemmatize(word, lang=lang) for word in name.split())


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", anyascii(name).lower()).strip("-")


def _add(found: dict[str, _Found], gaz: Gazetteer, entity_id: str, surface: str, kind: str = "") -> None:
    if entity_id not in found:
        known = gaz.name_of(entity_id)
        name, entity_type = known if known else (surface.strip(), kind or entity_id.split(":")[0])
        found[entity_id] = _Found(entity_id, name, entity_type)
    mentions = found[entity_id].mentions
    if surface not in mentions:
        mentions.append(surface)


def _merge_surnames(found: dict[str, _Found]) -> None:
    """Fold an unknown one-word person ("Aliev") into the full name seen in the same article."""
    people = [f for f in found.values() if f.type == "person"]
    by_surname = {f.entity_id.rsplit("-", 1)[-1]: f for f in people if "-" in f.entity_id}
    for single in [f for f in people if "-" not in f.entity_id.split(":", 1)[1]]:
        full = by_surname.get(single.entity_id.split(":", 1)[1])
        if full and full is not single:
            full.mentions += [m for m in single.mentions if m not in full.mentions]
            del found[single.entity_id]
