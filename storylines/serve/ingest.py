"""Live ingest for the API: posted articles go through the one ingest service, one batch at a time.

SQLite takes one writer and embedding already fills every core, so a second concurrent batch
could only queue.  Instead of queueing (and holding connections open for minutes) the server
refuses it at once with 503 and ``Retry-After``; the caller retries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING

from storylines.article import Article, Skipped
from storylines.serve.models import ArticleIn, AssignmentOut, IngestResult, SkippedOut
from storylines.skips import printable, printable_text

if TYPE_CHECKING:
    from storylines.engine import Engine
    from storylines.service import IngestService


MAX_UPLOAD_ITEMS = 10_000  # articles (and skipped inputs) read from one upload; the rest are not read
MAX_UPLOAD_UNPACKED = 200 * 2**20  # bytes a compressed upload may unpack to


class IngestBusy(RuntimeError):
    """Another batch is being ingested right now."""


def article_from_input(item: ArticleIn) -> Article:
    """Lone surrogates (a JSON ``"\\ud800"``) become U+FFFD: neither SQLite nor a JSON response
    could encode them."""
    return Article(
        source=printable(item.source),
        title=printable_text(item.title),
        raw_text=printable_text(item.text),
        url=printable(item.url) if item.url else None,
        published_hint=printable(item.published) if item.published else None,
        lang_hint=printable(item.lang) if item.lang else None,
    )


class LiveIngest:
    """The server's write side: the engine (its own store connection) and the ingest service."""

    def __init__(self, engine: Callable[[], Engine], on_stored: Callable[[], None] = lambda: None):
        self._engine = engine
        self.on_stored = on_stored
        self._slot = threading.BoundedSemaphore(1)

    @cached_property
    def _service(self) -> IngestService:
        from storylines.service import IngestService

        return IngestService(self._engine())

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Hold the single ingest slot; raises :class:`IngestBusy` if a batch holds it."""
        if not self._slot.acquire(blocking=False):
            raise IngestBusy("another ingest is running; retry in a few seconds")
        try:
            yield
        finally:
            self._slot.release()

    def ingest(self, items: Iterable[Article | Skipped]) -> IngestResult:
        """Store and cluster the articles now; raises :class:`IngestBusy` if a batch is running.

        ``items`` is read lazily, one batch at a time, and at most :data:`MAX_UPLOAD_ITEMS` of
        them: an upload that unpacks to millions of records is cut there, with a reason.  Already
        stored articles are recognised before enrichment; the vector index takes the new articles
        only (it is snapshotted every ``save_index_every`` articles and on shutdown).
        """
        with self.reserved():
            report = self._service.run(_at_most(items, MAX_UPLOAD_ITEMS))
        self.on_stored()
        return IngestResult(
            stored=[
                AssignmentOut(
                    article_id=a.article_id,
                    event_id=a.event_id,
                    storyline_id=a.storyline_id,
                    duplicate_of=a.duplicate_of,
                )
                for a in report.assignments.values()
            ],
            already_stored=report.already_stored_ids,
            skipped=[SkippedOut(source=item.source, reason=item.reason) for item in report.skipped.first],
            skipped_total=report.skipped.total,
        )


def _at_most(items: Iterable[Article | Skipped], limit: int) -> Iterator[Article | Skipped]:
    iterator = iter(items)
    yield from islice(iterator, limit)
    if next(iterator, None) is not None:
        yield Skipped("upload", f"more than {limit:,} records in one upload: the rest were not read")
