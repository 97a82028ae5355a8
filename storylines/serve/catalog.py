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
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from storylines.serve.models import (
    ArticleDetail,
    ArticleSummary,
    EntityOut,
    EventOut,
    Page,
    StorylineDetail,
    StorylineSummary,
    VolumePoint,
)

if TYPE_CHECKING:
    from storylines.store import EventRecord, Store, StoreCounts, StoredArticle

TOP_ENTITIES = 8
ALL = 1 << 62  # "no limit" for the store's list calls
CACHED_RESPONSES = 4096  # JSON bodies kept per snapshot: a few MB at most


@dataclass(frozen=True)
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
    """Storyline ids by language, entity and place, each kept in list order (largest first), so
    a filtered page costs the size of its smallest matching group, never a scan or a sort."""

    def __init__(self, entries: dict[int, _Entry], order: list[int]):
        self.order = order
        by_lang: dict[str, list[int]] = {}
        by_entity: dict[str, list[int]] = {}
        by_place: dict[str, list[int]] = {}
        for storyline_id in order:
            entry = entries[storyline_id]
            for lang in entry.summary.languages:
                by_lang.setdefault(lang, []).append(storyline_id)
            for key in entry.entity_keys | entry.place_keys:
                by_entity.setdefault(key, []).append(storyline_id)
            for key in entry.place_keys:
                by_place.setdefault(key, []).append(storyline_id)
        self.by_lang, self.by_entity, self.by_place = by_lang, by_entity, by_place
        self._members: dict[tuple[str, str], frozenset[int]] = {}  # built on first use

    def select(self, filters: Filters) -> list[int]:
        """Matching ids by language, entity and place, largest storyline first."""
        wanted = [
            (name, key, index.get(key, []))
            for name, index, key in (
                ("lang", self.by_lang, filters.lang),
                ("entity", self.by_entity, filters.entity and filters.entity.casefold()),
                ("place", self.by_place, filters.place and filters.place.casefold()),
            )
            if key
        ]
        if not wanted:
            return self.order
        (_, _, smallest), *others = sorted(wanted, key=lambda found: len(found[2]))
        members = [self._member_set(name, key, ids) for name, key, ids in others]
        return [i for i in smallest if all(i in ids for ids in members)]

    def _member_set(self, name: str, key: str, ids: list[int]) -> frozenset[int]:
        found = self._members.get((name, key))
        if found is None:
            found = self._members[(name, key)] = frozenset(ids)
        return found


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


class _Snapshot:
    """One immutable view of the catalog, with the JSON bodies rendered from it: a cached body
    can never mix two versions, and it is dropped with its snapshot when the store moves on."""

    def __init__(self, entries: dict[int, _Entry], indexes: _Indexes, version: str):
        self.entries, self.indexes, self.version = entries, indexes, version
        self.page_json = lru_cache(maxsize=CACHED_RESPONSES)(self._page_json)
        self.storyline_json = lru_cache(maxsize=CACHED_RESPONSES)(self._storyline_json)

    def page(self, filters: Filters, limit: int, offset: int) -> tuple[list[StorylineSummary], int]:
        ids = self.indexes.select(filters)
        if filters.since or filters.until:
            ids = [i for i in ids if _in_time(self.entries[i].summary, filters.since, filters.until)]
        return [self.entries[i].summary for i in ids[offset : offset + limit]], len(ids)

    def detail(self, storyline_id: int) -> StorylineDetail | None:
        entry = self.entries.get(storyline_id)
        if entry is None:
            return None
        return StorylineDetail(**entry.summary.model_dump(), events=entry.events, entities=entry.entities)

    def _page_json(self, filters: Filters, limit: int, offset: int) -> bytes:
        items, total = self.page(filters, limit, offset)
        page = Page[StorylineSummary](items=items, total=total, limit=limit, offset=offset)
        return page.model_dump_json().encode()

    def _storyline_json(self, storyline_id: int) -> bytes | None:
        detail = self.detail(storyline_id)
        return detail.model_dump_json().encode() if detail else None


class Catalog:
    """Storyline summaries of one store, checked for changes about every ``ttl`` seconds.

    The periodic check runs in a background thread: counting 100k articles takes tens of ms, and
    on the request path it would stall every request queued behind it.
    """

    def __init__(self, store: Store, ttl: float = 1.0):
        self.store = store
        self.ttl = ttl
        self._snapshot = _Snapshot({}, _Indexes({}, []), "")  # swapped whole
        self.counts: StoreCounts | None = None  # as of the last refresh
        self._checked_at = 0.0
        self._lock = threading.Lock()
        self.refresh(force=True)

    @property
    def version(self) -> str:
        self._refresh_soon()
        return self._snapshot.version

    def _refresh_soon(self) -> None:
        """Starts a background refresh when the last look is older than ``ttl``; never waits."""
        if time.monotonic() - self._checked_at < self.ttl or self._lock.locked():
            return
        self._checked_at = time.monotonic()  # one thread per ttl, however many requests ask
        threading.Thread(target=self.refresh, args=(True,), daemon=True, name="catalog-refresh").start()

    def refresh(self, force: bool = False) -> None:
        """Rebuild the storylines whose size changed; ``force`` looks now, not after ``ttl``."""
        if not force and time.monotonic() - self._checked_at < self.ttl:
            return
        with self._lock:
            counts = self.store.counts()
            version = f"{self.store.max_rowid()}.{counts.articles}.{counts.events}.{counts.storylines}"
            self._checked_at = time.monotonic()
            self.counts = counts
            if version == self._snapshot.version:
                return
            records = self.store.list_storylines(limit=ALL)
            entries_before = self._snapshot.entries
            entries = {
                record.id: entries_before[record.id]
                if record.id in entries_before and entries_before[record.id].size == record.size
                else build_entry(record.id, record.size, self.store.events_of_storyline(record.id))
                for record in records
            }
            self._snapshot = _Snapshot(entries, _Indexes(entries, [r.id for r in records]), version)

    def storylines(self, filters: Filters, limit: int, offset: int) -> tuple[list[StorylineSummary], int]:
        """One page of matching storylines (largest first) and how many match in all."""
        self._refresh_soon()
        return self._snapshot.page(filters, limit, offset)

    def storylines_json(self, filters: Filters, limit: int, offset: int) -> bytes:
        """:meth:`storylines` as the JSON body of a ``Page[StorylineSummary]``, cached per version."""
        self._refresh_soon()
        return self._snapshot.page_json(filters, limit, offset)

    def summary(self, storyline_id: int) -> StorylineSummary | None:
        self._refresh_soon()
        entry = self._snapshot.entries.get(storyline_id)
        return entry.summary if entry else None

    def storyline_json(self, storyline_id: int) -> bytes | None:
        """A storyline's detail as a JSON body (None when missing), cached per version."""
        self._refresh_soon()
        return self._snapshot.storyline_json(storyline_id)

    def storyline_articles(
        self, storyline_id: int, lang: str | None, limit: int, offset: int
    ) -> tuple[list[ArticleSummary], int] | None:
        """Articles of a storyline in event-timeline order, optionally of one language."""
        entry = self._snapshot.entries.get(storyline_id)
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
