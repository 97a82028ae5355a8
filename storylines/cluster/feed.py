"""Feeding a stream of read items through enrichment and the clusterer, with a tally.

Shared by ``storylines ingest``, ``storylines eval clusters`` and the ingest benchmark, so all
three measure and report the same thing.  Articles whose content is already stored are
recognised by their content hash before any enrichment or embedding, which makes a re-run
after a crash cheap: it only does the work the crash left undone.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from storylines.article import Article, Skipped
from storylines.cluster.online import Assignment, OnlineStoryClusterer
from storylines.compare.types import Comparer
from storylines.pipeline import Pipeline
from storylines.prefetch import read_ahead
from storylines.skips import SkipTally, failure

logger = logging.getLogger(__name__)


def configured_comparer() -> Comparer:
    """The default comparer, or the class named by $STORYLINES_COMPARER ("module:Class").

    The variable plugs in another judge (a bigger model, or a cheap one for crash tests)
    without touching the code; unset, the product uses ``storylines.compare.load_comparer``.
    """
    spec = os.environ.get("STORYLINES_COMPARER")
    if spec:
        module, _, name = spec.partition(":")
        return getattr(importlib.import_module(module), name)()
    from storylines.compare import load_comparer

    return load_comparer()


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
        self.assignments[assignment.article_id] = assignment
        if assignment.already_stored:
            self.already_stored += 1
            self.already_stored_ids.append(assignment.article_id)
            return
        self.stored += 1
        self.near_duplicates += assignment.duplicate_of is not None
        self.new_events += assignment.new_event
        self.new_storylines += assignment.new_storyline


def _timed_batches(items: Iterable[Article | Skipped], size: int, seconds: Counter[str]) -> Iterator[list]:
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        batch = list(islice(iterator, size))
        seconds["read"] += time.perf_counter() - started
        if not batch:
            return
        yield batch


def _enrich_one(pipeline: Pipeline, article: Article) -> Article | Skipped:
    """One article through the enrichment stages; a stage that raises skips only this article."""
    try:
        return pipeline(article)
    except Exception as error:  # MemoryError and RecursionError included: the next article may be fine
        logger.debug("enrichment failed on %s", article.source, exc_info=error)
        return Skipped(article.source, failure("enrichment", error))


def _place_one(clusterer: OnlineStoryClusterer, article: Article, fresh: bool) -> Assignment | Skipped:
    """Embed and store one article on its own, after its batch failed.

    ``fresh``: the article was not stored before the batch, so finding it stored now means
    the failed batch stored it (each article is its own transaction) and it counts as new.
    """
    try:
        (assignment,) = clusterer.partial_fit([article])
    except Exception as error:
        logger.debug("storing failed on %s", article.source, exc_info=error)
        return Skipped(article.source, failure("storing", error))
    return dataclasses.replace(assignment, already_stored=False) if fresh else assignment


def _place(clusterer: OnlineStoryClusterer, articles: list[Article]) -> list[Assignment | Skipped]:
    """The batch at once (embedding is batched); if anything in it raises, one by one."""
    try:
        return list(clusterer.partial_fit(articles))
    except Exception as error:
        logger.debug("batch failed, placing its articles one by one", exc_info=error)
        return [_place_one(clusterer, article, fresh=True) for article in articles]


def feed(
    items: Iterable[Article | Skipped],
    clusterer: OnlineStoryClusterer,
    pipeline: Pipeline,
    batch_size: int = 16,
    on_batch: Callable[[IngestReport], None] | None = None,
    overlap: bool = True,
) -> IngestReport:
    """Enrich and place every new article; one store transaction per article keeps crashes harmless.

    A record that fails at any stage is skipped with its reason and the run goes on.
    Before each batch the vector index takes in what other writers stored meanwhile.
    With ``overlap``, reading and enrichment of the next batches run while this one is embedded (a
    thread, two batches ahead), so the stage timings in the report add up to more than the wall time.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, not {batch_size}")
    report = IngestReport()
    seen: set[str] = set()

    def enrich_new(
        batch: list[Article | Skipped],
    ) -> tuple[list[Article | Skipped], dict[str, Article | Skipped]]:
        """Runs ahead in a thread (storylines/prefetch.py): enrich what the store does not hold yet."""
        started = time.perf_counter()
        enriched = {
            item.id: _enrich_one(pipeline, item)
            for item in batch
            if isinstance(item, Article) and not clusterer.store.has_article(item.id)
        }
        report.seconds["enrich"] += time.perf_counter() - started
        return batch, enriched

    batches = _timed_batches(items, batch_size, report.seconds)
    for batch, enriched_by_id in read_ahead(batches, enrich_new) if overlap else map(enrich_new, batches):
        fresh: list[Article] = []
        for item in batch:
            if isinstance(item, Skipped):
                report.skipped.add(item)
                continue
            report.read += 1
            if item.id in seen or clusterer.store.has_article(item.id):
                report.already_stored += 1
                report.already_stored_ids.append(item.id)
                continue
            seen.add(item.id)
            fresh.append(item)
        enriched: list[Article] = []
        for article in fresh:
            result = enriched_by_id[article.id]
            if isinstance(result, Skipped):
                report.skipped.add(result)
            else:
                enriched.append(result)
        before = Counter(clusterer.timings)
        clusterer.index.catch_up(clusterer.store)
        for placed in _place(clusterer, enriched) if enriched else []:
            if isinstance(placed, Skipped):
                report.skipped.add(placed)
            else:
                report.count(placed)
        report.seconds.update(Counter(clusterer.timings) - before)
        if on_batch:
            on_batch(report)
    return report
