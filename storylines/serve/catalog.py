"""The read model behind the API: storyline summaries held in memory, refreshed from the store.

Listing and filtering storylines must stay fast at 100k articles, and the store only offers
storylines one by one.  So the catalog keeps one summary per storyline, built from its events'
label counters (never by re-reading articles), and rebuilds only the storylines whose size
changed when the store moves on — whether this server ingested or another process did.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from storylines.serve.models import (
    ArticleDetail,
    ArticleSummary,
    EntityOut,
    EventOut,
    StorylineDetail,
    StorylineSummary,
    VolumePoint,
)

if TYPE_CHECKING:
    from storylines.store import EventRecord, Store, StoreCounts, StoredArticle

TOP_ENTITIES = 8
ALL = 1 << 62  # "no limit" for the store's list calls


@dataclass
class Filters:
    """Storyline filters; text filters match an entity's id or name, case-insensitively."""

    lang: str | None = None
    entity: str | None = None
    place: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass
class _Entry:
    """One storyline as the catalog holds it."""

    size: int
    summary: StorylineSummary
    events: list[EventOut]
    entities: list[EntityOut]
    entity_keys: frozenset[str]
    place_keys: frozenset[str]


def _entities(stats: dict[str, Any], places: bool) -> list[EntityOut]:
    rows = [(key, name, kind, count) for key, (name, kind, count) in stats.get("entities", {}).items()]
    rows = [row for row in rows if (row[2] == "place") == places]
    rows.sort(key=lambda row: (-row[3], row[1]))
    return [EntityOut(id=key, name=name, type=kind, count=count) for key, name, kind, count in rows]


def _keys(entities: list[EntityOut]) -> frozenset[str]:
    return frozenset(key.casefold() for entity in entities for key in (entity.id, entity.name))


def _full_days(days: list[str]) -> list[str]:
    return sorted(day for day in days if not day.startswith("--"))


def _event_out(event: EventRecord) -> EventOut:
    from storylines.cluster.labels import label

    event_label = label(event.stats)
    return EventOut(
        id=event.id,
        title=event_label.title,
        start=event_label.first_day,
        end=event_label.last_day,
        languages=list(event_label.languages),
        article_count=event.size,
    )


def _volume(events: list[EventRecord]) -> list[VolumePoint]:
    """Articles per day, each event's articles counted on its first full day (events span days)."""
    per_day: Counter[str] = Counter()
    for event in events:
        days = _full_days(event.stats.get("days", []))
        if days:
            per_day[days[0]] += event.size
    return [VolumePoint(day=day, count=count) for day, count in sorted(per_day.items())]


def build_entry(storyline_id: int, size: int, events: list[EventRecord]) -> _Entry:
    """Summary of one storyline from the label counters of its live events."""
    from storylines.cluster.labels import label, storyline_stats

    stats = storyline_stats(events)
    story_label = label(stats)
    entities, places = _entities(stats, places=False), _entities(stats, places=True)
    event_outs = sorted((_event_out(event) for event in events), key=lambda e: (e.start or "~", e.id))
    summary = StorylineSummary(
        id=storyline_id,
        title=story_label.title,
        languages=list(story_label.languages),
        article_count=size,
        source_count=len(story_label.sources),
        event_count=len(events),
        start=story_label.first_day,
        end=story_label.last_day,
        top_entities=entities[:TOP_ENTITIES],
        places=places[:TOP_ENTITIES],
        volume=_volume(events),
    )
    return _Entry(size, summary, event_outs, entities, _keys(entities), _keys(places))


def storyline_summary(store: Store, storyline_id: int) -> StorylineSummary | None:
    """One storyline's summary straight from the store, for callers without a catalog (the CLI)."""
    record = store.get_storyline(storyline_id)
    if record is None:
        return None
    return build_entry(record.id, record.size, store.events_of_storyline(record.id)).summary


def _in_time(summary: StorylineSummary, since: str | None, until: str | None) -> bool:
    """Overlap of [start, end] with [since, until]; undated storylines never match a time filter."""
    if since and not (summary.end and summary.end >= since):
        return False
    return not (until and not (summary.start and summary.start <= until))


