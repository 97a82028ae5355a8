"""SQLite's vector index: a faiss file beside the store, saved, caught up and rebuilt.

What every backend must do is checked in ``test_store_conformance.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from storylines.article import Article
from storylines.cluster.online import OnlineStoryClusterer
from storylines.store import open_store
from storylines.store.index import VectorIndex, index_path
from tests.test_cluster_double import CosineComparer


def news(title: str, text: str) -> Article:
    return Article(source=f"{title[:10]}.txt", title=title, raw_text=text, lang="en")


def _corpus(n: int) -> list[Article]:
    return [
        news(
            f"Report {i}",
            f"word{i} word{i + 1} shared{i % 7}",
        )
        for i in range(n)
    ]


def test_index_is_saved_caught_up_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = open_store(path)
    clusterer = OnlineStoryClusterer(CosineComparer(), store)
    clusterer.partial_fit(_corpus(30))
    clusterer.close()
    assert Path(index_path(str(path))).exists()
    clusterer.partial_fit(_corpus(40)[30:])  # not saved: as after a crash
    reopened = VectorIndex.open_for(store, CosineComparer().dim)
    assert reopened.ntotal == 40 and reopened.max_id == store.max_rowid()
    probe = CosineComparer().represent_many([_corpus(40)[35]])[0].vector
    assert reopened.search(probe, 1)[0][0] == store.get_article(_corpus(40)[35].id).rowid
    Path(index_path(str(path))).unlink()
    assert VectorIndex.open_for(store, CosineComparer().dim).ntotal == 40


def test_index_of_another_store_is_not_trusted(tmp_path: Path) -> None:
    first, second = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")
    OnlineStoryClusterer(CosineComparer(), first).partial_fit(_corpus(5))
    index = VectorIndex.open_for(first, CosineComparer().dim)
    index.save(index_path(second.url), first.get_meta("store_uuid"))
    assert VectorIndex.open_for(second, CosineComparer().dim).ntotal == 0


def test_index_recall_against_exact_search() -> None:
    rng = np.random.default_rng(0)
    topics = rng.standard_normal((300, 384)).astype(np.float32)
    vectors = topics[rng.integers(0, 300, 3000)] + 1.2 * rng.standard_normal((3000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(384)
    index.add(np.arange(1, 3001), vectors)
    queries = vectors[:100]
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10] + 1
    found = [set(index.search(q, 10)[0]) for q in queries]
    recall = np.mean([len(f & set(e)) / 10 for f, e in zip(found, exact, strict=True)])
    assert recall >= 0.9
    assert index.nbytes() / 3000 <= 1024
