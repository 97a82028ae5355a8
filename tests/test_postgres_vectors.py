"""PostgreSQL's vector tables: new vectors wait unindexed beside the HNSW graph until a background
thread moves them in; searches read both, so nothing is missed or seen twice."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from storylines.cluster.online import OnlineStoryClusterer
from storylines.store import postgres
from storylines.store.postgres import PostgresStore, move_to_graph
from tests.conftest import fresh_postgres
from tests.test_cluster_double import DIM, CosineComparer, word_vector
from tests.test_store_conformance import CALL, CHEESE, CHINESE


@pytest.fixture
def url(postgres_server: str) -> str:
    return fresh_postgres(postgres_server)


@pytest.fixture
def graph_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches go through the graph and the waiting table even in a tiny store."""
    monkeypatch.setattr(postgres, "EXACT_SEARCH_LIMIT", 0)


class IdleFiller:
    """Moves nothing: the vectors stay in ``recent_vectors`` until a test moves them."""

    def __init__(self, url: str) -> None:
        self.url = url

    def wake(self) -> None:
        pass

    def stop(self) -> None:
        pass


@pytest.fixture
def idle_filler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "GraphFiller", IdleFiller)


def count(store: PostgresStore, table: str) -> int:
    return int(store._one(f"SELECT count(*) FROM {table}"))


def wait_until_moved(store: PostgresStore, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while count(store, "recent_vectors") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count(store, "recent_vectors") == 0


def own_neighbour(store: PostgresStore, text: str) -> list[int]:
    ids, _ = store.vector_index(DIM).search(word_vector(text), 3)
    return ids.tolist()


@pytest.fixture
def store(url: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(url)
    yield opened
    opened.close()


@pytest.mark.usefixtures("graph_search")
def test_the_filler_moves_new_vectors_into_the_graph(store: PostgresStore) -> None:
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL, CHEESE])
    wait_until_moved(store)
    assert count(store, "article_vectors") == 2
    call = store.get_article(CALL.id)
    assert own_neighbour(store, f"{CALL.title} {CALL.body}")[0] == call.rowid
    assert store.check_integrity() == []


@pytest.mark.usefixtures("graph_search", "idle_filler")
def test_a_vector_is_found_while_it_waits_and_after_it_moves_and_never_twice(store: PostgresStore) -> None:
    clusterer = OnlineStoryClusterer(CosineComparer(), store)
    clusterer.partial_fit([CALL, CHEESE])
    assert move_to_graph(store._db, 10) == 2
    clusterer.partial_fit([CHINESE])
    chinese = store.get_article(CHINESE.id).rowid
    assert count(store, "recent_vectors") == 1
    waiting = own_neighbour(store, f"{CHINESE.title} {CHINESE.body}")
    assert move_to_graph(store._db, 10) == 1
    moved = own_neighbour(store, f"{CHINESE.title} {CHINESE.body}")
    assert waiting == moved and waiting[0] == chinese and len(set(moved)) == len(moved) == 3
    assert store.check_integrity() == []


def test_vectors_left_waiting_are_moved_by_the_next_process(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres, "GraphFiller", IdleFiller)
    first = PostgresStore(url)
    OnlineStoryClusterer(CosineComparer(), first).partial_fit([CALL, CHEESE, CHINESE])
    first.close()
    monkeypatch.undo()
    second = PostgresStore(url)
    try:
        assert count(second, "recent_vectors") == 3
        second.vector_index(DIM)  # opening the index starts the filler
        wait_until_moved(second)
        assert count(second, "article_vectors") == 3
    finally:
        second.close()


def test_a_store_with_vectors_in_its_articles_table_is_moved_to_the_new_layout(url: str) -> None:
    store = PostgresStore(url)
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL, CHEESE, CHINESE])
    rowids = store.rowids().tolist()
    vectors, before = store.vectors_of(rowids), own_neighbour(store, "Putin Obama Syria")
    store.close()
    with psycopg.connect(url, autocommit=True) as old:  # the layout of stores written before the move
        old.execute("ALTER TABLE articles ADD COLUMN vector halfvec")
        old.execute("UPDATE articles a SET vector = v.vector FROM vector_rows v WHERE v.rowid = a.rowid")
        old.execute("ALTER TABLE articles ALTER COLUMN vector SET NOT NULL")
        old.execute("DELETE FROM article_vectors")
        old.execute("DELETE FROM recent_vectors")
        hnsw = f"USING hnsw ((vector::halfvec({DIM})) halfvec_ip_ops)"
        old.execute(f"CREATE INDEX articles_vector_{DIM} ON articles {hnsw}")
    reopened = PostgresStore(url)
    try:
        column = "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema()"
        assert reopened._one(f"{column} AND table_name = 'articles' AND column_name = 'vector'") == 0
        assert count(reopened, "article_vectors") == 3 and count(reopened, "recent_vectors") == 0
        assert np.array_equal(reopened.vectors_of(rowids), vectors)
        assert own_neighbour(reopened, "Putin Obama Syria") == before
        assert reopened.check_integrity() == []
    finally:
        reopened.close()
