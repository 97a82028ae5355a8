"""Default :class:`~storylines.store.base.Store`: one SQLite file in WAL mode, no server.

Vectors are kept as float16 (768 bytes at 384-d): they only feed the 8-bit vector index and
the event centroids, so half precision loses nothing that matters and halves the disk cost.
Keyword search is FTS5; the vector index is faiss in a file beside the database, a cache
caught up from the store on open (:mod:`storylines.store.index`).
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import numpy as np

from storylines.article import Article
from storylines.store.base import SearchHit, TextQuery
from storylines.store.index import VectorIndex as FaissIndex
from storylines.store.index import index_path
from storylines.store.sql import SQLStore, placeholders
from storylines.store.words import segment_for_index

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS storylines(
    id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, merged_into INTEGER REFERENCES storylines(id));
CREATE TABLE IF NOT EXISTS events(
    id INTEGER PRIMARY KEY, storyline_id INTEGER NOT NULL REFERENCES storylines(id),
    size INTEGER NOT NULL DEFAULT 0, centroid BLOB NOT NULL, stats TEXT NOT NULL,
    created_at TEXT NOT NULL, merged_into INTEGER REFERENCES events(id));
CREATE INDEX IF NOT EXISTS events_storyline ON events(storyline_id);
CREATE TABLE IF NOT EXISTS articles(
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, text TEXT NOT NULL,
    lang TEXT, day TEXT, data TEXT NOT NULL, representation BLOB NOT NULL, vector BLOB NOT NULL,
    duplicate_of TEXT, event_id INTEGER REFERENCES events(id), added_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS articles_event ON articles(event_id);
CREATE TABLE IF NOT EXISTS history(
    seq INTEGER PRIMARY KEY, subject TEXT NOT NULL, target_id INTEGER NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_subject ON history(subject);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(
    title, text, content='articles', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS articles_vocab USING fts5vocab(articles_fts, row);
"""


def fts_query(query: TextQuery) -> str:
    """Every word quoted (FTS5 reads it as a phrase, never as an operator), joined by AND or OR."""
    return f" {'AND' if query.match_all else 'OR'} ".join(f'"{word}"' for word in query.words)


class SQLiteIndex:
    """The faiss index file of one SQLite store, guarded by a lock (faiss may not add and search
    at the same time) and caught up with articles other connections stored."""

    def __init__(self, store: SQLiteStore, dim: int):
        self.dim = dim
        self._store = store
        self._lock = threading.Lock()
        self._faiss = FaissIndex.open_for(store, dim, index_path(store.url))

    @property
    def ntotal(self) -> int:
        return self._faiss.ntotal

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Ids the index holds already are left out: a search's catch-up may have taken them."""
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            new = ids > self._faiss.max_id
            self._faiss.add(ids[new], np.asarray(vectors).reshape(len(ids), -1)[new])

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            return self._faiss.search_exact(self._store, vector, k)

    def catch_up(self) -> None:
        """Add what other connections stored, repairing from the store's ids (not a watermark)."""
        with self._lock:
            self._faiss.catch_up(self._store)

    def nbytes(self) -> int:
        with self._lock:
            return self._faiss.nbytes()

    def save(self) -> None:
        with self._lock:
            self._faiss.save(index_path(self._store.url), self._store.get_meta("store_uuid") or "")


class SQLiteStore(SQLStore):
    """Articles, representations, events, storylines and their history in one SQLite file."""

    def __init__(self, path: str):
        self.url = str(path)
        # another writer (a second ingest, the server) holds the write lock for one placement at a
        # time; on a busy machine that can exceed sqlite3's default 5 s wait, so wait longer
        self._db = sqlite3.connect(self.url, isolation_level=None, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA cache_size=-65536")  # 64 MB: candidate rows are random reads
        self._depth = 0
        self._index: SQLiteIndex | None = None
        self._db.executescript(SCHEMA)
        with self.transaction():
            if self.get_meta("store_uuid") is None:
                self.set_meta("store_uuid", uuid.uuid4().hex)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    # --- transactions -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested calls join the outermost transaction; it commits or rolls back as a whole."""
        if self._depth == 0:
            self._db.execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("ROLLBACK")
            raise
        self._depth -= 1
        if self._depth == 0:
            self._db.execute("COMMIT")

    def placement(self) -> AbstractContextManager[None]:
        """Nothing to hold: an embedded store has one writing process (``BEGIN IMMEDIATE``
        makes a second one wait), and its faiss index is that process's own."""
        return nullcontext()

    def close(self) -> None:
        self._db.close()

    def vector_index(self, dim: int) -> SQLiteIndex:
        if self._index is None or self._index.dim != dim:
            self._index = SQLiteIndex(self, dim)
        return self._index

    # --- backend specifics ----------------------------------------------------------------
    def _insert_article(self, article: Article, row: dict[str, Any], vector: np.ndarray) -> int:
        row["vector"] = np.asarray(vector, dtype=np.float16).tobytes()
        rowid = int(
            self._one(
                f"INSERT INTO articles({', '.join(row)}) VALUES ({placeholders(row)}) RETURNING rowid",
                list(row.values()),
            )
        )
        self._db.execute(
            "INSERT INTO articles_fts(rowid, title, text) VALUES (?,?,?)",
            (rowid, segment_for_index(article.title), segment_for_index(article.body)),
        )
        return rowid

    @staticmethod
    def _decode_vector(value: Any) -> np.ndarray:
        return np.frombuffer(value, dtype=np.float16)

    def search(self, query: TextQuery, limit: int = 20) -> list[SearchHit]:
        rows = self._db.execute(
            # FTS5's own rank column (bm25) sorts inside FTS5, so only the top rows are joined
            "SELECT a.id, a.title, snippet(articles_fts, 1, '[', ']', '…', 16), articles_fts.rank"
            " FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
            " WHERE articles_fts MATCH ? ORDER BY articles_fts.rank LIMIT ?",
            (fts_query(query), limit),
        ).fetchall()
        return [SearchHit(article_id=r[0], title=r[1], snippet=r[2], score=-r[3]) for r in rows]

    def term_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        rows = self._execute(
            f"SELECT term, doc FROM articles_vocab WHERE term IN ({placeholders(terms)})", list(terms)
        ).fetchall()
        return {term: 0 for term in terms} | dict(rows)

    def check_integrity(self) -> list[str]:
        """Problems found (empty when sound): SQLite's own check, orphans, unassigned articles."""
        problems = [r[0] for r in self._db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += self._consistency_problems()
        try:
            self._db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as error:
            problems.append(f"search index: {error}")
        return problems
