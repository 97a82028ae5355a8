"""Online two-level clustering: each new article is placed in an event and a storyline on arrival.

Per article the vector index proposes the nearest stored articles and the comparer judges each
pair.  Then, without ever re-clustering:

* **event** (one happening): every candidate event is judged *as a whole*: the same-event
  probabilities of all its retrieved members, the cosine to its mean vector, its size and the
  days since its first and last report go through a learned join model (``event_judge.py``); the
  article joins the best event whose join probability clears the threshold and whose last report
  is at most ``event_days`` old (``mentioned_event_days`` for days read from the text), else it
  starts a new event.  One look-alike member is not enough, and no single article ever merges
  two events, so events do not chain.
* **near-duplicate** (a copy or translation, confirmed by the comparer): joins its twin's event,
  and does nothing else.
* **storyline** (a continuing story): only a *new event* chooses a storyline, by how well its
  first report fits each candidate storyline's core (a bounded sample of its largest events),
  on Overall, entities and time; storylines never merge online, so a weak link cannot turn a
  storyline into a grab-bag.

The cost per article is one ANN search, ``candidates`` comparisons, a few more for a new event,
and one store transaction, flat in corpus size.  A given input order always gives the same
clusters.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from storylines.article import Article
from storylines.cluster.event_judge import EVENT_FEATURES, JoinModel, event_features
from storylines.cluster.labels import article_stats, merge_stats, published_days
from storylines.cluster.timeline import article_day, dated_by_publication, days_apart
from storylines.compare.types import Comparer, Comparison, Representation
from storylines.day import first_and_last
from storylines.settings import ClusterSettings, load_settings
from storylines.store.base import ArticleRef, EventRecord, Store, VectorIndex

EVENT_SAMPLE = 3  # members of each event kept as its sample for storyline cores


@dataclass
class Assignment:
    """Where one article went."""

    article_id: str
    event_id: int
    storyline_id: int
    new_event: bool = False
    new_storyline: bool = False
    duplicate_of: str | None = None
    already_stored: bool = False


@dataclass
class _Judged:
    """A candidate neighbour with the comparer's verdict and the days between the two."""

    ref: ArticleRef
    comparison: Comparison
    gap: float | None

    def within(self, days: float) -> bool:
        return self.gap is None or self.gap <= days


