"""Labels of events and storylines, kept as counters updated article by article.

An event's ``stats`` (a JSON-able dict stored with it) count languages, sources, entities and
places, track the first and last day, and keep for each language the title of the article
that fitted the event best when it arrived (cosine to the centroid of the earlier reports).
Merging two events adds their counters, and a storyline's label is the merge of its events'
stats, so no label ever re-reads articles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import reduce
from pathlib import PurePath
from typing import Any
from urllib.parse import urlparse

from storylines.article import Article
from storylines.day import first_and_last
from storylines.day import sort_key as day_sort_key
from storylines.day import span as day_span
from storylines.store.base import EventRecord

TOP = 5


@dataclass
class Label:
    title: str
    title_lang: str | None
    languages: dict[str, int]
    sources: dict[str, int]
    first_day: str | None
    last_day: str | None
    entities: list[str]
    places: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


OUTLET_FIELDS = ("outlet", "publisher", "site", "sitename", "site_name", "source", "domain")


def source_name(article: Article) -> str:
    """The outlet: the URL's (or canonical URL's) host, else an outlet field of the input record,
    else the input file's name without its line number (one file is one source, not one each)."""
    for url in (article.url, article.meta.get("canonical_url")):
        host = urlparse(url).netloc.removeprefix("www.") if isinstance(url, str) else ""
        if host:
            return host
    named = next((article.meta[key] for key in OUTLET_FIELDS if isinstance(article.meta.get(key), str)), "")
    if named.strip():
        return named.strip()[:100]
    name = PurePath(article.source).name or article.source
    return name.rsplit(":", 1)[0] if name.rsplit(":", 1)[-1].isdigit() else name


def article_stats(
    article: Article, day: str | None, closeness: float, published_day: bool = True
) -> dict[str, Any]:
    """Stats of an event holding only this article (``closeness``: its fit to the event;
    ``published_day``: ``day`` is the report's own, not one its text mentions)."""
    lang = article.lang or "und"
    entities: dict[str, list[Any]] = {}
    for entity in article.entities:
        slot = entities.setdefault(entity.id, [entity.name, entity.type, 0])
        slot[2] += 1
    # A page holding two languages (an original and its translation) counts for both.
    langs = dict.fromkeys([lang, *(span.lang for span in article.languages)], 1)
    return {
        "langs": langs,
        "sources": {source_name(article): 1},
        "entities": entities,
        "days": sorted({day}) if day else [],
        "published_days": [day] if day and published_day else [],
        "titles": {lang: [article.title, closeness]} if article.title else {},
        "not_articles": 1 if article.not_article else 0,
    }


def merge_stats(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Stats of the union of two events."""
    entities = {key: list(value) for key, value in a.get("entities", {}).items()}
    for key, (name, kind, count) in b.get("entities", {}).items():
        slot = entities.setdefault(key, [name, kind, 0])
        slot[2] += count
    titles = dict(a.get("titles", {}))
    for lang, (title, closeness) in b.get("titles", {}).items():
        if lang not in titles or closeness > titles[lang][1]:
            titles[lang] = [title, closeness]
    return {
        "langs": dict(Counter(a.get("langs", {})) + Counter(b.get("langs", {}))),
        "sources": dict(Counter(a.get("sources", {})) + Counter(b.get("sources", {}))),
        "entities": entities,
        "days": day_span(a.get("days", []) + b.get("days", [])),
        "published_days": day_span(published_days(a) + published_days(b)),
        "titles": titles,
        "not_articles": a.get("not_articles", 0) + b.get("not_articles", 0),
    }


def published_days(stats: dict[str, Any]) -> list[str]:
    """The span of the event's publication days; stats written before they were told apart
    from mentioned days count every day as one."""
    return list(stats.get("published_days", stats.get("days", [])))


def label(stats: dict[str, Any], preferred_lang: str = "en") -> Label:
    """Title in the preferred language when an article has one, else in the most common language."""
    languages = Counter(stats.get("langs", {}))
    titles = stats.get("titles", {})
    ranked = [preferred_lang] + [lang for lang, _ in languages.most_common()] + sorted(titles)
    title_lang = next((lang for lang in ranked if lang in titles), None)
    entities = sorted(stats.get("entities", {}).values(), key=lambda e: (-e[2], e[0]))
    first_day, last_day = first_and_last(stats.get("days", []))
    return Label(
        title=titles[title_lang][0] if title_lang else "",
        title_lang=title_lang,
        languages=dict(languages.most_common()),
        sources=dict(Counter(stats.get("sources", {})).most_common()),
        first_day=first_day,
        last_day=last_day,
        entities=[name for name, kind, _ in entities if kind != "place"][:TOP],
        places=[name for name, kind, _ in entities if kind == "place"][:TOP],
    )


def event_sort_key(event: EventRecord) -> tuple[tuple[int, int, int, int], int]:
    """Full dates in order, year-less ones after them, undated last; ties by id."""
    return day_sort_key(first_and_last(event.stats.get("days", []))[0]), event.id


def storyline_stats(events: Iterable[EventRecord]) -> dict[str, Any]:
    """A storyline's stats: its events' merged in one fixed order, so every view labels it alike."""
    return reduce(merge_stats, (event.stats for event in sorted(events, key=event_sort_key)), {})
