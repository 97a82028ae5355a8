"""``storylines recluster``: re-place a recent window of articles, for when arrival order bit.

Online placement never revisits a decision, so an article that arrived before its event's
better reports may have started an event of its own.  This batch pass takes the articles of
the last ``since`` (their day: publication date, else the date their text gives; undated ones
by ingest time; the window ends at the newest article), and places them again in time order
with the online clusterer itself: same comparer, same settings loaded from the store, same
join model, against the events outside the window as they stand (without their window
members).  Nothing is written while it runs: the clusterer works on :class:`_WindowView`, a
view of the store in which window articles are hidden until re-placed and new events and
storylines get provisional ids.

Ids then stay stable by majority: each new event takes the id of the old window-only event
holding most of its articles (largest overlaps first, each old id at most once), likewise for
storylines; old events and storylines left without articles are marked merged into the one
that took most of them, so links to them still lead somewhere.  Everything is written in one
store transaction: a crash leaves the old clustering as it was.  Re-running on the same
window changes nothing.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from storylines.article import Article
from storylines.cluster.online import OnlineStoryClusterer
from storylines.store import StoreError
from storylines.store.base import ArticleRef, EventRecord, StoredArticle, StorylineRecord

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from storylines.engine import Engine
    from storylines.store.base import Store, VectorIndex

REASON = "reclustered"
PROVISIONAL = 1 << 62  # ids of events and storylines made during the replay: after every stored id
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([hd])")


class ReclusterConflict(StoreError):
    """Another writer stored articles while the window was re-placed: nothing was written."""


def parse_since(text: str) -> timedelta:
    """``12h``, ``3d``, ``1.5d`` → a positive timedelta; ValueError naming the bad value."""
    match = _SPAN.fullmatch(text.strip().lower())
    amount = float(match.group(1)) if match else 0.0
    if not match or amount <= 0:
        raise ValueError(f"{text!r} is not a span such as 12h or 3d (hours or days, above zero)")
    return timedelta(hours=amount) if match.group(2) == "h" else timedelta(days=amount)


@dataclass
class ReclusterReport:
    """What one pass changed; ``start``/``end`` bound the window (ISO, UTC)."""

    start: str | None = None
    end: str | None = None
    articles: int = 0
    moved: int = 0  # window articles now in another event
    events_kept: int = 0  # old events of window articles still live (same id)
    events_created: int = 0
    events_removed: int = 0  # merged into the event that took most of their articles
    storylines_kept: int = 0
    storylines_created: int = 0
    storylines_removed: int = 0
    assignments: dict[str, tuple[int, int]] = field(default_factory=dict)  # article id → (event, storyline)

    def summary(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "assignments"}


def recluster(engine: Engine, since: timedelta) -> ReclusterReport:
    """Re-place the articles of the last ``since`` and write the result in one transaction.

    Raises :class:`ReclusterConflict` when another writer stored articles meanwhile (on
    PostgreSQL the placement lock keeps them waiting, so only a SQLite store can see this).
    """
    store = engine.store
    engine.index.catch_up()
    with store.placement():
        window, start, end = window_articles(store, since)
        report = ReclusterReport(start=start, end=end, articles=len(window))
        if not window:
            return report
        stored_rowid = store.max_rowid()
        view = _WindowView(store, engine.index, window)
        view.replay(engine)
        plan = _Plan(store, view)
        with store.transaction():
            if store.max_rowid() != stored_rowid:
                raise ReclusterConflict(f"{store.url} took new articles while reclustering; run it again")
            plan.write(report)
    return report


def window_articles(store: Store, since: timedelta) -> tuple[list[StoredArticle], str | None, str | None]:
    """The window's articles in time order (ties by rowid), and its start and end (ISO, UTC)."""
    newest_day, newest_ingest = store.newest_times()
    times = [t for t in (_day_time(newest_day), _ingest_time(newest_ingest)) if t is not None]
    if not times:
        return [], None, None
    end = max(times)
    start = end - since
    first_day = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
    articles = store.dated_since(first_day.isoformat(), start.isoformat(timespec="seconds"))
    articles.sort(key=lambda a: (_article_time(a, store), a.rowid))
    return articles, start.isoformat(timespec="seconds"), end.isoformat(timespec="seconds")


def _day_time(day: str | None) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(day), time(0), UTC) if day else None
    except ValueError:
        return None


