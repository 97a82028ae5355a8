"""Rule tagger for names the gazetteer does not know, in Latin-script languages.

No offline statistical NER covers these languages together, so names are found the way
pre-statistical taggers did: a title before capitalised words ("President Ilham Aliev", "Minister
Jens Spahn") marks a person; capitalised words around an organisation word ("Ministry of Health",
"Labour Party", "Acme Inc") mark an organisation; and, where only names are capitalised (not German),
two or three capitalised words inside a sentence are taken as a person's name.
"""

from __future__ import annotations

import regex

from storylines.enrich.entities_gazetteer import NerSpan

# A capitalised word; apostrophes only inside names (O'Neil), not before Turkish suffixes (Kahveci'nin).
_NAME = r"\p{Lu}[\p{L}]*\p{Ll}(?:[\-'’]\p{Lu}\p{L}*)*"
_TITLES = (
    "President|Vice President|Prime Minister|Minister|Chancellor|Secretary|Senator|Governor|Mayor|"
    "King|Queen|Prince|Princess|Pope|Gen\\.|Colonel|Ambassador|spokesman|spokeswoman|"
    "spokesperson|Mr\\.?|Mrs\\.?|Ms\\.?|Dr\\.?|Judge|Justice|Sheikh|reporter|correspondent|Author:|"
    "CEO|Congressman|Congresswoman|Rep\\.|Sen\\.|Präsident(?:in)?|Kanzler(?:in)?|Bundeskanzler(?:in)?|"
    "Ministerpräsident(?:in)?|Minister(?:in)?|Herr|Frau|Bürgermeister(?:in)?|Sprecher(?:in)?|"
    "président(?:e)?|ministre|porte-parole|M\\.|Mme|presidente|ministro|ministra|señor|señora|"
    "alcalde|alcaldesa|portavoz|prezydent|premier|minister|rzecznik|pan|pani|Cumhurbaşkanı|"
    "Başbakan|Bakanı|Bakan|Sayın|presidente|sindaco"
)
_GAP = r"[ \t]+"  # names never run across lines
_PERSON_AFTER_TITLE = regex.compile(rf"(?<!\p{{L}})(?:{_TITLES}){_GAP}((?:{_NAME}{_GAP}){{0,2}}{_NAME})")
_ORG_WORDS = (
    "Ministry|Department|Agency|Party|Inc\\.?|Ltd\\.?|Corp\\.?|Company|Bank|University|Council|"
    "Committee|Commission|Association|Institute|Organi[sz]ation|Group|Army|Court|Parliament|"
    "Office|Service|Times|Post|News|Airlines|Ministerium|Partei|Universität|Institut|AG|GmbH|"
    "Gericht|Ministère|Parti|Université|Banque|Conseil|Ministerio|Partido|Universidad|Banco|"
    "Consejo|Ministerstwo|Partia|Uniwersytet|Bakanlığı|Partisi|Üniversitesi|Ministero|Partito"
)
_ORG_TAIL = regex.compile(rf"(?<!\p{{L}})((?:{_NAME}{_GAP}){{1,3}}(?:{_ORG_WORDS}))(?!\p{{L}})")
_CONNECTOR = r"(?:of|for|on|de|del|de la|des|du|für|der|des|dla|di|della)"
_ORG_HEAD = regex.compile(
    rf"(?<!\p{{L}})((?:{_ORG_WORDS})(?:{_GAP}{_CONNECTOR})?(?:{_GAP}(?:the{_GAP})?{_NAME}){{1,3}})"
)
_CAPITALISED_RUN = regex.compile(rf"(?<!\p{{L}})({_NAME}(?:{_GAP}{_NAME}){{1,2}})(?!\p{{L}})")
LANGS_WITH_CAPITALISED_NOUNS = frozenset({"de", "lb"})
SENTENCE_END = '.!?:;\n"“”«»„|–—-•('


def at_sentence_start(text: str, start: int) -> bool:
    """Where capitalisation says nothing about being a name."""
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in SENTENCE_END


def rule_spans(text: str, lang: str | None, offset: int = 0, title: bool = False) -> list[NerSpan]:
    """Person and organisation candidates in ``text`` (offsets shifted by ``offset``).

    Capitalised runs are not used in titles, which are often written in Title Case.
    """
    spans = [_span(m, 1, "person", offset) for m in _PERSON_AFTER_TITLE.finditer(text)]
    spans += [_span(m, 1, "org", offset) for m in _ORG_TAIL.finditer(text)]
    spans += [_span(m, 1, "org", offset) for m in _ORG_HEAD.finditer(text)]
    if lang not in LANGS_WITH_CAPITALISED_NOUNS and not title:
        spans += [
            _span(m, 1, "person", offset)
            for m in _CAPITALISED_RUN.finditer(text)
            if not at_sentence_start(text, m.start(1))
        ]
    return spans


def _span(match: regex.Match, group: int, kind: str, offset: int) -> NerSpan:
    return NerSpan(offset + match.start(group), offset + match.end(group), match.group(group), kind)
