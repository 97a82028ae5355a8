"""One conformance suite for every store backend (the scikit-learn ``estimator_checks`` idea).

Each test runs against SQLite and PostgreSQL (``store_url`` is parametrised in conftest): the
engine, the clusterer, search and the API rely only on what is checked here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from storylines.article import Article, Entity
from storylines.cluster.online import OnlineStoryClusterer
from storylines.engine import Engine
from storylines.service import IngestService
from storylines.settings import SettingsError
from storylines.store import Store, TextQuery, VectorIndex, open_store
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
CHINESE = Article(
    source="zh.txt", title="普京与奥巴马通电话", raw_text="普京和奥巴马讨论了叙利亚问题。", lang="zh"
)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def test_ingest_is_idempotent(store: Store) -> None:
    clusterer = OnlineStoryClusterer(CosineComparer(), store)
    first = clusterer.partial_fit([CALL, CHEESE, CALL])
    again = clusterer.partial_fit([CHEESE, CALL])
    assert store.counts().articles == 2
    assert [a.already_stored for a in again] == [True, True]
    assert (again[1].event_id, again[1].storyline_id) == (first[0].event_id, first[0].storyline_id)
    assert first[0] == first[2]
    assert store.check_integrity() == []


def test_near_duplicate_is_grouped_not_dropped(store: Store) -> None:
    clusterer = OnlineStoryClusterer(CosineComparer(), store)
    original, copy = clusterer.partial_fit([CALL, CALL_COPY])
    assert copy.duplicate_of == CALL.id and not copy.already_stored
    assert copy.event_id == original.event_id
    assert store.counts().articles == 2 and store.counts().duplicates == 1
    assert store.get_article(CALL_COPY.id).duplicate_of == CALL.id


def test_article_round_trips_with_enrichment(store: Store) -> None:
    rich = news(
        "Peskov on Syria", "Coordination with the US", entities=[Entity("Q:peskov", "Peskov", "person")]
    )
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([rich])
    stored = store.get_article(rich.id)
    assert stored.article.entities == rich.entities and stored.day == "2016-07-06"
    assert store.get_representation(rich.id).startswith(rich.id.encode())
    (ref,) = store.get_refs([stored.rowid])
    assert (ref.id, ref.event_id, ref.storyline_id) == (rich.id, stored.event_id, stored.storyline_id)
    assert store.get_refs([]) == [] and store.get_refs([stored.rowid + 99]) == []


def test_membership_history_records_moves(store: Store) -> None:
    with store.transaction():
        storyline = store.create_storyline()
        first = store.create_event(storyline, np.zeros(4, dtype=np.float32), {})
        second = store.create_event(storyline, np.zeros(4, dtype=np.float32), {})
        store.add_article(CALL, b"r", np.zeros(4), "2016-07-06")
        store.assign_article(CALL.id, second, "new event")
        store.merge_events(second, first)
    reasons = [(c.target_id, c.reason) for c in store.history(CALL.id)]
    assert reasons == [(second, "new event"), (first, f"event {second} merged")]
    assert store.get_article(CALL.id).event_id == first
    assert [c.reason for c in store.history(f"event:{first}")] == ["new"]
    assert store.get_event(second).merged_into == first


def test_events_move_between_storylines_and_duplicates_regroup(store: Store) -> None:
    with store.transaction():
        first, second = store.create_storyline(), store.create_storyline()
        event = store.create_event(first, np.zeros(4, dtype=np.float32), {})
        store.add_article(CALL, b"r", np.zeros(4), None)
        store.add_article(CALL_COPY, b"r", np.zeros(4), None, duplicate_of=CALL.id)
        store.assign_article(CALL.id, event, "new event")
        store.assign_article(CALL_COPY.id, event, "near-duplicate")
        store.move_event(event, second, "reclustered")
        store.set_duplicate_of(CALL_COPY.id, None)
        store.set_duplicate_of(CALL.id, CALL_COPY.id)
    assert store.get_event(event).storyline_id == second and store.get_article(CALL.id).storyline_id == second
    assert [(c.target_id, c.reason) for c in store.history(f"event:{event}")] == [
        (first, "new"),
        (second, "reclustered"),
    ]
    assert store.get_article(CALL_COPY.id).duplicate_of is None
    assert store.get_article(CALL.id).duplicate_of == CALL_COPY.id and store.counts().duplicates == 1


def test_articles_dated_since_a_day_or_ingested_since_a_time(store: Store) -> None:
    assert store.newest_times() == (None, None) and store.dated_since("2000-01-01", "") == []
    dated = {
        day: news(f"Report of {day}", f"text {day}") for day in ("2016-07-01", "2016-07-05", "2016-07-03")
    }
    undated = news("Undated report", "no date at all", day=None)
    with store.transaction():
        for day, article in dated.items():
            store.add_article(article, b"r", np.zeros(4), day)
        store.add_article(undated, b"r", np.zeros(4), None)
        store.add_article(CHEESE, b"r", np.zeros(4), "--07-09")  # year unknown: no full day
    newest_day, newest_ingest = store.newest_times()
    assert newest_day == "2016-07-05" and newest_ingest is not None and newest_ingest.startswith("20")
    since = store.dated_since("2016-07-03", "9999")
    assert [a.id for a in since] == [dated["2016-07-05"].id, dated["2016-07-03"].id]  # by rowid
    assert {a.id for a in store.dated_since("2016-08-01", newest_ingest)} == {undated.id, CHEESE.id}


def test_storylines_merge_and_list_largest_first(store: Store) -> None:
    with store.transaction():
        big, small = store.create_storyline(), store.create_storyline()
        event = store.create_event(big, np.ones(4, dtype=np.float32), {"n": 1})
        store.create_event(small, np.zeros(4, dtype=np.float32), {})
        record = store.get_event(event)
        record.size = 3
        store.save_event(record)
    assert [s.id for s in store.list_storylines()] == [big, small]
    assert store.get_event(event).stats == {"n": 1} and store.get_event(event).centroid.tolist() == [1.0] * 4
    with store.transaction():
        assert store.merge_storylines(small, big) != []
    assert store.get_storyline(small).merged_into == big and [s.id for s in store.list_storylines()] == [big]
    assert len(store.events_of_storyline(big)) == 2


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():  # nested: joins the outer one
            store.add_article(CALL, b"r", np.zeros(4), None)
        raise RuntimeError("crash between writes")
    assert not store.has_article(CALL.id) and store.counts().articles == 0
    assert store.search(TextQuery.from_text("kremlin")) == []


def test_keyword_search_over_title_and_text(store: Store) -> None:
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL, CHEESE])
    hits = store.search(TextQuery.from_text("normandy"))
    assert [h.article_id for h in hits] == [CHEESE.id] and "[Normandy]" in hits[0].snippet
    assert store.search(TextQuery.from_text("kremlin dairy")) == []
    either = store.search(TextQuery.from_text("kremlin dairy", match_all=False))
    assert {h.article_id for h in either} == {CALL.id, CHEESE.id} and either[0].score > 0
    assert len(store.search(TextQuery.from_text("kremlin dairy", match_all=False), limit=1)) == 1


def test_keyword_search_takes_no_operators(store: Store) -> None:
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL])
    for text in ('putin NEAR(obama) "syria" *', "putin OR -obama", "putin & !obama | 'x'", "putin:*"):
        assert [h.article_id for h in store.search(TextQuery.from_text(text, match_all=False))] == [CALL.id]


def test_term_frequencies_count_articles_per_word(store: Store) -> None:
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL, CALL_COPY, CHEESE, CHINESE])
    found = store.term_frequencies(["kremlin", "dairy", "普京", "absent"])
    assert found == {"kremlin": 2, "dairy": 1, "普京": 1, "absent": 0}


def test_articles_rowids_and_vectors_come_back_in_the_order_asked(store: Store) -> None:
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CALL, CHEESE, CHINESE])
    assert [s.id for s in store.get_articles([CHINESE.id, "missing", CALL.id])] == [CHINESE.id, CALL.id]
    assert store.get_articles([]) == []
    assert store.rowids().tolist() == [1, 2, 3] and store.rowids(after_rowid=2).tolist() == [3]
    rowids, vectors = next(store.iter_vectors())
    np.testing.assert_allclose(store.vectors_of([3, 1]), vectors[[2, 0]])
    assert len(store.vectors_of([])) == 0


def test_postgres_keyword_search_finds_chinese_words_inside_sentences(postgres_server: str) -> None:
    """Chinese has no spaces: PostgreSQL indexes characters and pairs (SQLite's FTS5 tokenizer
    keeps a whole run of Han characters as one token, so it is not part of the shared contract)."""
    from tests.conftest import fresh_postgres

    store = open_store(fresh_postgres(postgres_server))
    OnlineStoryClusterer(CosineComparer(), store).partial_fit([CHINESE, CALL])
    for query in ("奥巴马", "叙利亚 普京", "普京"):
        assert [h.article_id for h in store.search(TextQuery.from_text(query))] == [CHINESE.id], query
    store.close()


def test_vector_index_finds_the_nearest_and_is_shared(store: Store) -> None:
    comparer = CosineComparer()
    corpus = [news(f"Report {i}", f"word{i} word{i + 1} shared{i % 7}", day=None) for i in range(40)]
    clusterer = OnlineStoryClusterer(comparer, store)
    clusterer.partial_fit(corpus)
    index = store.vector_index(comparer.dim)
    assert index is clusterer.index  # one index per store: the clusterer's is search's
    probe = comparer.represent_many([corpus[25]])[0].vector
    ids, sims = index.search(probe, 5)
    assert ids[0] == store.get_article(corpus[25].id).rowid and sims[0] == pytest.approx(1.0, abs=0.01)
    assert list(sims) == sorted(sims, reverse=True) and len(ids) == 5
    rowids, vectors = zip(*store.iter_vectors(batch=16), strict=True)
    assert np.concatenate(rowids).tolist() == list(range(1, 41))
    assert np.vstack(vectors).shape == (40, comparer.dim)
    assert store.max_rowid() == 40


def test_engine_refuses_a_store_of_another_model(store_url: str) -> None:
    Engine.open(store_url, CosineComparer()).close()
    with pytest.raises(SettingsError, match="test-cosine-32"):
        Engine.open(store_url, CosineComparer(dim=32))


def test_backend_implements_the_protocols(store: Store) -> None:
    assert isinstance(store, Store) and isinstance(store.vector_index(4), VectorIndex)
    assert store.vector_index(4) is store.vector_index(4)


def test_meta_is_kept(store: Store) -> None:
    with store.transaction():
        store.set_meta("k", "1")
        store.set_meta("k", "2")
    assert store.get_meta("k") == "2" and store.get_meta("missing") is None
    assert len(store.get_meta("store_uuid") or "") == 32


def test_second_writer_waits_for_placement_and_readers_do_not(store_url: str) -> None:
    """Three connections (as three processes would): placement is one at a time; reads never wait.
    SQLite has one writing process by design, so there only reading is checked."""
    first, second, reader = open_store(store_url), open_store(store_url), open_store(store_url)
    shared = store_url.startswith("postgresql")
    order: list[str] = []

    def place_second() -> None:
        with second.placement():
            order.append("second")

    waiter = threading.Thread(target=place_second)
    with first.placement():
        if shared:
            waiter.start()
            time.sleep(0.3)
        assert reader.counts().articles == 0  # not blocked by the held placement
        order.append("first")
    if shared:
        waiter.join(5)
        assert order == ["first", "second"]
    for store in (first, second, reader):
        store.close()


def test_same_input_gives_the_same_clusters_on_every_backend(store_url: str, tmp_path: Path) -> None:
    """The reference is SQLite: each backend must partition the same stream the same way."""
    topics = ["syria ceasefire talks", "dairy farmers protest", "olympic marathon record", "bank rates"]
    corpus = [
        news(f"{topics[i % 4]} {i}", f"{topics[i % 4]} " * 3 + f"detail{i} extra{i // 4}", day=None)
        for i in range(32)
    ]

    def clusters(url: str) -> list[tuple[int, int]]:
        with Engine.open(url, CosineComparer()) as engine:
            IngestService(engine).run(corpus)
            stored = [engine.store.get_article(a.id) for a in corpus]
            return [(s.event_id, s.storyline_id) for s in stored]

    assert clusters(store_url) == clusters(str(tmp_path / "reference.db"))


def test_vector_search_ranks_exactly_and_breaks_ties_by_rowid(store: Store) -> None:
    """The index's k nearest are the exact ones over the stored half floats, copies in rowid order,
    whatever the backend's approximate index proposed (so every backend judges the same candidates)."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((120, 16)).astype(np.float32)
    vectors[60:70] = vectors[5]  # ten copies of one vector: a tie among eleven articles
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index, rowids = _indexed(store, vectors)
    stored = vectors.astype(np.float16).astype(np.float64)
    for probe in (vectors[5], vectors[17], rng.standard_normal(16).astype(np.float32)):
        exact = stored @ probe.astype(np.float64)
        ranked = sorted(range(120), key=lambda i: (-round(exact[i], 9), rowids[i]))
        expected = [rowids[i] for i in ranked[:10]]
        found, similarities = index.search(probe, 10)
        assert found.tolist() == expected
        np.testing.assert_allclose(similarities, exact[[rowids.index(r) for r in expected]], atol=1e-6)


