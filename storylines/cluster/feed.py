"""Feeding a stream of read items through enrichment and the clusterer, with a tally.

Shared by ``storylines ingest``, ``storylines eval clusters`` and the ingest benchmark, so all
three measure and report the same thing.  Articles whose content is already stored are
recognised by their content hash before any enrichment or embedding, which makes a re-run
after a crash cheap: it only does the work the crash left undone.
"""

from __future__ import annotations

import importlib
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
    near_duplicates: int = 0  # stored, and grouped with the article they copy
    new_events: int = 0
    new_storylines: int = 0
    merges: int = 0  # events or storylines joined into one by a later article
    skipped: list[Skipped] = field(default_factory=list)
    seconds: Counter[str] = field(default_factory=Counter)  # read, enrich, embed, cluster, store
    assignments: dict[str, Assignment] = field(default_factory=dict)

    def count(self, assignment: Assignment) -> None:
        self.assignments[assignment.article_id] = assignment
        if assignment.already_stored:
            self.already_stored += 1
            return
        self.stored += 1
        self.near_duplicates += assignment.duplicate_of is not None
        self.new_events += assignment.new_event
        self.new_storylines += assignment.new_storyline
        self.merges += len(assignment.merged_events) + len(assignment.merged_storylines)


def _timed_batches(items: Iterable[Article | Skipped], size: int, seconds: Counter[str]) -> Iterator[list]:
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        batch = list(islice(iterator, size))
        seconds["read"] += time.perf_counter() - started
        if not batch:
            return
        yield batch


def feed(
    items: Iterable[Article | Skipped],
    clusterer: OnlineStoryClusterer,
    pipeline: Pipeline,
    batch_size: int = 16,
    on_batch: Callable[[IngestReport], None] | None = None,
    overlap: bool = True,
) -> IngestReport:
    """Enrich and place every new article; one store transaction per article keeps crashes harmless.

    With ``overlap``, reading and enrichment of the next batches run while this one is embedded (a
    thread, two batches ahead), so the stage timings in the report add up to more than the wall time."""
    report = IngestReport()
    seen: set[str] = set()

    def enrich_new(batch: list[Article | Skipped]) -> tuple[list[Article | Skipped], dict[str, Article]]:
        """Runs ahead in a thread (storylines/prefetch.py): enrich what the store does not hold yet."""
        started = time.perf_counter()
        enriched = {
            item.id: pipeline(item)
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
                report.skipped.append(item)
                continue
            report.read += 1
            if item.id in seen or clusterer.store.has_article(item.id):
                report.already_stored += 1
                continue
            seen.add(item.id)
            fresh.append(item)
        enriched = [enriched_by_id[article.id] for article in fresh]
        before = Counter(clusterer.timings)
        for assignment in clusterer.partial_fit(enriched):
            report.count(assignment)
        report.seconds.update(Counter(clusterer.timings) - before)
        if on_batch:
            on_batch(report)
    return report
