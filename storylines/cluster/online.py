"""Online two-level clustering: each new article is placed in an event and a storyline on arrival.

Per article: the vector index proposes the nearest stored articles, the comparer judges each
pair (Overall 1 = same story … 4 = unrelated), and time decides how close is close enough:

* **event** (one happening): Overall ≤ ``event_overall`` and at most ``event_days`` apart;
* **storyline** (a continuing story): Overall ≤ ``storyline_overall``, entities alike
  (entities dimension ≤ ``storyline_entities``) and at most ``storyline_days`` apart.

Unknown dates give no time penalty; year-less dates still bound the gap (see ``timeline``).
An article that belongs to two events with a strong score (≤ ``merge_overall``) merges them, and
one related to several storylines links them into one.  Nothing is ever re-clustered: the cost
per article is one ANN search, ``candidates`` comparisons and one store transaction, flat in
corpus size.  Decisions depend only on the input order, so a given order always gives the
same clusters.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from storylines.article import Article
from storylines.cluster.labels import article_stats, merge_stats
from storylines.cluster.timeline import article_day, days_apart
from storylines.compare.types import Comparer, Comparison, Representation
from storylines.store.base import ArticleRef, EventRecord, Store, VectorIndex


@dataclass
class ClusterSettings:
    candidates: int = 10  # nearest stored articles judged per new article
    min_similarity: float = 0.0  # ANN cosine below which a neighbour is not even judged
    event_overall: float = 1.8
    merge_overall: float = 1.5
    event_days: float = 3.0
    storyline_overall: float = 2.5
    storyline_entities: float = 2.5
    storyline_days: float = 180.0
    representation_cache: int = 4_096  # decoded candidate representations kept in RAM (~10 KB each)
    save_index_every: int = 20_000  # articles between index snapshots (the store stays the truth)


@dataclass
class Assignment:
    """Where one article went."""

    article_id: str
    event_id: int
    storyline_id: int
    new_event: bool = False
    new_storyline: bool = False
    duplicate_of: str | None = None
    merged_events: list[int] = field(default_factory=list)
    merged_storylines: list[int] = field(default_factory=list)
    already_stored: bool = False


@dataclass
class _Judged:
    """A candidate neighbour with the comparer's verdict and the days between the two."""

    ref: ArticleRef
    comparison: Comparison
    gap: float | None

    def within(self, days: float) -> bool:
        return self.gap is None or self.gap <= days

    def same_event(self, settings: ClusterSettings) -> bool:
        return self.comparison.overall <= settings.event_overall and self.within(settings.event_days)

    def related(self, settings: ClusterSettings) -> bool:
        entities = self.comparison.dimensions.get("entities", self.comparison.overall)
        return (
            self.comparison.overall <= settings.storyline_overall
            and entities <= settings.storyline_entities
            and self.within(settings.storyline_days)
        )


