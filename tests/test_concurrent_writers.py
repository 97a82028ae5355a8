"""Writers sharing one store: every stored article ends up in the vector index.

The index file once trusted a max-id watermark, so two concurrent ingests saved an index with
half the vectors that claimed to be complete.  Now it is checked against the store's ids.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storylines.article import Article
from storylines.cluster.online import OnlineStoryClusterer
from storylines.store import SQLiteStore
from storylines.store.index import VectorIndex, index_path
from tests.test_cluster_double import DIM, CosineComparer
from tests.test_ingest_cli import DOUBLE, stored_count, storylines_cli, write_corpus


def _ids(values: np.ndarray) -> list[int]:
    return sorted(int(value) for value in values)


def _saved_ids(store: SQLiteStore) -> list[int]:
    """Ids in the index file as saved, without the repair that opening does."""
    saved = VectorIndex.load(index_path(store.url), store.get_meta("store_uuid") or "", DIM)
    assert saved is not None
    return _ids(saved.ids())


def _article(writer: int, number: int) -> Article:
    topic = ["syria talks", "dairy prices", "marathon record"][number % 3]
    return Article(
        source=f"w{writer}", title=f"{topic} {writer}-{number}", raw_text=f"{topic} report {number}"
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 4), st.booleans()), min_size=1, max_size=12)
)
def test_store_and_index_agree_after_any_interleaving(tmp_path_factory, steps) -> None:
    """Two clusterers on one store file, each with its own connection and index, in any order of
    batches and saves: afterwards the saved index, and each writer's index, hold every stored id."""
    db = str(tmp_path_factory.mktemp("interleave") / "s.db")
    stores = [SQLiteStore(db), SQLiteStore(db)]
    writers = [OnlineStoryClusterer(CosineComparer(), store) for store in stores]
    counts = [0, 0]
    for writer, batch, save in steps:
        articles = [_article(writer, counts[writer] + i) for i in range(batch)]
        counts[writer] += batch
        writers[writer].index.catch_up()
        writers[writer].partial_fit(articles)
        if save:
            writers[writer].save_index()
    for writer in writers:
        writer.save_index()
    truth = _ids(stores[0].rowids())
    assert len(truth) == sum(counts)
    assert _saved_ids(stores[0]) == truth
    for writer in writers:
        writer.index.catch_up()
        assert _ids(writer.index._faiss.ids()) == truth
    assert _ids(VectorIndex.open_for(stores[0], DIM).ids()) == truth
    for store in stores:
        store.close()


@pytest.mark.slow
def test_two_ingests_and_the_server_taking_posts(tmp_path: Path, monkeypatch) -> None:
    """Two ``storylines ingest`` processes and the API's POSTs, all at once, into one store."""
    from storylines.serve.app import create_app

    monkeypatch.setenv("STORYLINES_COMPARER", DOUBLE)
    db = tmp_path / "shared.db"
    for name in ("a", "b"):
        write_corpus(tmp_path / name, 60)
        for path in (tmp_path / name).iterdir():  # distinct content per corpus
            path.write_text(path.read_text().replace("Headline", f"Corpus {name} headline"))
    SQLiteStore(str(db)).close()
    ingests = [
        storylines_cli("ingest", "--db", str(db), str(tmp_path / name), comparer=DOUBLE) for name in "ab"
    ]
    posted = []

    def post_batches() -> None:
        deadline = time.monotonic() + 120
        while stored_count(db) == 0 and time.monotonic() < deadline:  # post while the ingests write
            time.sleep(0.2)
        with TestClient(create_app(db, api_key="k")) as client:
            for batch in range(12):
                articles = [
                    {"title": f"Posted {batch}-{i}", "text": f"Posted report {batch} {i} on dairy prices"}
                    for i in range(3)
                ]
                response = client.post(
                    "/api/articles", json={"articles": articles}, headers={"X-API-Key": "k"}
                )
                posted.append(response.status_code)

    poster = threading.Thread(target=post_batches)
    poster.start()
    outputs = [ingest.communicate(timeout=600) for ingest in ingests]
    poster.join(timeout=600)
    assert [ingest.returncode for ingest in ingests] == [0, 0], [err[-2000:] for _, err in outputs]
    assert posted.count(200) == 12, posted
    store = SQLiteStore(str(db))
    truth = _ids(store.rowids())
    assert len(truth) == 2 * 60 + 12 * 3
    assert _saved_ids(store) == truth  # the last save holds everything, with no repair on open
    assert _ids(VectorIndex.open_for(store, DIM).ids()) == truth
    store.close()
    assert os.path.exists(index_path(str(db)))