def _hint_time(hint: str | None) -> datetime | None:
    """The time of day the input's date string gives (ISO 8601 or a feed's RFC 2822; UTC when it
    names no zone): the stored day alone cannot order one day's reports.  Other forms give None."""
    if not hint:
        return None
    try:
        parsed = datetime.fromisoformat(hint.strip())
    except ValueError:
        try:
            parsed = parsedate_to_datetime(hint.strip())
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ingest_time(added_at: str | None) -> datetime | None:
    return datetime.fromisoformat(added_at) if added_at else None


def _article_time(article: StoredArticle, store: Store) -> datetime:
    """Its publication time where the input gave one on its day, else its day, else (undated) when
    it was stored: the first history line is its placement."""
    day = _day_time(article.day)
    if day is not None:
        published = _hint_time(article.article.published_hint)
        return published if published is not None and published.date() == day.date() else day
    placed = store.history(article.id)
    return datetime.fromisoformat(placed[0].at) if placed else datetime.max.replace(tzinfo=UTC)


class _WindowIndex:
    """The store's vector index without the window's articles, plus those already re-placed
    (searched exactly in memory): what the online index held when each of them arrived."""

    def __init__(self, index: VectorIndex, window: set[int], outside: int):
        self.dim = index.dim
        self._index = index
        self._window = window
        self._outside_count = outside  # stored articles outside the window
        self._ids: list[int] = []
        self._vectors = np.empty((len(window), index.dim), dtype=np.float32)  # rows of _ids, filled in order

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        start = len(self._ids)
        self._ids.extend(int(i) for i in ids)
        self._vectors[start : len(self._ids)] = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found = dict(zip(*self._outside(vector, k), strict=True))
        if self._ids:
            sims = self._vectors[: len(self._ids)] @ np.asarray(vector, dtype=np.float32)
            found.update(zip(self._ids, sims.tolist(), strict=True))
        best = sorted(found.items(), key=lambda item: (-item[1], item[0]))[:k]
        return np.array([i for i, _ in best], dtype=np.int64), np.array(
            [s for _, s in best], dtype=np.float32
        )

    def _outside(self, vector: np.ndarray, k: int) -> tuple[list[int], list[float]]:
        """The k nearest outside the window: asked deeper until enough are left or none remain."""
        wanted, depth = min(k, self._outside_count), k
        while wanted:
            ids, sims = self._index.search(vector, depth)
            kept = [(int(i), float(s)) for i, s in zip(ids, sims, strict=True) if int(i) not in self._window]
            if len(kept) >= wanted or len(ids) < depth:
                return [i for i, _ in kept[:k]], [s for _, s in kept[:k]]
            depth *= 2
        return [], []

    def catch_up(self) -> None:
        """Nothing to do: the store's index was caught up before the replay."""

    def save(self) -> None:
        """Nothing to do: the replay writes nothing."""

    def nbytes(self) -> int:
        return 0


