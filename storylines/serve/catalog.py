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
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Literal

from storylines.day import Day
from storylines.day import sort_key as day_sort_key
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
HALF_LIFE_DAYS = 2.0  # a report counts half as much two days later: today's big story leads
PERIOD_DAYS = {"day": 1, "week": 7, "month": 30}
LEMMA_LANGUAGES = ("ru", "pl", "de", "cs", "bg", "tr")  # the inflecting ones names change in
Sort = Literal["hot", "size", "recent"]
Period = Literal["day", "week", "month"]


@dataclass(frozen=True)
class Filters:
    """Storyline filters and order.

    Entity and place filters take an id or a name in any script or inflection ("Путина",
    "普京" and "Putin" find the same storylines).  ``period`` keeps the storylines with reports in
    the last day, week or month before the newest report; ``sort`` is ``hot`` (recency-weighted
    volume), ``size`` or ``recent``.  ``hl`` asks for titles in the reader's language.
    """

    lang: str | None = None
    entity: str | None = None
    place: str | None = None
    since: str | None = None
    until: str | None = None
    period: Period | None = None
    sort: Sort = "hot"
    hl: str | None = None


@dataclass
class _Entry:
    """One storyline as the catalog holds it."""

    size: int
    summary: StorylineSummary
    events: list[EventOut]
    entities: list[EntityOut]
    entity_keys: frozenset[str]
    place_keys: frozenset[str]
    titles: dict[str, str]  # language → the most central title in it
    not_articles: int  # members flagged at ingest as block pages, cookie walls, empty pages

    @property
    def listed(self) -> bool:
        """Storylines made only of non-articles are no stories: they stay out of every list."""
        return self.not_articles < self.size

    def heat(self, today: date | None) -> float:
        """Recency-weighted volume: each article weighs 1/2 per ``HALF_LIFE_DAYS`` of age."""
        if today is None:
            return 0.0
        return sum(
            point.count * 0.5 ** ((today - date.fromisoformat(point.day)).days / HALF_LIFE_DAYS)
            for point in self.summary.volume
        )

    def titled(self, hl: str | None) -> StorylineSummary:
        """The summary, titled in the reader's language when one of its articles has that title."""
        if not hl or hl not in self.titles or hl == self.summary.title_lang:
            return self.summary
        return self.summary.model_copy(update={"title": self.titles[hl], "title_lang": hl})


def _entities(stats: dict[str, Any], places: bool) -> list[EntityOut]:
    rows = [(key, name, kind, count) for key, (name, kind, count) in stats.get("entities", {}).items()]
    rows = [row for row in rows if (row[2] == "place") == places]
    rows.sort(key=lambda row: (-row[3], row[1]))
    return [EntityOut(id=key, name=name, type=kind, count=count) for key, name, kind, count in rows]


def _keys(entities: list[EntityOut]) -> frozenset[str]:
    return frozenset(key.casefold() for entity in entities for key in (entity.id, entity.name))


def _full_days(days: list[str]) -> list[str]:
    return sorted(d.iso for value in days if (d := Day.parse(value)) and d.full)


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
    event_outs = sorted((_event_out(event) for event in events), key=lambda e: (day_sort_key(e.start), e.id))
    summary = StorylineSummary(
        id=storyline_id,
        title=story_label.title,
        title_lang=story_label.title_lang,
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
    titles = {lang: title for lang, (title, _) in stats.get("titles", {}).items()}
    keys = _keys(entities), _keys(places)
    return _Entry(size, summary, event_outs, entities, *keys, titles, stats.get("not_articles", 0))


def storyline_summary(store: Store, storyline_id: int) -> StorylineSummary | None:
    """One storyline's summary straight from the store, for callers without a catalog (the CLI)."""
    record = store.get_storyline(storyline_id)
    if record is None:
        return None
    return build_entry(record.id, record.size, store.events_of_storyline(record.id)).summary


def _in_time(summary: StorylineSummary, since: str | None, until: str | None) -> bool:
    """Overlap of [start, end] with [since, until]; storylines without a full day never match."""
    start, end = Day.parse(summary.start), Day.parse(summary.end)
    if not (start and end and start.full and end.full):
        return not (since or until)
    if since and end.iso < since:
        return False
    return not (until and start.iso > until)


def _newest_first(day: str | None) -> tuple[int, int]:
    parsed = Day.parse(day)
    if parsed is None or parsed.year is None:
        return 1, 0
    return 0, -date(parsed.year, parsed.month, parsed.day).toordinal()


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
                by_lang.setdefault(lang.casefold(), []).append(storyline_id)
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
            for name, index, value in (
                ("lang", self.by_lang, filters.lang and filters.lang.casefold()),
                ("entity", self.by_entity, filters.entity),
                ("place", self.by_place, filters.place),
            )
            if value
            for key in [value if name == "lang" else _resolve(value, index)]
        ]
        if not wanted:
            return self.order
        (_, _, smallest), *others = sorted(wanted, key=lambda found: len(found[2]))
        if not others:
            return smallest
        members = [self._member_set(name, key, ids) for name, key, ids in others]
        return [i for i in smallest if all(i in ids for ids in members)]

    def _member_set(self, name: str, key: str, ids: list[int]) -> frozenset[int]:
        found = self._members.get((name, key))
        if found is None:
            found = self._members[(name, key)] = frozenset(ids)
        return found