class OnlineStoryClusterer:
    """Incremental event + storyline clusterer over a :class:`Store` (scikit-learn-like API)."""

    def __init__(
        self,
        comparer: Comparer,
        store: Store,
        settings: ClusterSettings | None = None,
        index: VectorIndex | None = None,
    ):
        self.comparer = comparer
        self.store = store
        self.settings = settings or ClusterSettings()
        self._claim_store_for_model()
        self.index = index or store.vector_index(comparer.dim)
        self._representations: OrderedDict[int, Representation] = OrderedDict()
        self._unsaved = 0
        self.timings: Counter[str] = Counter()  # seconds spent per stage: embed, cluster, store

    def _claim_store_for_model(self) -> None:
        """Vectors of two models do not mix: a store belongs to the model that filled it."""
        stored = self.store.get_meta("model_id")
        if stored is None:
            with self.store.transaction():
                self.store.set_meta("model_id", self.comparer.model_id)
        elif stored != self.comparer.model_id:
            raise ValueError(
                f"{self.store.url} holds vectors of model {stored!r}, not {self.comparer.model_id!r}"
            )

    def partial_fit(self, articles: Sequence[Article]) -> list[Assignment]:
        """Place each article (enriched) in order; already stored ones come back as they are."""
        fresh: dict[str, Article] = {}
        for article in articles:
            if article.id not in fresh and not self.store.has_article(article.id):
                fresh[article.id] = article
        started = time.perf_counter()
        representations = self.comparer.represent_many(list(fresh.values())) if fresh else []
        self.timings["embed"] += time.perf_counter() - started
        placed = {
            article.id: self.place(article, representation)
            for article, representation in zip(fresh.values(), representations, strict=True)
        }
        return [placed.get(article.id) or self._existing(article.id) for article in articles]

    def place(self, article: Article, representation: Representation) -> Assignment:
        """Assign one article whose representation is already computed (embedding excluded)."""
        started = time.perf_counter()
        day = article_day(article)
        vector = np.asarray(representation.vector, dtype=np.float32)
        judged = self._judge(representation, vector, day)
        decided = time.perf_counter()
        with self.store.transaction():
            rowid, assignment = self._commit(article, representation, vector, day, judged)
        self.index.add(np.array([rowid]), vector)
        self._unsaved += 1
        if self._unsaved >= self.settings.save_index_every:
            self.save_index()
        self.timings["cluster"] += decided - started
        self.timings["store"] += time.perf_counter() - decided
        return assignment

    def save_index(self) -> None:
        self.index.save()
        self._unsaved = 0

    def close(self) -> None:
        """Snapshot the index so the next open need not catch up; the store stays open."""
        if self._unsaved:
            self.save_index()

    # --- deciding -----------------------------------------------------------------------
    def _judge(self, representation: Representation, vector: np.ndarray, day: str | None) -> list[_Judged]:
        ids, sims = self.index.search(vector, self.settings.candidates)
        refs = self.store.get_refs([int(i) for i in ids[sims >= self.settings.min_similarity]])
        others = [self._representation(ref) for ref in refs]
        comparisons = self._compare_all(representation, others)
        return [
            _Judged(ref, comparison, days_apart(day, ref.day))
            for ref, comparison in zip(refs, comparisons, strict=True)
        ]

    def _compare_all(self, representation: Representation, others: list[Representation]) -> list[Comparison]:
        """One batched call when the comparer offers ``compare_many`` (the default one does: it
        runs its model once for all candidates, without evidence); else one ``compare`` each."""
        compare_many = getattr(self.comparer, "compare_many", None)
        if compare_many is not None and others:
            return list(compare_many(representation, others))
        return [self.comparer.compare(representation, other) for other in others]

    def _representation(self, ref: ArticleRef) -> Representation:
        cache = self._representations
        if ref.rowid in cache:
            cache.move_to_end(ref.rowid)
            return cache[ref.rowid]
        representation = self.comparer.representation_from_bytes(ref.representation)
        cache[ref.rowid] = representation
        if len(cache) > self.settings.representation_cache:
            cache.popitem(last=False)
        return representation

    # --- writing (inside one transaction) -----------------------------------------------
    def _commit(
        self,
        article: Article,
        representation: Representation,
        vector: np.ndarray,
        day: str | None,
        judged: list[_Judged],
    ) -> tuple[int, Assignment]:
        settings = self.settings
        duplicate = next(
            (j for j in judged if j.comparison.near_duplicate and j.within(settings.event_days)), None
        )
        event_scores: dict[int, float] = {}
        for j in judged:
            if j.ref.event_id is not None and (j is duplicate or j.same_event(settings)):
                score = settings.merge_overall if j is duplicate else j.comparison.overall
                event_scores[j.ref.event_id] = min(score, event_scores.get(j.ref.event_id, score))
        duplicate_of = (duplicate.ref.duplicate_of or duplicate.ref.id) if duplicate else None
        rowid = self.store.add_article(article, representation.to_bytes(), vector, day, duplicate_of)
        assignment = Assignment(article_id=article.id, event_id=0, storyline_id=0, duplicate_of=duplicate_of)
        event = self._event_for(event_scores, judged, assignment)
        self._link_storylines(event, judged, assignment)
        self._add_to_event(event, article, vector, day)
        reason = "near-duplicate" if duplicate else "new event" if assignment.new_event else "joined"
        self.store.assign_article(article.id, event.id, reason)
        assignment.event_id, assignment.storyline_id = event.id, event.storyline_id
        return rowid, assignment

    def _event_for(
        self, scores: dict[int, float], judged: list[_Judged], assignment: Assignment
    ) -> EventRecord:
        """The best matching event, with strong second matches merged in; else a new event."""
        if not scores:
            return self._new_event(judged, assignment)
        best = min(scores, key=lambda event_id: (scores[event_id], event_id))
        strong = sorted(e for e, score in scores.items() if score <= self.settings.merge_overall)
        group = strong if best in strong else [best]
        keep = self._require_event(group[0])  # the oldest survives, so ids stay stable
        for other_id in group[1:]:
            other = self._require_event(other_id)
            self.store.merge_events(other.id, keep.id)
            keep.size += other.size
            keep.centroid = keep.centroid + other.centroid
            keep.stats = merge_stats(keep.stats, other.stats)
            if other.storyline_id != keep.storyline_id:
                self._merge_storylines([keep.storyline_id, other.storyline_id], keep, assignment)
            assignment.merged_events.append(other.id)
        return keep

    def _new_event(self, judged: list[_Judged], assignment: Assignment) -> EventRecord:
        related = [j for j in judged if j.related(self.settings) and j.ref.storyline_id is not None]
        if related:
            best = min(related, key=lambda j: (j.comparison.overall, j.ref.rowid))
            storyline_id = int(best.ref.storyline_id or 0)
        else:
            storyline_id = self.store.create_storyline()
            assignment.new_storyline = True
        assignment.new_event = True
        centroid = np.zeros(self.comparer.dim, dtype=np.float32)
        event_id = self.store.create_event(storyline_id, centroid, {})
        return EventRecord(id=event_id, storyline_id=storyline_id, size=0, centroid=centroid, stats={})

    def _link_storylines(self, event: EventRecord, judged: list[_Judged], assignment: Assignment) -> None:
        """One article related to events of several storylines shows they are one storyline."""
        linked = {event.storyline_id}
        linked.update(
            int(j.ref.storyline_id) for j in judged if j.related(self.settings) and j.ref.storyline_id
        )
        if len(linked) > 1:
            self._merge_storylines(sorted(linked), event, assignment)

    def _merge_storylines(self, storyline_ids: list[int], event: EventRecord, assignment: Assignment) -> None:
        live = sorted({self._live_storyline(s) for s in storyline_ids})
        for other in live[1:]:
            self.store.merge_storylines(other, live[0])
            assignment.merged_storylines.append(other)
        event.storyline_id = live[0]

    def _live_storyline(self, storyline_id: int) -> int:
        """Follow merges: a candidate's storyline may have been merged earlier in this article."""
        record = self.store.get_storyline(storyline_id)
        while record is not None and record.merged_into is not None:
            record = self.store.get_storyline(record.merged_into)
        return record.id if record else storyline_id

    def _require_event(self, event_id: int) -> EventRecord:
        event = self.store.get_event(event_id)
        if event is None:
            raise LookupError(f"event {event_id} vanished from {self.store.url}")
        return event

    def _add_to_event(
        self, event: EventRecord, article: Article, vector: np.ndarray, day: str | None
    ) -> None:
        # How well the article fits the event as it stood: the label keeps, per language, the
        # title of the best-fitting report (the first one scores 0 and yields to any later one).
        closeness = float(vector @ event.centroid / (np.linalg.norm(event.centroid) or 1.0))
        event.stats = merge_stats(event.stats, article_stats(article, day, closeness))
        event.centroid = event.centroid + vector
        event.size += 1
        self.store.save_event(event)

    def _existing(self, article_id: str) -> Assignment:
        stored = self.store.get_article(article_id)
        if stored is None or stored.event_id is None or stored.storyline_id is None:
            raise LookupError(f"article {article_id} is not stored")
        return Assignment(
            article_id=article_id,
            event_id=stored.event_id,
            storyline_id=stored.storyline_id,
            duplicate_of=stored.duplicate_of,
            already_stored=True,
        )