class _Indexes:
    """Storyline ids by language, entity and place, so a filtered page never scans every storyline."""

    def __init__(self, entries: dict[int, _Entry], order: list[int]):
        self.order = order
        self.rank = {storyline_id: rank for rank, storyline_id in enumerate(order)}
        self.by_lang: dict[str, set[int]] = {}
        self.by_entity: dict[str, set[int]] = {}
        self.by_place: dict[str, set[int]] = {}
        for storyline_id, entry in entries.items():
            for lang in entry.summary.languages:
                self.by_lang.setdefault(lang, set()).add(storyline_id)
            for key in entry.entity_keys | entry.place_keys:
                self.by_entity.setdefault(key, set()).add(storyline_id)
            for key in entry.place_keys:
                self.by_place.setdefault(key, set()).add(storyline_id)

    def select(self, filters: Filters) -> list[int]:
        """Matching ids by language, entity and place, largest storyline first."""
        wanted = [
            index.get(value.casefold() if index is not self.by_lang else value, set())
            for index, value in (
                (self.by_lang, filters.lang),
                (self.by_entity, filters.entity),
                (self.by_place, filters.place),
            )
            if value
        ]
        if not wanted:
            return self.order
        return sorted(set.intersection(*wanted), key=self.rank.__getitem__)


def article_summary(stored: StoredArticle) -> ArticleSummary:
    article = stored.article
    return ArticleSummary(
        id=article.id,
        title=article.title,
        source=article.source,
        url=article.url,
        lang=article.lang,
        published=article.published,
        day=stored.day,
        event_id=stored.event_id,
        storyline_id=stored.storyline_id,
        duplicate_of=stored.duplicate_of,
    )


def article_detail(stored: StoredArticle) -> ArticleDetail:
    article = stored.article
    return ArticleDetail(
        **article_summary(stored).model_dump(),
        raw_text=article.raw_text,
        text=article.text,
        removed=article.removed,
        languages=[vars(span) for span in article.languages],
        published_source=article.published_source,
        event_dates=[vars(date) for date in article.event_dates],
        entities=[
            EntityOut(id=e.id, name=e.name, type=e.type, count=len(e.mentions) or 1) for e in article.entities
        ],
    )


class Catalog:
    """Storyline summaries of one store, checked for changes at most every ``ttl`` seconds."""

    def __init__(self, store: Store, ttl: float = 1.0):
        self.store = store
        self.ttl = ttl
        self._snapshot: tuple[dict[int, _Entry], _Indexes] = ({}, _Indexes({}, []))  # swapped whole
        self._version = ""
        self.counts: StoreCounts | None = None  # as of the last refresh
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.refresh(force=True)

    @property
    def version(self) -> str:
        self.refresh()
        return self._version

    def refresh(self, force: bool = False) -> None:
        """Rebuild the storylines whose size changed; ``force`` looks now, not after ``ttl``."""
        if not force and time.monotonic() - self._checked_at < self.ttl:
            return
        with self._lock:
            counts = self.store.counts()
            version = f"{self.store.max_rowid()}.{counts.articles}.{counts.events}.{counts.storylines}"
            self._checked_at = time.monotonic()
            self.counts = counts
            if version == self._version:
                return
            records = self.store.list_storylines(limit=ALL)
            entries_before = self._snapshot[0]
            entries = {
                record.id: entries_before[record.id]
                if record.id in entries_before and entries_before[record.id].size == record.size
                else build_entry(record.id, record.size, self.store.events_of_storyline(record.id))
                for record in records
            }
            self._snapshot = (entries, _Indexes(entries, [r.id for r in records]))  # largest first
            self._version = version

    def storylines(self, filters: Filters, limit: int, offset: int) -> tuple[list[StorylineSummary], int]:
        """One page of matching storylines (largest first) and how many match in all."""
        self.refresh()
        entries, indexes = self._snapshot
        ids = indexes.select(filters)
        if filters.since or filters.until:
            ids = [i for i in ids if _in_time(entries[i].summary, filters.since, filters.until)]
        return [entries[i].summary for i in ids[offset : offset + limit]], len(ids)

    def summary(self, storyline_id: int) -> StorylineSummary | None:
        self.refresh()
        entry = self._snapshot[0].get(storyline_id)
        return entry.summary if entry else None

    def storyline(self, storyline_id: int) -> StorylineDetail | None:
        self.refresh()
        entry = self._snapshot[0].get(storyline_id)
        if entry is None:
            return None
        return StorylineDetail(**entry.summary.model_dump(), events=entry.events, entities=entry.entities)

    def storyline_articles(
        self, storyline_id: int, lang: str | None, limit: int, offset: int
    ) -> tuple[list[ArticleSummary], int] | None:
        """Articles of a storyline in event-timeline order, optionally of one language."""
        entry = self._snapshot[0].get(storyline_id)
        if entry is None:
            return None
        articles = [
            article_summary(stored)
            for event in entry.events
            for stored in self.store.articles_of_event(event.id)
            if lang is None or stored.article.lang == lang
        ]
        return articles[offset : offset + limit], len(articles)

    def article(self, article_id: str) -> ArticleDetail | None:
        stored = self.store.get_article(article_id)
        return article_detail(stored) if stored else None
