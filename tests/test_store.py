"""SQLite store and vector index: idempotence, duplicates, history, search, index rebuild."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from storylines.article import Article, Entity
from storylines.cluster.online import OnlineStoryClusterer
from storylines.store import SQLiteStore, open_store
from storylines.store.index import VectorIndex, index_path
from tests.test_cluster_double import CosineComparer


def news(title: str, text: str, day: str | None = "2016-07-06", **extra: object) -> Article:
    return Article(source=f"{title[:10]}.txt", title=title, raw_text=text, published=day, lang="en", **extra)


CALL = news(
    "Putin and Obama discuss Syria by phone", "Kremlin says the presidents agreed on military coordination"
)
CALL_COPY = news(
    "Putin and Obama discuss Syria by phone", "Kremlin says the presidents agreed on military coordination."
)
CHEESE = news("Cheese prices fall", "Dairy farmers in Normandy protest against supermarket margins")


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    opened = SQLiteStore(str(tmp_path / "t.db"))
    yield opened
    opened.close()


def test_ingest_is_idempotent(store: SQLiteStore) -> None:
    clusterer = OnlineStoryClusterer(CosineComparer(), store)
    first = clusterer.partial_fit([CALL, CHEESE, CALL])
    again = clusterer.partial_fit([CHEESE, CALL])
    assert store.counts().articles == 2
    assert [a.already_stored for a in again] == [True, True]
    assert (again[1].event_id, again[1].storyline_id) == (first[0].event_id, first[0].storyline_id)
    assert first[0] == first[2]
    assert store.check_integrity() == []


def test_near_duplicate_is_grouped_not_dropped(store: SQLiteStore) -> None:
    clusterer = OnlineStoryClusterer(CosineComparer(), store)
    original, copy = clusterer.partial_fit([CALL, CALL_COPY])
    assert copy.duplicate_of == CALL.id and not copy.already_stored
    assert copy.event_id == original.event_id
    assert store.counts().articles == 2 and store.counts().duplicates == 1
    assert store.get_article(CALL_COPY.id).duplicate_of == CALL.id


def test_article_round_trips_with_enrichment(store: SQLiteStore) -> None:
    rich = news(
        "Peskov on Syria", "Coordination with the US", entities=[Entity("Q:peskov", "Peskov", "person")]
    )
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([rich])
    stored = store.get_article(rich.id)
    assert stored.article.entities == rich.entities and stored.day == "2016-07-06"
    assert store.get_representation(rich.id).startswith(rich.id.encode())


def test_membership_history_records_moves(store: SQLiteStore) -> None:
    storyline = store.create_storyline()
    with store.transaction():
        first = store.create_event(storyline, np.zeros(4, dtype=np.float32), {})
        second = store.create_event(storyline, np.zeros(4, dtype=np.float32), {})
        store.add_article(CALL, b"r", np.zeros(4), "2016-07-06")
        store.assign_article(CALL.id, second, "new event")
        store.merge_events(second, first)
    reasons = [(c.target_id, c.reason) for c in store.history(CALL.id)]
    assert reasons == [(second, "new event"), (first, f"event {second} merged")]
    assert store.get_article(CALL.id).event_id == first
    assert [c.reason for c in store.history(f"event:{first}")] == ["new"]


def test_failed_transaction_leaves_nothing(store: SQLiteStore) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_article(CALL, b"r", np.zeros(4), None)
        raise RuntimeError("crash between writes")
    assert not store.has_article(CALL.id) and store.counts().articles == 0


def test_keyword_search_over_title_and_text(store: SQLiteStore) -> None:
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL, CHEESE])
    hits = store.search("normandy")
    assert [h.article_id for h in hits] == [CHEESE.id] and "[Normandy]" in hits[0].snippet
    assert store.search("kremlin OR dairy", limit=1)[0].score > 0


def _corpus(n: int) -> list[Article]:
    return [news(f"Report {i}", f"word{i} word{i + 1} shared{i % 7}", day=None) for i in range(n)]


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
    index.save(index_path(second.path), first.get_meta("store_uuid"))
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


def test_store_refuses_vectors_of_another_model(store: SQLiteStore) -> None:
    OnlineStoryClusterer(CosineComparer(), store)
    with pytest.raises(ValueError, match="test-cosine-32"):
        OnlineStoryClusterer(CosineComparer(dim=32), store)
