"""Micro-batching of query embeddings: the queries that concurrent searches wait on, in one model call.

Under load the server's threads each need a query vector at once; one call for 32 short queries
costs a fraction of 32 calls (see BENCHMARKS.md, issue 11).  One worker thread takes whatever
queries are waiting (after a short collection window, so that queries arriving together share a
call), embeds them together and hands each caller its row.  Alone, a query waits only the window.
Batching must not change a vector, so the embedder given must be batch-invariant
(:class:`storylines.embed.row_quantized.BatchInvariantE5`).

Hand-written (about 40 lines): the micro-batching libraries found serve whole models over HTTP or
need asyncio, and the searches run in the server's thread pool.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np

from storylines.embed.cache import CachedEmbedder

if TYPE_CHECKING:
    from storylines.serve.search import QueryEmbedder

COLLECT_SECONDS = 0.002  # how long the worker waits for company once a query has arrived
MAX_BATCH = 64


class QueryBatcher:
    """A :class:`QueryEmbedder` that embeds concurrent callers' queries together."""

    def __init__(
        self, embedder: QueryEmbedder, collect_seconds: float = COLLECT_SECONDS, max_batch: int = MAX_BATCH
    ):
        self.embedder = embedder
        self.dim = embedder.dim
        self.collect_seconds = collect_seconds
        self.max_batch = max_batch
        self._waiting: queue.SimpleQueue[tuple[str, Future[np.ndarray]] | None] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._serve, name="query-batcher", daemon=True)
        self._worker.start()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text (rows in order), embedded alongside other threads' queries."""
        if not self._worker.is_alive():
            raise RuntimeError("the query batcher is closed")
        futures = []
        for text in texts:
            future: Future[np.ndarray] = Future()
            self._waiting.put((text, future))
            futures.append(future)
        return np.stack([future.result() for future in futures]) if futures else np.zeros((0, self.dim))

    def close(self) -> None:
        """Stop the worker once the queries already waiting are answered."""
        self._waiting.put(None)
        self._worker.join()

    def _serve(self) -> None:
        while (first := self._waiting.get()) is not None:
            batch, closing = self._collect(first)
            self._answer(batch)
            if closing:
                return

    def _collect(
        self, first: tuple[str, Future[np.ndarray]]
    ) -> tuple[list[tuple[str, Future[np.ndarray]]], bool]:
        """The first query and those arriving within the window (up to ``max_batch``); and whether
        the close signal came meanwhile."""
        batch = [first]
        deadline = time.monotonic() + self.collect_seconds
        while len(batch) < self.max_batch:
            try:
                item = self._waiting.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _answer(self, batch: list[tuple[str, Future[np.ndarray]]]) -> None:
        texts = list(dict.fromkeys(text for text, _ in batch))  # a query asked twice is embedded once
        try:
            vectors = self.embedder.embed_queries(texts)
        except Exception as error:  # noqa: BLE001 - every caller gets the model's error, the worker lives on
            for _, future in batch:
                future.set_exception(error)
            return
        row = {text: vector for text, vector in zip(texts, vectors, strict=True)}
        for text, future in batch:
            future.set_result(row[text])


def batched_query_embedder(embedder: QueryEmbedder) -> QueryEmbedder:
    """``embedder`` behind a :class:`QueryBatcher` where it is the cached ONNX int8 engine (whose
    batch-invariant twin gives the same vectors), else ``embedder`` itself: other engines' vectors
    may move with the batch they are in."""
    from storylines.embed.onnx_embedder import OnnxE5Embedder
    from storylines.embed.row_quantized import BatchInvariantE5

    inner = getattr(embedder, "inner", None)
    if not (isinstance(embedder, CachedEmbedder) and isinstance(inner, OnnxE5Embedder)):
        return embedder
    if inner.variant != "int8":
        return embedder
    invariant = BatchInvariantE5(threads=inner.threads, batch_size=MAX_BATCH)
    return QueryBatcher(CachedEmbedder(invariant, embedder.cache))