class OnlineStoryClusterer:
    """Incremental event + storyline clusterer over a :class:`Store` (scikit-learn-like API)."""

    def __init__(
        self,
        comparer: Comparer,
        store: Store,
        settings: ClusterSettings | None = None,
        index: VectorIndex | None = None,
        join_model: JoinModel | None = None,
    ):
        """``settings`` given are validated and saved in the store; else the store's own are used.

        Raises :class:`storylines.settings.SettingsError` for a store filled by another comparer.
        """
        self.comparer = comparer
        self.store = store
        self.settings = load_settings(store, comparer.model_id, settings.model_dump() if settings else None)
        self._join_model = join_model
        self.index = index or store.vector_index(comparer.dim)
        self._representations: OrderedDict[int, Representation] = OrderedDict()
        self._unsaved = 0
        self.timings: Counter[str] = Counter()  # seconds spent per stage: embed, cluster, store

    @cached_property
    def join_model(self) -> JoinModel:
        return self._join_model or JoinModel.load()

    @cached_property
    def _overall_curve(self) -> tuple[float, float]:
        """Overall → P(same event) for comparers that give no calibrated probability themselves."""
        from storylines.compare.same_event import SameEventModel

        return SameEventModel.load().full_curve

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
        vector = np.asarray(representation.retrieval_vector, dtype=np.float32)
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
        ids, _ = self.index.search(vector, self.settings.candidates)
        refs = self.store.get_refs([int(i) for i in ids])
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

    def _same_event(self, comparison: Comparison) -> float:
        if comparison.same_event is not None:
            return comparison.same_event
        slope, intercept = self._overall_curve
        return 1.0 / (1.0 + math.exp(-(slope * comparison.overall + intercept)))

    # --- writing (inside one transaction) -----------------------------------------------
    def _commit(
        self,
        article: Article,
        representation: Representation,
        vector: np.ndarray,
        day: str | None,
        judged: list[_Judged],
    ) -> tuple[int, Assignment]:
        duplicate = next(
            (
                j
                for j in judged
                if j.comparison.near_duplicate
                and j.ref.event_id is not None
                and j.within(self.settings.event_days)
            ),
            None,
        )
        duplicate_of = (duplicate.ref.duplicate_of or duplicate.ref.id) if duplicate else None
        rowid = self.store.add_article(article, representation.to_bytes(), vector, day, duplicate_of)
        assignment = Assignment(article_id=article.id, event_id=0, storyline_id=0, duplicate_of=duplicate_of)
        if duplicate is not None:
            event = self._require_event(int(duplicate.ref.event_id or 0))
        else:
            event = self._best_event(judged, vector, day, dated_by_publication(article)) or self._new_event(
                representation, judged, day, assignment
            )
        self._add_to_event(event, article, vector, day, rowid)
        reason = "near-duplicate" if duplicate else "new event" if assignment.new_event else "joined"
        self.store.assign_article(article.id, event.id, reason)
        assignment.event_id, assignment.storyline_id = event.id, event.storyline_id
        return rowid, assignment

    def _best_event(
        self, judged: list[_Judged], vector: np.ndarray, day: str | None, published: bool
    ) -> EventRecord | None:
        """The candidate event with the highest join probability, if it clears the threshold.

        Where every judged pair has bodies on both sides, average link on the calibrated
        same-event probabilities decides, against its own threshold (``body_join``): the join
        model is learned on title streams and, applied to full texts as singleton events, joined
        47 % of the SemEval dev same-story pairs where the calibrated probability alone clears 0.5
        for 68 % (BENCHMARKS.md, issue 8).
        """
        members: dict[int, list[float]] = defaultdict(list)
        bodies: dict[int, bool] = defaultdict(lambda: True)
        for j in judged:
            if j.ref.event_id is not None:
                members[j.ref.event_id].append(self._same_event(j.comparison))
                bodies[j.ref.event_id] &= not j.comparison.titles_only
        events, rows, with_bodies = [], [], []
        for event_id, probabilities in members.items():
            event = self._require_event(event_id)
            first, last = first_and_last(event.stats.get("days", []))
            since_last = days_apart(day, last)
            if not self._in_window(day, published, event.stats, since_last):
                continue
            norm = float(np.linalg.norm(event.centroid)) or 1.0
            events.append(event)
            with_bodies.append(bodies[event_id])
            rows.append(
                event_features(
                    probabilities,
                    event.size,
                    float(vector @ event.centroid) / norm,
                    since_last,
                    days_apart(day, first),
                    self.settings.candidates,
                )
            )
        if not rows:
            return None
        average_link = np.array([row[EVENT_FEATURES.index("mean_p")] for row in rows])
        probabilities_ = np.where(with_bodies, average_link, self.join_model.probabilities(rows))
        best = int(np.argmax(probabilities_))
        if with_bodies[best]:
            threshold = self.settings.body_join
        elif self.settings.event_join is not None:
            threshold = self.settings.event_join
        else:
            threshold = self.join_model.threshold
        return events[best] if probabilities_[best] >= threshold else None

    def _in_window(
        self, day: str | None, published: bool, stats: dict[str, Any], since_last: float | None
    ) -> bool:
        """``event_days`` between publication days; ``mentioned_event_days`` where the report's
        day or all of the event's are only days a text mentions (weaker evidence: a text may
        recall a day the story touched weeks before)."""
        last_published = first_and_last(published_days(stats))[1]
        if published and last_published is not None:
            gap, limit = days_apart(day, last_published), self.settings.event_days
        else:
            gap, limit = since_last, self.settings.mentioned_event_days
        return gap is None or gap <= limit

    def _new_event(
        self, representation: Representation, judged: list[_Judged], day: str | None, assignment: Assignment
    ) -> EventRecord:
        storyline_id = self._fitting_storyline(representation, judged, day)
        if storyline_id is None:
            storyline_id = self.store.create_storyline()
            assignment.new_storyline = True
        assignment.new_event = True
        centroid = np.zeros(self.comparer.dim, dtype=np.float32)
        event_id = self.store.create_event(storyline_id, centroid, {})
        return EventRecord(id=event_id, storyline_id=storyline_id, size=0, centroid=centroid, stats={})

    def _fitting_storyline(
        self, representation: Representation, judged: list[_Judged], day: str | None
    ) -> int | None:
        """The candidate storyline whose core the report fits best, if it fits well enough.

        Candidates are the storylines of the retrieved neighbours; the report is compared with
        each one's core (the samples of its largest events), so a storyline is joined for what it
        is about, not for its newest or loosest event.
        """
        settings = self.settings
        closest = sorted(
            (j for j in judged if j.ref.storyline_id), key=lambda j: (j.comparison.overall, j.ref.rowid)
        )
        candidates = sorted(
            {
                self._live_storyline(int(j.ref.storyline_id or 0))
                for j in closest[: settings.storyline_candidates]
            }
        )
        best: tuple[float, int] | None = None
        cores = self._storyline_cores(candidates)
        for storyline_id in candidates:
            core, last_day = cores[storyline_id]
            gap = days_apart(day, last_day)
            if not core or (gap is not None and gap > settings.storyline_days):
                continue
            comparisons = self._compare_all(representation, [self._representation(ref) for ref in core])
            overall = float(np.mean([c.overall for c in comparisons]))
            entities = float(np.mean([c.dimensions.get("entities", c.overall) for c in comparisons]))
            fits = overall <= settings.storyline_overall and entities <= settings.storyline_entities
            if fits and (best is None or (overall, storyline_id) < best):
                best = (overall, storyline_id)
        return best[1] if best else None

    def _storyline_cores(self, storyline_ids: list[int]) -> dict[int, tuple[list[ArticleRef], str | None]]:
        """Each storyline's sample members of its largest events (bounded) and its last full day;
        the members of all of them are read in one query (one per storyline cost ~1.4 ms each
        on PostgreSQL at 1M articles)."""
        samples: dict[int, list[int]] = {}
        last_day: dict[int, str | None] = {}
        for storyline_id in storyline_ids:
            events = sorted(self.store.events_of_storyline(storyline_id), key=lambda e: (-e.size, e.id))
            rowids: list[int] = []
            for event in events:
                rowids.extend(event.stats.get("sample", [])[: self.settings.storyline_core - len(rowids)])
                if len(rowids) >= self.settings.storyline_core:
                    break
            samples[storyline_id] = rowids
            lasts = (first_and_last(e.stats.get("days", []))[1] for e in events)
            last_day[storyline_id] = max((last for last in lasts if last), default=None)
        wanted = sorted({rowid for rowids in samples.values() for rowid in rowids})
        refs = {ref.rowid: ref for ref in self.store.get_refs(wanted)} if wanted else {}
        return {
            storyline_id: ([refs[r] for r in rowids if r in refs], last_day[storyline_id])
            for storyline_id, rowids in samples.items()
        }

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
        self, event: EventRecord, article: Article, vector: np.ndarray, day: str | None, rowid: int
    ) -> None:
        # How well the article fits the event as it stood: the label keeps, per language, the
        # title of the best-fitting report (the first one scores 0 and yields to any later one).
        closeness = float(vector @ event.centroid / (np.linalg.norm(event.centroid) or 1.0))
        sample = event.stats.get("sample", [])
        event.stats = merge_stats(
            event.stats, article_stats(article, day, closeness, dated_by_publication(article))
        )
        event.stats["sample"] = sample + [rowid] if len(sample) < EVENT_SAMPLE else sample
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
