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
from storylines.prefetch import read_ahead
from storylines.skips import SkipTally, failure

if TYPE_CHECKING:
    from storylines.compare.types import Representation
    from storylines.engine import Engine
    from storylines.pipeline import Pipeline

logger = logging.getLogger(__name__)


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


def timed_batches(
    items: Iterable[Article | Skipped], size: int, seconds: Counter[str]
) -> Iterator[list[Article | Skipped]]:
    """Batches of ``size`` items, the time spent producing them (reading) added to ``seconds``."""
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        batch = list(islice(iterator, size))
        seconds["read"] += time.perf_counter() - started
        if not batch:
            return
        yield batch


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
        ``overlap``, reading and enrichment of the next batches run in a thread while this one is
        embedded (``storylines/prefetch.py``), so the stage times add up to more than the wall time.
        """
        report = IngestReport()
        seen: set[str] = set()

        def prepare(batch: list[Article | Skipped]) -> list[Article]:
            return self.enrich(self.fresh(batch, report, seen), report)

        batches = timed_batches(items, self.batch_size, report.seconds)
        for enriched in read_ahead(batches, prepare) if overlap else map(prepare, batches):
            self.place(enriched, report)
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

    def place(self, articles: list[Article], report: IngestReport) -> None:
        """Embed enriched articles in one batch (if that raises, one by one), then place them in order."""
        if not articles:
            return
        started = time.perf_counter()
        try:
            pairs = list(zip(articles, self.engine.comparer.represent_many(articles), strict=True))
        except Exception as error:
            logger.debug("batch embedding failed, embedding its articles one by one", exc_info=error)
            pairs = [pair for article in articles if (pair := self._represent_one(article, report))]
        report.seconds["embed"] += time.perf_counter() - started
        self.place_represented(pairs, report)

    def _represent_one(self, article: Article, report: IngestReport) -> tuple[Article, Representation] | None:
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