@cache
def _gazetteer() -> Any:
    from storylines.enrich.entities_gazetteer import gazetteer

    return gazetteer()


def _resolve(value: str, index: dict[str, list[int]]) -> str:
    """The index key a filter value stands for: itself (an id or a name as shown), else the id
    the gazetteer gives its name in any script or inflection, else its lemma ("Андрзея Дуды")."""
    key = value.strip().casefold()
    if key in index:
        return key
    known = _gazetteer().lookup(value.strip())
    if known and known.casefold() in index:
        return known.casefold()
    lemma = " ".join(_lemma(word) for word in value.split()).casefold()
    return lemma if lemma in index else key


def _lemma(word: str) -> str:
    import simplemma

    return simplemma.lemmatize(word, lang=LEMMA_LANGUAGES)


def article_summary(stored: StoredArticle) -> ArticleSummary:
    from storylines.cluster.labels import source_name

    article = stored.article
    return ArticleSummary(
        id=article.id,
        title=article.title,
        source=article.source,
        outlet=source_name(article),
        not_article=article.not_article,
        page_languages=list(dict.fromkeys([article.lang or "und", *(s.lang for s in article.languages)])),
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

    def __init__(self, entries: dict[int, _Entry], version: str):
        self.entries, self.version = entries, version
        listed = [entry for entry in entries.values() if entry.listed]
        ends = [d for e in listed if (d := Day.parse(e.summary.end)) and d.year is not None]
        latest = max(ends, key=Day.sort_key) if ends else None
        self.today = date(latest.year, latest.month, latest.day) if latest and latest.year else None
        heat = {e.summary.id: e.heat(self.today) for e in listed}
        order = sorted(heat, key=lambda i: (-heat[i], -entries[i].size, i))
        self.indexes = _Indexes(entries, order)
        self.page_json = lru_cache(maxsize=CACHED_RESPONSES)(self._page_json)
        self.storyline_json = lru_cache(maxsize=CACHED_RESPONSES)(self._storyline_json)

    def page(self, filters: Filters, limit: int, offset: int) -> tuple[list[StorylineSummary], int]:
        ids = self.indexes.select(filters)
        since = filters.since
        if filters.period and self.today:
            first = self.today - timedelta(days=PERIOD_DAYS[filters.period] - 1)
            since = max(since or "", first.isoformat())
        if since or filters.until:
            ids = [i for i in ids if _in_time(self.entries[i].summary, since, filters.until)]
        if filters.sort == "size":
            ids = sorted(ids, key=lambda i: (-self.entries[i].size, i))
        elif filters.sort == "recent":
            ids = sorted(ids, key=lambda i: (_newest_first(self.entries[i].summary.end), i))
        return [self.entries[i].titled(filters.hl) for i in ids[offset : offset + limit]], len(ids)

    def detail(self, storyline_id: int, hl: str | None = None) -> StorylineDetail | None:
        entry = self.entries.get(storyline_id)
        if entry is None:
            return None
        return StorylineDetail(**entry.titled(hl).model_dump(), events=entry.events, entities=entry.entities)

    def _page_json(self, filters: Filters, limit: int, offset: int) -> bytes:
        items, total = self.page(filters, limit, offset)
        page = Page[StorylineSummary](items=items, total=total, limit=limit, offset=offset)
        return page.model_dump_json().encode()

    def _storyline_json(self, storyline_id: int, hl: str | None) -> bytes | None:
        detail = self.detail(storyline_id, hl)
        return detail.model_dump_json().encode() if detail else None


class Catalog:
    """Storyline summaries of one store, checked for changes about every ``ttl`` seconds.

    The periodic check runs in a background thread: counting 100k articles takes tens of ms, and
    on the request path it would stall every request queued behind it.
    """

    def __init__(self, store: Store, ttl: float = 1.0):
        self.store = store
        self.ttl = ttl
        self._snapshot = _Snapshot({}, "")  # swapped whole
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
            self._snapshot = _Snapshot(entries, version)

    def storylines(self, filters: Filters, limit: int, offset: int) -> tuple[list[StorylineSummary], int]:
        """One page of matching storylines (in ``filters.sort`` order) and how many match in all."""
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

    def storyline_json(self, storyline_id: int, hl: str | None = None) -> bytes | None:
        """A storyline's detail as a JSON body (None when missing), cached per version."""
        self._refresh_soon()
        return self._snapshot.storyline_json(storyline_id, hl)

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
