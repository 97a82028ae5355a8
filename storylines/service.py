"""The one ingest service: read items → enrich → embed → place, used by every entry point.

``storylines ingest``, the API's POST and upload, ``eval clusters``, the tests and the
benchmarks all run :meth:`IngestService.run`, so they store, measure and report the same way.
Articles whose content is already stored are recognised by their content hash before any
enrichment or embedding, which makes a re-run after a crash cheap: it only does the work the
crash left undone.  Placement holds the store's placement lock per article, so several writers
on one PostgreSQL place one article at a time, each seeing the others' articles.

A record that fails at any stage is skipped with a one-line reason and the run goes on: an
enrichment stage that raises skips its article, a batch whose embedding raises is embedded
again article by article, and an article whose placement raises is rolled back (it is its own
transaction) and skipped.  Skips are tallied in a bounded :class:`~storylines.skips.SkipTally`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from storylines.article import Article, Skipped
from storylines.cluster.online import Assignment
from storylines.prefetch import staged
from storylines.skips import KEPT_REASONS, SkipTally, failure

if TYPE_CHECKING:
    from storylines.compare.types import Representation
    from storylines.engine import Engine
    from storylines.pipeline import Pipeline

logger = logging.getLogger(__name__)
Represented = tuple[Article, "Representation"]


@dataclass
class IngestReport:
    read: int = 0
    stored: int = 0
    already_stored: int = 0  # same content as a stored article (or earlier in this run)
    already_stored_ids: list[str] = field(default_factory=list)
    near_duplicates: int = 0  # stored, and grouped with the article they copy
    new_events: int = 0
    new_storylines: int = 0
    skipped: SkipTally = field(default_factory=SkipTally)
    seconds: Counter[str] = field(default_factory=Counter)  # read, enrich, embed, cluster, store
    assignments: dict[str, Assignment] = field(default_factory=dict)

    def count(self, assignment: Assignment) -> None:
        if assignment.already_stored:
            self.known(assignment.article_id)
            return
        self.assignments[assignment.article_id] = assignment
        self.stored += 1
        self.near_duplicates += assignment.duplicate_of is not None
        self.new_events += assignment.new_event
        self.new_storylines += assignment.new_storyline

    def known(self, article_id: str) -> None:
        self.already_stored += 1
        self.already_stored_ids.append(article_id)

    def merge(self, part: IngestReport) -> None:
        """Adds the tally of one batch (counts, skips, seconds) to this report."""
        self.read += part.read
        self.stored += part.stored
        self.already_stored += part.already_stored
        self.already_stored_ids += part.already_stored_ids
        self.near_duplicates += part.near_duplicates
        self.new_events += part.new_events
        self.new_storylines += part.new_storylines
        skipped, more = self.skipped, part.skipped
        skipped.total += more.total
        skipped.kinds.update(more.kinds)
        skipped.first += more.first[: KEPT_REASONS - len(skipped.first)]
        self.seconds.update(part.seconds)
        self.assignments.update(part.assignments)


def timed_batches(items: Iterable[Article | Skipped], size: int) -> Iterator[_Batch]:
    """Batches of ``size`` items, each with its own tally holding the time spent reading it."""
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        batch = list(islice(iterator, size))
        if not batch:
            return
        tally = IngestReport()
        tally.seconds["read"] += time.perf_counter() - started
        yield _Batch(tally, batch)


@dataclass
class _Batch:
    """One batch on its way through the stages with its own tally, merged into the run's report by
    the placing thread alone: stages running in other threads never write a shared report."""

    tally: IngestReport
    items: list[Article | Skipped]
    articles: list[Article] = field(default_factory=list)
    pairs: list[Represented] = field(default_factory=list)


def enrich_one(pipeline: Pipeline, article: Article) -> Article | Skipped:
    """One article through the enrichment stages; a stage that raises skips only this article."""
    try:
        return pipeline(article)
    except Exception as error:  # MemoryError and RecursionError included: the next article may be fine
        logger.debug("enrichment failed on %s", article.source, exc_info=error)
        return Skipped(article.source, failure("enrichment", error))


class IngestService:
    """Feeds items through enrichment, the engine's comparer and its clusterer, with a tally."""

    def __init__(self, engine: Engine, pipeline: Pipeline | None = None, batch_size: int = 16):
        from storylines.pipeline import default_pipeline

        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, not {batch_size}")
        self.engine = engine
        self.pipeline = pipeline or default_pipeline()
        self.batch_size = batch_size

    def run(
        self,
        items: Iterable[Article | Skipped],
        on_batch: Callable[[IngestReport], None] | None = None,
        overlap: bool = True,
    ) -> IngestReport:
        """Enrich and place every new article; one store transaction per article keeps crashes harmless.

        A record that fails at any stage is skipped with its reason and the run goes on.  With
        ``overlap`` the stages form a pipeline (``storylines/prefetch.py``): one thread reads and
        enriches, one embeds the batch before, and this one places the batch before that, so the
        stage times add up to more than the wall time.  Batches are placed in input order and embedded
        in the same groups either way, so the store ends the same with or without it.
        """
        report = IngestReport()
        seen: set[str] = set()

        def prepare(batch: _Batch) -> _Batch:
            batch.articles = self.enrich(self.fresh(batch.items, batch.tally, seen), batch.tally)
            return batch

        def represent(batch: _Batch) -> _Batch:
            batch.pairs = self.represent(batch.articles, batch.tally)
            return batch

        batches = timed_batches(items, self.batch_size)
        for batch in staged(batches, [prepare, represent], threads=overlap):
            report.merge(batch.tally)
            self.place_represented(batch.pairs, report)
            if on_batch:
                on_batch(report)
        return report

    def fresh(self, batch: list[Article | Skipped], report: IngestReport, seen: set[str]) -> list[Article]:
        """The articles of ``batch`` not stored yet (nor earlier in this run); tallies the rest."""
        fresh: list[Article] = []
        for item in batch:
            if isinstance(item, Skipped):
                report.skipped.add(item)
                continue
            report.read += 1
            if item.id in seen or self.engine.store.has_article(item.id):
                report.known(item.id)
                continue
            seen.add(item.id)
            fresh.append(item)
        return fresh

    def enrich(self, articles: list[Article], report: IngestReport) -> list[Article]:
        """The enriched articles; the ones a stage raised on are tallied as skipped."""
        started = time.perf_counter()
        enriched: list[Article] = []
        for article in articles:
            result = enrich_one(self.pipeline, article)
            if isinstance(result, Skipped):
                report.skipped.add(result)
            else:
                enriched.append(result)
        report.seconds["enrich"] += time.perf_counter() - started
        return enriched

    def represent(self, articles: list[Article], report: IngestReport) -> list[Represented]:
        """Articles paired with their representations, embedded in one batch; if that raises, one by
        one, and the articles that still raise are tallied as skipped."""
        if not articles:
            return []
        started = time.perf_counter()
        try:
            pairs = list(zip(articles, self.engine.comparer.represent_many(articles), strict=True))
        except Exception as error:
            logger.debug("batch embedding failed, embedding its articles one by one", exc_info=error)
            pairs = [pair for article in articles if (pair := self._represent_one(article, report))]
        report.seconds["embed"] += time.perf_counter() - started
        return pairs

    def _represent_one(self, article: Article, report: IngestReport) -> Represented | None:
        try:
            (representation,) = self.engine.comparer.represent_many([article])
        except Exception as error:
            logger.debug("embedding failed on %s", article.source, exc_info=error)
            report.skipped.add(Skipped(article.source, failure("embedding", error)))
            return None
        return article, representation

    def place_represented(
        self, pairs: Iterable[tuple[Article, Representation]], report: IngestReport
    ) -> None:
        """Place articles whose representations are computed (here or on Dask workers); an article
        whose placement raises is rolled back and skipped, the others are placed.  First the vector
        index takes in what other writers stored meanwhile."""
        store, clusterer = self.engine.store, self.engine.clusterer
        self.engine.index.catch_up()
        before = Counter(clusterer.timings)
        for article, representation in pairs:
            try:
                with store.placement():
                    if store.has_article(article.id):  # another writer stored it meanwhile
                        report.known(article.id)
                        continue
                    report.count(clusterer.place(article, representation))
            except Exception as error:
                logger.debug("storing failed on %s", article.source, exc_info=error)
                report.skipped.add(Skipped(article.source, failure("storing", error)))
        report.seconds.update(Counter(clusterer.timings) - before)