def test_exact_top_k_ignores_the_order_and_extras_of_the_approximate_search() -> None:
    from storylines.store.index import exact_top_k

    vectors = np.array([[1, 0], [0.6, 0.8], [1, 0], [0, 1]], dtype=np.float16)
    query = np.array([1, 0], dtype=np.float32)
    ids, sims = exact_top_k(query, np.array([9, 4, 2, 7]), vectors, 2)
    assert ids.tolist() == [2, 9] and sims.tolist() == [1.0, 1.0]
    shuffled, _ = exact_top_k(query, np.array([7, 2, 4, 9]), vectors[::-1], 3)
    assert shuffled.tolist() == [2, 9, 4]
    empty, _ = exact_top_k(query, np.array([], dtype=np.int64), np.empty((0, 2)), 3)
    assert len(empty) == 0


def test_events_read_while_placing_follow_writes_and_rollbacks(store: Store) -> None:
    """PostgreSQL answers a placement's event reads from the rows fetched with the candidates:
    they must still show this placement's own writes, and forget rolled-back ones."""
    with store.transaction():
        event_id = store.create_event(store.create_storyline(), np.ones(4, dtype=np.float32), {"n": 1})
        rowid = store.add_article(CALL, b"r", np.ones(4), None)
        store.assign_article(CALL.id, event_id, "new event")
    with store.placement():
        (ref,) = store.get_refs([rowid])
        event = store.get_event(ref.event_id)
        assert event.stats == {"n": 1}
        event.stats["n"] = 5  # a caller's copy: not the store's until saved
        assert store.get_event(event_id).stats == {"n": 1}
        with store.transaction():
            event.size = 2
            store.save_event(event)
        assert (store.get_event(event_id).size, store.get_event(event_id).stats) == (2, {"n": 5})
        with pytest.raises(RuntimeError), store.transaction():
            event.size = 9
            store.save_event(event)
            raise RuntimeError("crash before commit")
        assert store.get_event(event_id).size == 2


