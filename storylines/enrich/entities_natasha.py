"""Named entities in Russian-like Cyrillic text with natasha's news NER (people, orgs, places).

natasha is trained on Russian news; on Bulgarian and Ukrainian it still finds most names, but tags
some capitalised common words as people (Bulgarian "Времето"), so unresolved one-word spans at a
sentence start are dropped by the caller.  Loaded once, lazily (~1 s); ~10 ms per 1 kB.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from threadpoolctl import threadpool_limits

from storylines.enrich.entities_gazetteer import NerSpan

NATASHA_LANGS = frozenset({"ru", "bg", "uk", "be", "mk"})
NATASHA_TYPES = {"PER": "person", "ORG": "org", "LOC": "place"}


@cache
def _tagger() -> tuple[Any, Any]:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


def natasha_spans(text: str, offset: int = 0) -> list[NerSpan]:
    """NER spans of ``text``, with offsets shifted by ``offset``."""
    from natasha import Doc

    segmenter, tagger = _tagger()
    doc = Doc(text)
    doc.segment(segmenter)
    # Its matrices are tiny: BLAS threads only fight over the cores (10x slower on a busy machine).
    with threadpool_limits(1):
        doc.tag_ner(tagger)
    return [
        NerSpan(offset + span.start, offset + span.stop, span.text, NATASHA_TYPES[span.type])
        for span in doc.spans
        if span.type in NATASHA_TYPES
    ]
