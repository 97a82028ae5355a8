"""Distributed batch ingest on Dask: the CPU stages on the workers, placement here, in order.

Reading, cleaning, enrichment and embedding are independent per article, so they run on Dask
workers, one group of input files per task (a file is the unit of distribution: split very
large files to spread them).  Placement decides against everything stored before, so it stays
in this process, the one writer, and takes the workers' results in submission order: the same
input gives the same clusters as ``IngestService.run``.  At most ``2 × workers`` tasks are in
flight, which bounds memory; workers skip articles the store already holds, so a re-run only
does the work a crash left undone.

Why Dask: a ``LocalCluster`` starts in 1–3 s from a pip install, the same code runs on an
existing cluster (``tcp://host:8786``), and futures over plain Python functions need no
dataframe or schema.  Ray and Spark were slower to start and heavier to install.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storylines.article import Article, Skipped

if TYPE_CHECKING:
    from distributed import Client

    from storylines.engine import Engine
    from storylines.service import IngestReport, IngestService

FILES_PER_TASK = 32
BYTES_PER_TASK = 4 << 20


@dataclass
class Prepared:
    """What one worker task sends back: articles ready to place, and the tally of the rest."""

    articles: list[tuple[Article, bytes]] = field(default_factory=list)  # enriched, representation
    skipped: list[Skipped] = field(default_factory=list)
    known_ids: list[str] = field(default_factory=list)
    read: int = 0
    seconds: Counter[str] = field(default_factory=Counter)


def comparer_spec(comparer: Any) -> str:
    """How a worker builds the same comparer: ``module:Class``, constructed without arguments."""
    return f"{type(comparer).__module__}:{type(comparer).__qualname__}"


@cache
def _worker_parts(db: str, spec: str, reference_date: str | None) -> tuple[Any, Any, Any]:
    """Per worker process: a store connection (to skip stored articles), pipeline and comparer."""
    from storylines.engine import comparer_from_spec
    from storylines.pipeline import default_pipeline
    from storylines.store import open_store

    pipeline = default_pipeline(date.fromisoformat(reference_date) if reference_date else None)
    return open_store(db), pipeline, comparer_from_spec(spec)


def prepare_files(paths: list[str], db: str, spec: str, reference_date: str | None = None) -> Prepared:
    """Read, enrich and embed the new articles of some files (runs on a worker)."""
    from storylines.ingest.sources import read_file
    from storylines.service import enrich_one

    store, pipeline, comparer = _worker_parts(db, spec, reference_date)
    prepared = Prepared()
    started = time.perf_counter()
    fresh: dict[str, Article] = {}
    for path in paths:
        for item in read_file(Path(path)):
            if isinstance(item, Skipped):
                prepared.skipped.append(item)
                continue
            prepared.read += 1
            if item.id in fresh or store.has_article(item.id):
                prepared.known_ids.append(item.id)
            else:
                fresh[item.id] = item
    enrich_started = time.perf_counter()
    enriched: list[Article] = []
    for article in fresh.values():
        result = enrich_one(pipeline, article)
        if isinstance(result, Skipped):
            prepared.skipped.append(result)
        else:
            enriched.append(result)
    embed_started = time.perf_counter()
    representations = comparer.represent_many(enriched) if enriched else []
    prepared.articles = [(a, r.to_bytes()) for a, r in zip(enriched, representations, strict=True)]
    prepared.seconds.update(
        read=enrich_started - started,
        enrich=embed_started - enrich_started,
        embed=time.perf_counter() - embed_started,
    )
    return prepared


def file_groups(paths: Iterable[str], exclude: Collection[str] = ()) -> Iterator[list[str] | Skipped]:
    """Input files in groups of at most FILES_PER_TASK files or about BYTES_PER_TASK bytes,
    leaving out ``exclude`` (absolute paths: the store's own files)."""
    from storylines.ingest.sources import expand_path

    group: list[str] = []
    size = 0
    for path in paths:
        for found in expand_path(path):
            if isinstance(found, Skipped):
                yield found
                continue
            if str(found.resolve()) in exclude:
                continue
            group.append(str(found))
            size += found.stat().st_size if found.is_file() else 0
            if len(group) >= FILES_PER_TASK or size >= BYTES_PER_TASK:
                yield group
                group, size = [], 0
    if group:
        yield group


def open_client(workers: int | None = None, scheduler: str | None = None) -> Client:
    """A client of the scheduler at ``scheduler``, or of a new local cluster of ``workers``
    single-threaded processes (Dask pins BLAS/OpenMP to one thread in each)."""
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )
    return Client(cluster)


def run_distributed(
    service: IngestService,
    paths: Iterable[str],
    client: Client,
    reference_date: str | None = None,
    exclude: Collection[str] = (),
    on_batch: Callable[[IngestReport], None] | None = None,
) -> IngestReport:
    """Ingest files with the CPU stages on ``client``'s workers and placement here, in order."""
    from storylines.service import IngestReport
    from storylines.store import is_postgres

    engine: Engine = service.engine
    spec = comparer_spec(engine.comparer)
    window = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    report = IngestReport()
    pending: deque[Any] = deque()
    groups = file_groups(paths, exclude)
    db = engine.url if is_postgres(engine.url) else str(Path(engine.url).resolve())

    def submit_next() -> bool:
        for group in groups:
            if isinstance(group, Skipped):
                report.skipped.add(group)
                continue
            pending.append(client.submit(prepare_files, group, db, spec, reference_date, pure=False))
            return True
        return False

    while len(pending) < window and submit_next():
        pass
    while pending:
        prepared: Prepared = pending.popleft().result()
        submit_next()
        report.read += prepared.read
        for item in prepared.skipped:
            report.skipped.add(item)
        for article_id in prepared.known_ids:
            report.known(article_id)
        report.seconds.update(prepared.seconds)
        comparer = engine.comparer
        service.place_represented(
            ((article, comparer.representation_from_bytes(blob)) for article, blob in prepared.articles),
            report,
        )
        if on_batch:
            on_batch(report)
    return report