def test_a_new_article_is_seen_before_and_after_it_joins_its_event(store: Store) -> None:
    """PostgreSQL writes a new article's row together with its event (one HNSW insert, not two);
    until then every read must still see it, and a rollback must leave nothing."""
    with store.transaction():
        event_id = store.create_event(store.create_storyline(), np.ones(4, dtype=np.float32), {})
        rowid = store.add_article(CALL, b"r", np.ones(4), None)
        assert store.get_article(CALL.id).event_id is None and store.has_article(CALL.id)
        store.assign_article(CALL.id, event_id, "new event")
        other = store.add_article(CHEESE, b"r", np.zeros(4), None)
        assert [r.id for r in store.get_refs([rowid])] == [CALL.id]  # read while CHEESE waits
        assert [r.id for r in store.get_refs([other, rowid])] == [CHEESE.id, CALL.id]
        store.assign_article(CHEESE.id, event_id, "joined")
        late = store.add_article(CHINESE, b"r", np.ones(4), None)  # assigned after the commit
    assert store.get_refs([late])[0].event_id is None
    with store.transaction():
        store.assign_article(CHINESE.id, event_id, "joined")
    assert [r.event_id for r in store.get_refs([rowid, other, late])] == [event_id] * 3
    assert [c.reason for c in store.history(CHEESE.id)] == ["joined"]
    with pytest.raises(RuntimeError), store.transaction():
        store.add_article(CALL_COPY, b"r", np.ones(4), None)
        raise RuntimeError("crash before the event")
    assert not store.has_article(CALL_COPY.id) and store.counts().articles == 3