class _WindowView:
    """The store as the online clusterer sees it during the replay (the part of :class:`Store`
    that placement uses): reads come from the store, with the window articles hidden until
    re-placed; writes stay in memory.  ``events`` holds every event the replay touched, stored
    ones stripped of their window members first."""

    def __init__(self, store: Store, index: VectorIndex, window: Sequence[StoredArticle]):
        self.store = store
        self.url = store.url
        self.window = {article.rowid: article for article in window}
        self.rowid_of = {article.id: article.rowid for article in window}
        self.index = _WindowIndex(index, set(self.window), store.counts().articles - len(self.window))
        self.events: dict[int, EventRecord] = {}
        self.event_of: dict[int, int] = {}  # re-placed window rowid → event id (maybe provisional)
        self.duplicate_of: dict[int, str | None] = {}
        self.storylines: set[int] = set()  # provisional storyline ids
        self.stripped: set[int] = set()  # stored events of window articles
        self.free_events: set[int] = set()  # ... with no member outside the window
        self._next_id = PROVISIONAL

    def replay(self, engine: Engine) -> None:
        """Strip the window's events, then place every window article in time order."""
        clusterer = OnlineStoryClusterer(engine.comparer, self, index=self.index)  # type: ignore[arg-type]
        self._strip_events(clusterer)
        refs = {ref.rowid: ref for ref in self.store.get_refs(list(self.window))}
        for rowid, stored in self.window.items():
            representation = engine.comparer.representation_from_bytes(refs[rowid].representation)
            clusterer.place(stored.article, representation)

    def _strip_events(self, clusterer: OnlineStoryClusterer) -> None:
        """Each old event of the window as its members outside the window make it, built with the
        clusterer's own bookkeeping (label counters, sample, centroid) in their stored order."""
        for event_id in sorted({a.event_id for a in self.window.values() if a.event_id is not None}):
            event = self.store.get_event(event_id)
            if event is None:
                continue
            outside = [a for a in self.store.articles_of_event(event_id) if a.rowid not in self.window]
            centroid = np.zeros_like(event.centroid)
            self.events[event_id] = EventRecord(
                event_id, event.storyline_id, 0, centroid, {}, event.created_at
            )
            vectors = self.store.vectors_of([a.rowid for a in outside]) if outside else []
            for member, vector in zip(outside, vectors, strict=True):
                clusterer._add_to_event(
                    self.events[event_id], member.article, vector, member.day, member.rowid
                )
            self.stripped.add(event_id)
            if not outside:
                self.free_events.add(event_id)

    def _provisional(self) -> int:
        self._next_id += 1
        return self._next_id

    # --- the part of the Store protocol that placement uses -------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        return nullcontext()

    def get_meta(self, key: str) -> str | None:
        return self.store.get_meta(key)

    def add_article(
        self,
        article: Article,
        representation: bytes,
        vector: np.ndarray,
        day: str | None,
        duplicate_of: str | None = None,
    ) -> int:
        rowid = self.rowid_of[article.id]
        self.duplicate_of[rowid] = duplicate_of
        return rowid

    def assign_article(self, article_id: str, event_id: int, reason: str) -> None:
        self.event_of[self.rowid_of[article_id]] = event_id

    def get_refs(self, rowids: Sequence[int]) -> list[ArticleRef]:
        """Stored rows, window ones as re-placed so far (hidden before); events as they stand here."""
        refs = []
        for ref in self.store.get_refs(rowids):
            if ref.rowid in self.window:
                if ref.rowid not in self.event_of:
                    continue
                ref.event_id, ref.duplicate_of = self.event_of[ref.rowid], self.duplicate_of[ref.rowid]
            if ref.event_id in self.events:
                ref.storyline_id = self.events[ref.event_id].storyline_id
            refs.append(ref)
        return refs

    def get_event(self, event_id: int) -> EventRecord | None:
        return self.events.get(event_id) or self.store.get_event(event_id)

    def save_event(self, event: EventRecord) -> None:
        self.events[event.id] = event

    def create_storyline(self) -> int:
        storyline_id = self._provisional()
        self.storylines.add(storyline_id)
        return storyline_id

    def create_event(self, storyline_id: int, centroid: np.ndarray, stats: dict[str, Any]) -> int:
        event_id = self._provisional()
        self.events[event_id] = EventRecord(event_id, storyline_id, 0, centroid, stats)
        return event_id

    def get_storyline(self, storyline_id: int) -> StorylineRecord | None:
        if storyline_id in self.storylines:
            return StorylineRecord(id=storyline_id)
        return self.store.get_storyline(storyline_id)

    def events_of_storyline(self, storyline_id: int) -> list[EventRecord]:
        """Its live events here: stored ones as they stand (window-only ones are gone), new ones."""
        stored = [] if storyline_id in self.storylines else self.store.events_of_storyline(storyline_id)
        events = {event.id: self.events.get(event.id, event) for event in stored}
        events.update(
            {i: e for i, e in self.events.items() if i > PROVISIONAL and e.storyline_id == storyline_id}
        )
        return [event for event in events.values() if event.size and event.storyline_id == storyline_id]


def majority_mapping(overlaps: Counter[tuple[int, int]]) -> dict[int, int]:
    """New id → old id holding most of its members: largest overlaps first, each id used once."""
    mapping: dict[int, int] = {}
    taken: set[int] = set()
    for (new, old), _ in sorted(overlaps.items(), key=lambda item: (-item[1], item[0])):
        if new not in mapping and old not in taken:
            mapping[new] = old
            taken.add(old)
    return mapping


def _members(event_of: dict[int, int | None]) -> defaultdict[int | None, set[int]]:
    """Event (or storyline) id → the window rowids it holds."""
    members: defaultdict[int | None, set[int]] = defaultdict(set)
    for rowid, event_id in event_of.items():
        members[event_id].add(rowid)
    return members


def _plurality(values: Iterable[int]) -> int:
    """The most common value, the smallest on ties."""
    return min(Counter(values).items(), key=lambda item: (-item[1], item[0]))[0]


