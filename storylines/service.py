"""The one ingest service: read items → enrich → embed → place, used by every entry point.

``storylines ingest``, the API's POST and upload, ``eval clusters``, the tests and the
benchmarks all run :meth:`IngestService.run`, so they store, measure and report the same way.
Articles whose content is already stored are recognised by their content hash before any
enrichment or embedding, which makes a re-run after a crash cheap: it only does the work the
crash left undone.  Placement holds the store's placement lock per article, so several writers
on one PostgreSQL place one article at a time, each seeing the others' articles.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from storylines.article import Article, Skipped
from storylines.cluster.online import Assignment

if TYPE_CHECKING:
    from storylines.compare.types import Representation
    from storylines.engine import Engine
    from storylines.pipeline import Pipeline


@dataclass
class IngestReport:
    read: int = 0
    stored: int = 0
    already_stored: int = 0  # same content as a stored article (or earlier in this run)
    near_duplicates: int = 0  # stored, and grouped with the article they copy
    new_events: int = 0
    new_storylines: int = 0
    merges: int = 0  # events or storylines joined into one by a later article
    skipped: list[Skipped] = field(default_factory=list)
    seconds: Counter[str] = field(default_factory=Counter)  # read, enrich, embed, cluster, store
    assignments: dict[str, Assignment] = field(default_factory=dict)
    known_ids: list[str] = field(default_factory=list)  # ids of the already stored ones

    def count(self, assignment: Assignment) -> None:
        self.assignments[assignment.article_id] = assignment
        self.stored += 1
        self.near_duplicates += assignment.duplicate_of is not None
        self.new_events += assignment.new_event
        self.new_storylines += assignment.new_storyline
        self.merges += len(assignment.merged_events) + len(assignment.merged_storylines)

    def known(self, article_id: str) -> None:
        self.already_stored += 1
        self.known_ids.append(article_id)


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


class IngestService:
    """Feeds items through enrichment, the engine's comparer and its clusterer, with a tally."""

    def __init__(self, engine: Engine, pipeline: Pipeline | None = None, batch_size: int = 16):
        from storylines.pipeline import default_pipeline

        self.engine = engine
        self.pipeline = pipeline or default_pipeline()
        self.batch_size = batch_size

    def run(
        self,
        items: Iterable[Article | Skipped],
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Enrich and place every new article; one store transaction per article keeps crashes harmless."""
        report = IngestReport()
        seen: set[str] = set()
        for batch in timed_batches(items, self.batch_size, report.seconds):
            fresh = self.fresh(batch, report, seen)
            started = time.perf_counter()
            enriched = [self.pipeline(article) for article in fresh]
            report.seconds["enrich"] += time.perf_counter() - started
            self.place(enriched, report)
            if on_batch:
                on_batch(report)
        return report

    def fresh(self, batch: list[Article | Skipped], report: IngestReport, seen: set[str]) -> list[Article]:
        """The articles of ``batch`` not stored yet (nor earlier in this run); tallies the rest."""
        fresh: list[Article] = []
        for item in batch:
            if isinstance(item, Skipped):
                report.skipped.append(item)
                continue
            report.read += 1
            if item.id in seen or self.engine.store.has_article(item.id):
                report.known(item.id)
                continue
            seen.add(item.id)
            fresh.append(item)
        return fresh

    def place(self, articles: list[Article], report: IngestReport) -> None:
        """Embed enriched articles in one batch, then place them in order."""
        if not articles:
            return
        started = time.perf_counter()
        representations = self.engine.comparer.represent_many(articles)
        report.seconds["embed"] += time.perf_counter() - started
        self.place_represented(zip(articles, representations, strict=True), report)

    def place_represented(
        self, pairs: Iterable[tuple[Article, Representation]], report: IngestReport
    ) -> None:
        """Place articles whose representations are computed (here or on Dask workers)."""
        store, clusterer = self.engine.store, self.engine.clusterer
        before = Counter(clusterer.timings)
        for article, representation in pairs:
            with store.placement():
                if store.has_article(article.id):  # another writer stored it meanwhile
                    report.known(article.id)
                    continue
                report.count(clusterer.place(article, representation))
        report.seconds.update(Counter(clusterer.timings) - before)