def test_small_stores_are_searched_whole_so_every_backend_proposes_the_same_candidates(store: Store) -> None:
    """Below ``EXACT_SEARCH_LIMIT`` every stored vector is compared.  Of 70 copies of one report
    (syndication: more than the RERANK_DEPTH × k an HNSW graph fetches) the 10 earliest come back;
    each backend's graph proposed 40 of them in its own way, and the SemEval stream then put 35
    articles in different storylines on SQLite and PostgreSQL."""
    from storylines.store.index import EXACT_SEARCH_LIMIT, RERANK_DEPTH

    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((300, 16)).astype(np.float32)
    copies = list(range(20, 300, 4))[:70]
    assert len(copies) > RERANK_DEPTH * 10 and len(vectors) <= EXACT_SEARCH_LIMIT
    vectors[copies] = vectors[7] + 0.001 * rng.standard_normal(16).astype(np.float32)
    vectors[copies[::2]] = vectors[copies[0]]  # exact copies interleaved with near ones
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index, rowids = _indexed(store, vectors)
    stored = vectors.astype(np.float16).astype(np.float64)
    probe = vectors[copies[0]]
    exact = stored @ probe.astype(np.float64)
    expected = sorted(range(len(vectors)), key=lambda i: (-round(exact[i], 9), rowids[i]))[:10]
    found, _ = index.search(probe, 10)
    assert found.tolist() == [rowids[i] for i in expected]


def _indexed(store: Store, vectors: np.ndarray) -> tuple[VectorIndex, list[int]]:
    """One article per row of ``vectors``, stored and added to a fresh index of the store."""
    index = store.vector_index(vectors.shape[1])
    with store.transaction():
        rowids = [
            store.add_article(news(f"Vector {i}", f"text {i}", day=None), b"r", v, None)
            for i, v in enumerate(vectors)
        ]
    index.add(np.array(rowids), vectors)
    return index, rowids