class _Plan:
    """The replay's result in stored ids: which provisional events and storylines take old ids."""

    def __init__(self, store: Store, view: _WindowView):
        self.store, self.view = store, view
        self.old_event = {rowid: a.event_id for rowid, a in view.window.items()}
        self.old_storyline = {rowid: a.storyline_id for rowid, a in view.window.items()}
        self.old_events = set(view.stripped)
        # old storylines whose live events all lie inside the window: free to be reused or removed
        self.free_storylines = {
            s
            for s in {s for s in self.old_storyline.values() if s is not None}
            if all(e.id in view.free_events for e in store.events_of_storyline(s))
        }
        self.storyline_of = {rowid: view.events[e].storyline_id for rowid, e in view.event_of.items()}
        self.old_members, self.new_members = _members(self.old_event), _members(view.event_of)
        self.event_ids = majority_mapping(
            Counter(
                (event, self.old_event[rowid])
                for rowid, event in view.event_of.items()
                if event > PROVISIONAL and self.old_event[rowid] in view.free_events
            )
        )
        self.storyline_ids = majority_mapping(
            Counter(
                (storyline, self.old_storyline[rowid])
                for rowid, storyline in self.storyline_of.items()
                if storyline > PROVISIONAL and self.old_storyline[rowid] in self.free_storylines
            )
        )

    def write(self, report: ReclusterReport) -> None:
        """Storylines, then events, then articles, then what is left empty (inside a transaction)."""
        store, view = self.store, self.view
        for provisional in sorted({s for s in self.storyline_of.values() if s > PROVISIONAL}):
            if provisional not in self.storyline_ids:
                self.storyline_ids[provisional] = store.create_storyline()
                report.storylines_created += 1
        final_event = {
            event_id: self._write_event(view.events[event_id], report)
            for event_id in sorted(set(view.event_of.values()) | (self.old_events - view.free_events))
        }
        for rowid, stored in view.window.items():
            event_id = final_event[view.event_of[rowid]]
            if event_id != stored.event_id:
                store.assign_article(stored.id, event_id, REASON)
                report.moved += 1
            if view.duplicate_of[rowid] != stored.duplicate_of:
                store.set_duplicate_of(stored.id, view.duplicate_of[rowid])
            report.assignments[stored.id] = (event_id, self._storyline(self.storyline_of[rowid]))
        self._remove_emptied(final_event, report)

    def _storyline(self, storyline_id: int) -> int:
        return self.storyline_ids.get(storyline_id, storyline_id)

    def _write_event(self, event: EventRecord, report: ReclusterReport) -> int:
        """The stored id of a replayed event, written only where its members or storyline changed."""
        store = self.store
        storyline = self._storyline(event.storyline_id)
        event_id = self.event_ids.get(event.id, event.id)
        if event_id > PROVISIONAL:
            event_id = store.create_event(storyline, event.centroid, event.stats)
            report.events_created += 1
        else:
            stored = store.get_event(event_id)
            if stored is not None and stored.storyline_id != storyline:
                store.move_event(event_id, storyline, REASON)
        if event_id in self.old_events and self.new_members[event.id] == self.old_members[event_id]:
            return event_id  # the same window members as before: its stored labels stay as they are
        store.save_event(EventRecord(event_id, storyline, event.size, event.centroid, event.stats))
        return event_id

    def _remove_emptied(self, final_event: dict[int, int], report: ReclusterReport) -> None:
        """Old events and storylines that kept no article are merged into the one that took most."""
        store, view = self.store, self.view
        reused = set(self.event_ids.values())
        final_of = {rowid: final_event[event] for rowid, event in view.event_of.items()}
        for event_id in sorted(self.old_events):
            if event_id in view.free_events and event_id not in reused:
                store.merge_events(event_id, _plurality(final_of[r] for r in self.old_members[event_id]))
                report.events_removed += 1
            else:
                report.events_kept += 1
        kept_storylines = set(self.storyline_ids.values())
        storyline_of = {rowid: self._storyline(s) for rowid, s in self.storyline_of.items()}
        for storyline_id, rowids in sorted(
            _members(self.old_storyline).items(), key=lambda item: item[0] or 0
        ):
            if storyline_id is None:
                continue
            if storyline_id in self.free_storylines and storyline_id not in kept_storylines:
                store.merge_storylines(storyline_id, _plurality(storyline_of[r] for r in rowids))
                report.storylines_removed += 1
            else:
                report.storylines_kept += 1
